//! The SMS delivery port: `log` (log line + database outbox) or `webhook` (POST JSON to a relay).

use std::time::Duration;

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

#[derive(Debug, Clone)]
pub enum SmsSender {
    /// Writes each message to the log and to the `sms_outbox` table (the admin API reads it).
    Log,
    /// POSTs each message as JSON; 2xx = sent, 429 = rate limited, 422 = invalid phone.
    Webhook(WebhookSender),
}

#[derive(Debug, Clone)]
pub struct WebhookSender {
    pub url: String,
    pub timeout: Duration,
}

impl WebhookSender {
    pub async fn send(&self, message: &SmsMessage) -> SmsOutcome {
        let client = awc::Client::builder().timeout(self.timeout).finish();
        match client.post(&self.url).send_json(message).await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    SmsOutcome::Sent
                } else if status.as_u16() == 429 {
                    SmsOutcome::RateLimited
                } else if status.as_u16() == 422 {
                    SmsOutcome::InvalidPhone
                } else {
                    SmsOutcome::Failed(format!("webhook answered HTTP {status}"))
                }
            }
            Err(err) => SmsOutcome::Failed(format!("webhook unreachable: {err}")),
        }
    }
}

/// The text of the SMS for a purpose.
pub fn message_text(code: &str, ttl_minutes: u64) -> String {
    format!("您的验证码是{code}，{ttl_minutes}分钟内有效。请勿泄露给他人。")
}
