//! The SMS delivery port: `log` (log line + database outbox), `webhook` (JSON to a relay),
//! `aliyun` and `tencent` (their `SendSms` APIs), with an optional fallback provider, retries only
//! where a message cannot have gone out, and one deadline for the whole delivery.

use std::time::{Duration, Instant};

use crate::providers::aliyun_sms::{self, AliyunSms};
use crate::providers::sms::{self as wire, HttpCall, ProviderAnswer, Verdict};
use crate::providers::tencent_sms::{self, TencentSms};

/// One message to deliver.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SmsMessage {
    pub region: String,
    pub phone: String,
    pub code: String,
    pub purpose: String,
    pub dialect: String,
    pub message: String,
    pub sent_at: i64,
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    Sent,
    /// The provider refused this number for its frequency policy.
    RateLimited,
    /// The provider says the number itself is unusable.
    InvalidPhone,
    /// Anything else: transport errors, timeouts, provider errors. Never swallowed.
    Failed(String),
}

impl SmsOutcome {
    /// The outbox's and the admin API's name of the outcome.
    pub fn name(&self) -> &'static str {
        match self {
            SmsOutcome::Sent => "sent",
            SmsOutcome::RateLimited => "rate_limited",
            SmsOutcome::InvalidPhone => "invalid_phone",
            SmsOutcome::Failed(_) => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub enum SmsSender {
    /// Writes each message to the log and to the `sms_outbox` table (the admin API reads it).
    Log,
    /// POSTs each message as JSON; 2xx = sent, 429 = rate limited, 422 = invalid phone.
    Webhook(WebhookSender),
    Aliyun(AliyunSms),
    Tencent(TencentSms),
}

#[derive(Debug, Clone)]
pub struct WebhookSender {
    /// `http://` or `https://`.
    pub url: String,
}

impl SmsSender {
    /// The provider's name in the settings, the outbox and the logs.
    pub fn name(&self) -> &'static str {
        match self {
            SmsSender::Log => "log",
            SmsSender::Webhook(_) => "webhook",
            SmsSender::Aliyun(_) => "aliyun",
            SmsSender::Tencent(_) => "tencent",
        }
    }
}

/// How codes leave: a provider, perhaps a second one for when the first fails, and the time
/// limits the dialect's answer waits for.
#[derive(Debug, Clone)]
pub struct SmsDelivery {
    pub primary: SmsSender,
    pub fallback: Option<SmsSender>,
    /// One call to a provider, connecting included.
    pub attempt_timeout: Duration,
    /// Every call of one delivery together (retries and the fallback included).
    pub deadline: Duration,
}

/// How long one provider call may take: the providers answer in well under a second.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a delivery may take in all: the primary's call, a retry of a call that never left,
/// and the fallback's call, well within the time a mobile app waits for its answer.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(7);
/// A call is not started with less time than this left.
const SHORTEST_CALL: Duration = Duration::from_millis(300);
/// Calls of one sender for one message: the first, and one more when the first provably did
/// not go out (or Aliyun refused a nonce before acting).
const CALLS_PER_SENDER: usize = 2;

/// One call to a provider and what came of it, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub provider: &'static str,
    pub outcome: SmsOutcome,
    pub message_id: Option<String>,
    pub request_id: Option<String>,
    /// The provider's own code and message, or why there was no answer.
    pub detail: Option<String>,
    /// The answer needs an operator (credentials, account, template, signature, clock).
    pub alert: bool,
}

/// Calls a network sender (anything but `Log`) until it answers for good, within `until`.
/// `now_ms` is the clock requests are signed with.
pub async fn call_provider(
    sender: &SmsSender,
    message: &SmsMessage,
    now_ms: impl Fn() -> i64,
    attempt_timeout: Duration,
    until: Instant,
) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    for _ in 0..CALLS_PER_SENDER {
        let left = until.saturating_duration_since(Instant::now());
        if left < SHORTEST_CALL {
            if attempts.is_empty() {
                attempts.push(attempt(
                    sender,
                    ProviderAnswer::failed("no time left for the call", false),
                ));
            }
            break;
        }
        let Some((call, read)) = prepare(sender, message, now_ms()) else {
            attempts.push(attempt(
                sender,
                ProviderAnswer::failed("the log provider makes no calls", true),
            ));
            break;
        };
        let (answer, repeatable) = match wire::send(&call, attempt_timeout.min(left)).await {
            Ok((status, body)) => {
                let answer = read(status, &body);
                let repeatable = answer.retry_with_new_signature;
                (answer, repeatable)
            }
            Err(unanswered) => (
                ProviderAnswer::failed(unanswered.reason, false),
                unanswered.never_sent,
            ),
        };
        log_answer(sender.name(), message, &answer);
        let done = answer.verdict != Verdict::Failed || !repeatable;
        attempts.push(attempt(sender, answer));
        if done {
            break;
        }
    }
    attempts
}

type ReadAnswer = Box<dyn Fn(u16, &[u8]) -> ProviderAnswer + Send>;

/// The signed call for `message` and how its answer is read; `None` for `Log`.
fn prepare(
    sender: &SmsSender,
    message: &SmsMessage,
    now_ms: i64,
) -> Option<(HttpCall, ReadAnswer)> {
    match sender {
        SmsSender::Log => None,
        SmsSender::Webhook(webhook) => Some((
            HttpCall {
                method: "POST",
                url: webhook.url.clone(),
                headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
                // A struct of strings and numbers always serialises.
                body: serde_json::to_vec(message).unwrap_or_default(),
            },
            Box::new(read_webhook_answer),
        )),
        SmsSender::Aliyun(account) => {
            let number = aliyun_sms::phone_number(&message.region, &message.phone);
            let nonce = uuid::Uuid::new_v4().simple().to_string();
            Some((
                account.request(&number, &message.code, &nonce, now_ms),
                Box::new(aliyun_sms::read_answer),
            ))
        }
        SmsSender::Tencent(app) => {
            let number = tencent_sms::phone_number(&message.region, &message.phone);
            let call = app.request(&number, &message.code, now_ms);
            Some((
                call,
                Box::new(move |status, body| tencent_sms::read_answer(status, body, &number)),
            ))
        }
    }
}

/// A relay's answer: 2xx sent (its JSON `message_id`, if any, is the receipt), 429 rate
/// limited, 422 invalid phone, anything else failed.
fn read_webhook_answer(status: u16, body: &[u8]) -> ProviderAnswer {
    let verdict = match status {
        200..=299 => Verdict::Sent,
        429 => Verdict::RateLimited,
        422 => Verdict::InvalidPhone,
        _ => Verdict::Failed,
    };
    let receipt = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|json| match &json["message_id"] {
            serde_json::Value::String(id) => Some(id.clone()),
            serde_json::Value::Number(id) => Some(id.to_string()),
            _ => None,
        });
    ProviderAnswer {
        verdict,
        message_id: receipt.filter(|_| verdict == Verdict::Sent),
        request_id: None,
        detail: format!("HTTP {status}"),
        // A relay that fails for everyone is the operator's to fix.
        alert: verdict == Verdict::Failed && status != 503,
        retry_with_new_signature: false,
    }
}

fn attempt(sender: &SmsSender, answer: ProviderAnswer) -> Attempt {
    let outcome = match answer.verdict {
        Verdict::Sent => SmsOutcome::Sent,
        Verdict::RateLimited => SmsOutcome::RateLimited,
        Verdict::InvalidPhone => SmsOutcome::InvalidPhone,
        Verdict::Failed => SmsOutcome::Failed(format!("{}: {}", sender.name(), answer.detail)),
    };
    Attempt {
        provider: sender.name(),
        alert: answer.alert && answer.verdict == Verdict::Failed,
        outcome,
        message_id: answer.message_id,
        request_id: answer.request_id,
        detail: Some(answer.detail),
    }
}

/// Logs a provider's answer with its code, message and request id: never the SMS code, a
/// secret or a signature.
fn log_answer(provider: &str, message: &SmsMessage, answer: &ProviderAnswer) {
    let phone =
        crate::domain::phone::Phone::from_stored(message.region.clone(), message.phone.clone())
            .masked();
    let request_id = answer.request_id.as_deref().unwrap_or("-");
    match answer.verdict {
        Verdict::Sent => {
            tracing::info!(provider, %phone, purpose = %message.purpose, request_id, "SMS sent");
        }
        Verdict::RateLimited | Verdict::InvalidPhone => tracing::warn!(
            provider, %phone, request_id, detail = %answer.detail,
            "SMS refused for this number"
        ),
        Verdict::Failed if answer.alert => tracing::error!(
            provider, %phone, request_id, detail = %answer.detail, alert = true,
            "SMS provider refused the message: check the provider settings and account"
        ),
        Verdict::Failed => tracing::error!(
            provider, %phone, request_id, detail = %answer.detail,
            "SMS delivery failed"
        ),
    }
}

/// The text of the SMS for a purpose.
pub fn message_text(code: &str, ttl_minutes: u64) -> String {
    format!("您的验证码是{code}，{ttl_minutes}分钟内有效。请勿泄露给他人。")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_answer_by_status_with_an_optional_receipt() {
        let sent = read_webhook_answer(200, br#"{"message_id":"m-1"}"#);
        assert_eq!(sent.verdict, Verdict::Sent);
        assert_eq!(sent.message_id.as_deref(), Some("m-1"));
        assert_eq!(
            read_webhook_answer(202, br#"{"message_id":42}"#)
                .message_id
                .as_deref(),
            Some("42")
        );
        assert_eq!(read_webhook_answer(204, b"").message_id, None);
        assert_eq!(read_webhook_answer(429, b"").verdict, Verdict::RateLimited);
        assert_eq!(read_webhook_answer(422, b"").verdict, Verdict::InvalidPhone);
        let failed = read_webhook_answer(500, br#"{"message_id":"m-2"}"#);
        assert_eq!((failed.verdict, failed.message_id), (Verdict::Failed, None));
        assert_eq!(failed.detail, "HTTP 500");
    }
}
