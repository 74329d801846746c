//! SMS verification codes per `(phone, purpose)`, their throttles, and verification tickets.

use std::time::{Duration, Instant};

use super::guesses::Guesser;
use super::sms_sender::{Attempt, SmsMessage, SmsOutcome, SmsSender, call_provider, message_text};
use super::sms_stats::SmsStats;
use super::{Service, SmsPolicy, logged_internal, random_digits};
use crate::domain::phone::Phone;
use crate::domain::{CoreError, Guessed};
use crate::storage;
use crate::storage::models::{NewOutboxRow, SmsCodeRow, TicketRow};

/// Wrong guesses after which a code is dead until a new one is sent.
pub const MAX_WRONG_ATTEMPTS: i32 = 5;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// Daily caps follow the calendar day of the documents' users (Asia/Shanghai, UTC+8).
const SHANGHAI_OFFSET_MS: i64 = 8 * HOUR_MS;

/// A dialect's own SMS rules: each `None` falls back to the global `[sms]` settings. A dialect
/// with its own daily cap counts its own sends to a phone against it; otherwise every send to
/// the phone counts against the global cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsRules {
    /// 4 to 6 digits.
    pub code_length: usize,
    pub code_ttl: Option<Duration>,
    pub resend_interval: Option<Duration>,
    pub daily_limit_per_phone: Option<u32>,
}

impl SmsRules {
    /// Codes of `code_length` digits under the global settings.
    pub const fn global(code_length: usize) -> SmsRules {
        SmsRules {
            code_length,
            code_ttl: None,
            resend_interval: None,
            daily_limit_per_phone: None,
        }
    }
}

/// What the phone's account must be for a code to be sent (checked before anything is
/// counted or sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneMust {
    /// Any phone.
    BeAny,
    /// Registered (a password reset): otherwise `UserNotFound`.
    BeRegistered,
    /// Not registered yet (a sign-up): otherwise `PhoneAlreadyRegistered`.
    BeNew,
}

/// A request for a code.
#[derive(Debug, Clone)]
pub struct CodeRequest<'a> {
    pub phone: &'a Phone,
    /// The dialect's name for what the code is for (`register`, `signup`, `resetPassword`, …).
    pub purpose: &'a str,
    pub dialect: &'a str,
    pub rules: SmsRules,
    pub phone_must: PhoneMust,
    pub client_ip: Option<&'a str>,
}

/// Proof that a phone was verified for a purpose, by a code just checked or a live ticket. Only the
/// service makes one, so `register` and `reset_password` can trust it, and each dialect can
/// verify first and run its other checks in its document's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPhone {
    phone: Phone,
    purpose: String,
}

impl VerifiedPhone {
    pub fn phone(&self) -> &Phone {
        &self.phone
    }

    pub fn purpose(&self) -> &str {
        &self.purpose
    }
}

/// A dialect's legacy universal code (test mode only): accepted in place of the sent code,
/// but only where a code was sent and has not expired, as SealTalk's `9999` was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniversalCode<'a>(pub &'a str);

/// One delivery attempt in the outbox: the `log` sender's messages, and every call to a real
/// provider with what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub region: String,
    pub phone: String,
    pub code: String,
    pub purpose: String,
    pub dialect: String,
    pub sent_at: i64,
    /// `log`, `webhook`, `aliyun` or `tencent`.
    pub provider: String,
    /// `sent`, `rate_limited`, `invalid_phone` or `failed`.
    pub outcome: String,
    /// The provider's receipt (Aliyun `BizId`, Tencent `SerialNo`, a relay's `message_id`).
    pub message_id: Option<String>,
    pub request_id: Option<String>,
    /// The provider's own code and message, or why it did not answer.
    pub detail: Option<String>,
}

impl OutboxMessage {
    pub fn was_sent(&self) -> bool {
        self.outcome == "sent"
    }
}

/// A ticket that proves a phone was verified for a purpose, for flows that verify first and
/// act later (SealTalk's `verification_token`). `expires_at` is `i64::MAX` for a ticket
/// without a lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub ticket: String,
    pub phone: Phone,
    pub purpose: String,
    pub expires_at: i64,
}

/// Start of the UTC+8 calendar day containing `now`.
pub fn shanghai_day_start(now: i64) -> i64 {
    (now + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS) * DAY_MS - SHANGHAI_OFFSET_MS
}

fn codes_equal(a: &str, b: &str) -> bool {
    crate::domain::credential::constant_time_eq(a.as_bytes(), b.as_bytes())
}

impl Service {
    fn new_code(&self, length: usize) -> String {
        if self.config().testing.enabled
            && let Some(fixed) = &self.config().testing.fixed_code
        {
            return fixed.clone();
        }
        random_digits(length)
    }

    /// Generates, stores and sends a code. Refusals, in order: the phone's precondition
    /// (`UserNotFound` / `PhoneAlreadyRegistered`), the resend interval
    /// (`SmsTooSoon`), the daily cap per phone (`SmsDailyLimit`), the hourly cap per client
    /// address (`SmsIpLimit`). A failed
    /// delivery withdraws the code and is reported (`SmsSendFailed`), never swallowed.
    pub async fn send_code(&self, request: CodeRequest<'_>) -> Result<i64, CoreError> {
        let rules = request.rules;
        if !(4..=6).contains(&rules.code_length) {
            return Err(logged_internal(format!(
                "code length {} is outside 4..=6",
                rules.code_length
            )));
        }
        match request.phone_must {
            PhoneMust::BeAny => {}
            PhoneMust::BeRegistered => {
                if !self.is_phone_registered(request.phone).await? {
                    return Err(CoreError::UserNotFound);
                }
            }
            PhoneMust::BeNew => {
                if self.is_phone_registered(request.phone).await? {
                    return Err(CoreError::PhoneAlreadyRegistered);
                }
            }
        }
        let global = self.config().sms.clone();
        let policy = SmsPolicy {
            code_ttl: rules.code_ttl.unwrap_or(global.code_ttl),
            resend_interval: rules.resend_interval.unwrap_or(global.resend_interval),
            daily_limit_per_phone: rules
                .daily_limit_per_phone
                .unwrap_or(global.daily_limit_per_phone),
            hourly_limit_per_ip: global.hourly_limit_per_ip,
        };
        let now = self.now_ms();
        let code = self.new_code(rules.code_length);
        let ttl_ms = i64::try_from(policy.code_ttl.as_millis()).unwrap_or(i64::MAX);
        let interval_ms = i64::try_from(policy.resend_interval.as_millis()).unwrap_or(i64::MAX);
        let row = SmsCodeRow {
            region: request.phone.region().to_owned(),
            phone: request.phone.number().to_owned(),
            purpose: request.purpose.to_owned(),
            code: code.clone(),
            sent_at: now,
            expires_at: now.saturating_add(ttl_ms),
            failed_attempts: 0,
            consumed: false,
        };
        let ip = request.client_ip.map(str::to_owned);
        let own_daily_cap = rules.daily_limit_per_phone.is_some();
        let dialect = request.dialect.to_owned();
        let stored = row.clone();
        self.write(move |conn| {
            if !storage::sms::put_code_if_idle(conn, &stored, now - interval_ms)? {
                return Err(CoreError::SmsTooSoon);
            }
            // A dialect with its own cap counts its own sends; otherwise every send to the
            // phone counts against the global cap.
            let subject = if own_daily_cap {
                format!("{dialect}:{}:{}", stored.region, stored.phone)
            } else {
                format!("{}:{}", stored.region, stored.phone)
            };
            let today = storage::sms::hit_counter(
                conn,
                "sms_phone_day",
                &subject,
                shanghai_day_start(now),
            )?;
            if policy.daily_limit_per_phone > 0 && today as u32 > policy.daily_limit_per_phone {
                return Err(CoreError::SmsDailyLimit);
            }
            if let Some(ip) = &ip {
                let window = now.div_euclid(HOUR_MS) * HOUR_MS;
                let hits = storage::sms::hit_counter(conn, "sms_ip_hour", ip, window)?;
                if policy.hourly_limit_per_ip > 0 && hits as u32 > policy.hourly_limit_per_ip {
                    return Err(CoreError::SmsIpLimit);
                }
            }
            Ok(())
        })
        .await?;

        let message = SmsMessage {
            region: row.region.clone(),
            phone: row.phone.clone(),
            code,
            purpose: row.purpose.clone(),
            dialect: request.dialect.to_owned(),
            message: message_text(&row.code, policy.code_ttl.as_secs().div_ceil(60)),
            sent_at: now,
        };
        let refusal = match self.deliver(&message).await {
            SmsOutcome::Sent => return Ok(row.expires_at),
            SmsOutcome::RateLimited => CoreError::SmsTooSoon,
            SmsOutcome::InvalidPhone => {
                tracing::warn!(phone = %request.phone, "SMS provider refused a number the local rule accepted");
                CoreError::SmsRejectedPhone
            }
            SmsOutcome::Failed(reason) => {
                tracing::error!(phone = %request.phone, %reason, "SMS delivery failed");
                CoreError::SmsSendFailed
            }
        };
        // The message never left: withdraw the code so the user may ask again at once.
        let (region, phone, purpose) = (row.region, row.phone, row.purpose);
        self.write(move |conn| {
            storage::sms::withdraw_code(conn, &region, &phone, &purpose).map_err(CoreError::from)
        })
        .await?;
        Err(refusal)
    }

    /// Delivers through the primary sender, then the fallback when the primary failed (a
    /// refusal of the number is an answer, not a failure), all within the delivery's deadline;
    /// every call goes to the outbox with its outcome.
    async fn deliver(&self, message: &SmsMessage) -> SmsOutcome {
        let delivery = &self.inner.sms;
        let until = Instant::now() + delivery.deadline;
        let mut attempts = Vec::new();
        let mut outcome = SmsOutcome::Failed("no SMS sender".to_owned());
        for sender in std::iter::once(&delivery.primary).chain(&delivery.fallback) {
            if !matches!(outcome, SmsOutcome::Failed(_)) {
                break;
            }
            if matches!(sender, SmsSender::Log) {
                outcome = self.log_and_keep(message).await;
                continue;
            }
            let clock = self.inner.clock.clone();
            let calls = call_provider(
                sender,
                message,
                move || clock.now_ms(),
                delivery.attempt_timeout,
                until,
            )
            .await;
            if let Some(last) = calls.last() {
                outcome = last.outcome.clone();
            }
            for call in &calls {
                self.inner.sms_stats.count(call);
            }
            attempts.extend(calls);
        }
        if !attempts.is_empty() {
            self.keep_attempts(message, attempts).await;
        }
        outcome
    }

    /// The `log` sender: the message goes to the log (its code only in test mode) and to the
    /// outbox, which is its delivery.
    async fn log_and_keep(&self, message: &SmsMessage) -> SmsOutcome {
        let testing = self.config().testing.enabled;
        let masked = Phone::from_stored(message.region.clone(), message.phone.clone()).masked();
        if testing {
            tracing::info!(phone = %masked, purpose = %message.purpose, code = %message.code, "SMS (log provider)");
        } else {
            tracing::info!(phone = %masked, purpose = %message.purpose, "SMS (log provider) written to the outbox");
        }
        let mut kept = Attempt {
            provider: "log",
            outcome: SmsOutcome::Sent,
            message_id: None,
            request_id: None,
            detail: None,
            alert: false,
        };
        let outcome = match self.push_outbox(message, vec![kept.clone()]).await {
            Ok(()) => SmsOutcome::Sent,
            Err(err) => SmsOutcome::Failed(err.to_string()),
        };
        kept.outcome = outcome.clone();
        self.inner.sms_stats.count(&kept);
        outcome
    }

    /// Keeps a provider's calls in the outbox. The message has already gone (or not) by then:
    /// a database that cannot take the record costs the record, not the answer.
    async fn keep_attempts(&self, message: &SmsMessage, attempts: Vec<Attempt>) {
        if let Err(err) = self.push_outbox(message, attempts).await {
            tracing::error!(%err, "the SMS outbox could not record a delivery");
        }
    }

    async fn push_outbox(
        &self,
        message: &SmsMessage,
        attempts: Vec<Attempt>,
    ) -> Result<(), CoreError> {
        let owned = message.clone();
        self.write(move |conn| {
            let rows: Vec<NewOutboxRow<'_>> = attempts
                .iter()
                .map(|attempt| NewOutboxRow {
                    region: &owned.region,
                    phone: &owned.phone,
                    code: &owned.code,
                    purpose: &owned.purpose,
                    dialect: &owned.dialect,
                    message: &owned.message,
                    sent_at: owned.sent_at,
                    provider: attempt.provider,
                    outcome: attempt.outcome.name(),
                    message_id: attempt.message_id.as_deref(),
                    request_id: attempt.request_id.as_deref(),
                    detail: attempt.detail.as_deref(),
                })
                .collect();
            storage::sms::push_outbox(conn, &rows).map_err(CoreError::from)
        })
        .await
    }

    /// This process's calls to the SMS providers, for its metrics.
    pub fn sms_stats(&self) -> &SmsStats {
        &self.inner.sms_stats
    }

    /// Checks a code and consumes it, proving the phone. Refusals, in order: no code was sent
    /// for this phone and purpose (`CodeNotRequested`), it has expired (`CodeExpired`), then —
    /// unless it is the dialect's universal code (test mode only) — it was used or guessed
    /// wrong [`MAX_WRONG_ATTEMPTS`] times, or it is wrong (`CodeWrong`).
    pub async fn verify_code(
        &self,
        phone: &Phone,
        purpose: &str,
        code: &str,
        universal: Option<UniversalCode<'_>>,
    ) -> Result<VerifiedPhone, CoreError> {
        self.verify_code_from(phone, purpose, code, universal, None)
            .await
    }

    /// [`Service::verify_code`] for a client at `from`: wrong codes (and codes for phones that
    /// were sent none) are counted per address, and past the limit every attempt from there is
    /// refused with `GuessingThrottled` — so that nobody can try 5 guesses on each of many
    /// phones.
    pub async fn verify_code_from(
        &self,
        phone: &Phone,
        purpose: &str,
        code: &str,
        universal: Option<UniversalCode<'_>>,
        from: Option<&str>,
    ) -> Result<VerifiedPhone, CoreError> {
        let (region, number, owned_purpose, code) = (
            phone.region().to_owned(),
            phone.number().to_owned(),
            purpose.to_owned(),
            code.trim().to_owned(),
        );
        let universal = universal
            .filter(|_| self.config().testing.enabled)
            .map(|u| u.0.to_owned());
        let now = self.now_ms();
        let guesser = Guesser::new(&self.config().login, from, None, now, Guessed::Code);
        self.write(move |conn| {
            if let Some(guesser) = &guesser
                && let Err(throttled) = guesser.check(conn)
            {
                return Ok(Err(throttled));
            }
            let verdict = check_code(
                conn,
                &region,
                &number,
                &owned_purpose,
                &code,
                universal.as_deref(),
                now,
            )?;
            // A refusal's counts must be committed too: the refusal is the transaction's
            // answer, not its failure.
            if verdict.is_err()
                && let Some(guesser) = &guesser
            {
                guesser.failed(conn)?;
            }
            Ok(verdict)
        })
        .await??;
        Ok(VerifiedPhone {
            phone: phone.clone(),
            purpose: purpose.to_owned(),
        })
    }

    /// Verifies a code (from a client at `from`, see [`Service::verify_code_from`]) and returns
    /// a ticket for the phone and purpose; while it lives, the phone
    /// keeps the same ticket (SealTalk clients reuse it for register and reset). `lifetime`
    /// `None` is a ticket that never expires.
    pub async fn verify_code_for_ticket(
        &self,
        phone: &Phone,
        purpose: &str,
        code: &str,
        universal: Option<UniversalCode<'_>>,
        lifetime: Option<Duration>,
        from: Option<&str>,
    ) -> Result<Ticket, CoreError> {
        self.verify_code_from(phone, purpose, code, universal, from)
            .await?;
        let now = self.now_ms();
        let expires_at = lifetime.map_or(i64::MAX, |lifetime| {
            now.saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX))
        });
        let (region, number, purpose) = (
            phone.region().to_owned(),
            phone.number().to_owned(),
            purpose.to_owned(),
        );
        let row = self
            .write(move |conn| {
                if let Some(live) =
                    storage::sms::live_ticket(conn, &region, &number, &purpose, now)?
                {
                    return Ok(live);
                }
                let row = TicketRow {
                    ticket: uuid::Uuid::new_v4().to_string(),
                    region,
                    phone: number,
                    purpose,
                    created_at: now,
                    expires_at,
                };
                storage::sms::insert_ticket(conn, &row)?;
                Ok(row)
            })
            .await?;
        Ok(ticket_from_row(row))
    }

    /// The phone a ticket proves for `purpose`; tickets stay usable until they expire, and a
    /// ticket of another purpose is unknown here.
    pub async fn redeem_ticket(
        &self,
        ticket: &str,
        purpose: &str,
    ) -> Result<VerifiedPhone, CoreError> {
        let key = ticket.trim().to_ascii_lowercase();
        let now = self.now_ms();
        let row = self
            .db(move |conn| storage::sms::find_ticket(conn, &key).map_err(CoreError::from))
            .await?
            .filter(|row| row.expires_at > now && row.purpose == purpose)
            .ok_or(CoreError::TicketUnknown)?;
        Ok(VerifiedPhone {
            phone: Phone::from_stored(row.region, row.phone),
            purpose: row.purpose,
        })
    }

    /// The `log` sender's outbox, newest first.
    pub async fn sms_outbox(
        &self,
        national_number: Option<String>,
    ) -> Result<Vec<OutboxMessage>, CoreError> {
        let rows = self
            .db(move |conn| {
                storage::sms::outbox(conn, national_number.as_deref(), 200).map_err(CoreError::from)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxMessage {
                region: r.region,
                phone: r.phone,
                code: r.code,
                purpose: r.purpose,
                dialect: r.dialect,
                sent_at: r.sent_at,
                provider: r.provider,
                outcome: r.outcome,
                message_id: r.message_id,
                request_id: r.request_id,
                detail: r.detail,
            })
            .collect())
    }
}

fn ticket_from_row(row: TicketRow) -> Ticket {
    Ticket {
        ticket: row.ticket,
        phone: Phone::from_stored(row.region, row.phone),
        purpose: row.purpose,
        expires_at: row.expires_at,
    }
}

/// Checks a code and consumes it when right, counting a wrong one against it. Refusals, in
/// order: no code for this phone and purpose, expired, then — unless it is the universal code —
/// used or guessed wrong too often, or wrong.
fn check_code(
    conn: &mut crate::storage::DbConnection,
    region: &str,
    number: &str,
    purpose: &str,
    code: &str,
    universal: Option<&str>,
    now: i64,
) -> Result<Result<(), CoreError>, CoreError> {
    let Some(row) = storage::sms::find_code(conn, region, number, purpose)? else {
        return Ok(Err(CoreError::CodeNotRequested));
    };
    if now >= row.expires_at {
        return Ok(Err(CoreError::CodeExpired));
    }
    let is_universal = universal.is_some_and(|universal| codes_equal(code, universal));
    if !is_universal {
        if row.consumed || row.failed_attempts >= MAX_WRONG_ATTEMPTS {
            return Ok(Err(CoreError::CodeWrong));
        }
        if !codes_equal(code, &row.code) {
            storage::sms::count_wrong_code(conn, &row)?;
            return Ok(Err(CoreError::CodeWrong));
        }
    }
    storage::sms::consume_code(conn, &row)?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_follow_shanghai() {
        // 2026-11-20T16:00:00Z is midnight in Shanghai.
        let midnight = 1_795_190_400_000;
        assert_eq!(shanghai_day_start(midnight), midnight);
        assert_eq!(shanghai_day_start(midnight + DAY_MS - 1), midnight);
        assert_eq!(shanghai_day_start(midnight - 1), midnight - DAY_MS);
    }
}
