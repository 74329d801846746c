//! What the SMS providers share: one result type for every provider's answer (sent, rate
//! limited, invalid phone, failed), the signed HTTP call an adapter builds, and its transport,
//! which tells a request that never left from one that may have been acted on.

use std::time::Duration;

/// The gateway's reading of a provider's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Sent,
    /// The provider refused this number for its frequency policy.
    RateLimited,
    /// The provider says the number itself is unusable.
    InvalidPhone,
    /// Anything else: account, template, signature, credentials, provider errors, transport.
    Failed,
}

/// One provider answer, reduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAnswer {
    pub verdict: Verdict,
    /// The provider's receipt for the message (Aliyun `BizId`, Tencent `SerialNo`).
    pub message_id: Option<String>,
    /// The provider's id of the call, for its support desk.
    pub request_id: Option<String>,
    /// The provider's own code and message, verbatim (never a secret, a signature or the code).
    pub detail: String,
    /// Needs an operator (configuration, account, credentials, clock): every user is affected.
    pub alert: bool,
    /// Refused before anything was sent, for a reason a fresh signature cures (Aliyun
    /// `SignatureNonceUsed`): safe to ask once more.
    pub retry_with_new_signature: bool,
}

/// A provider's own answer: its `code` and `message`, the receipt and request id it gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coded {
    pub code: String,
    pub message: String,
    pub receipt: Option<String>,
    pub request_id: Option<String>,
}

impl ProviderAnswer {
    /// Reads `answer` by its code with the provider's `classify` (`(verdict, alert)`); the
    /// receipt is kept only for a sent message, the detail is `code: message`.
    pub fn from_code(answer: Coded, classify: fn(&str) -> (Verdict, bool)) -> ProviderAnswer {
        let (verdict, alert) = classify(&answer.code);
        ProviderAnswer {
            verdict,
            message_id: answer
                .receipt
                .filter(|id| !id.is_empty() && verdict == Verdict::Sent),
            request_id: answer.request_id,
            detail: if answer.message.is_empty() {
                answer.code
            } else {
                format!("{}: {}", answer.code, answer.message)
            },
            alert,
            retry_with_new_signature: false,
        }
    }

    pub fn failed(detail: impl Into<String>, alert: bool) -> ProviderAnswer {
        ProviderAnswer {
            verdict: Verdict::Failed,
            message_id: None,
            request_id: None,
            detail: detail.into(),
            alert,
            retry_with_new_signature: false,
        }
    }
}

/// A signed request, ready for the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    pub method: &'static str,
    pub url: String,
    /// Sent exactly as given (the signatures cover some of them).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a call has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    pub reason: String,
    /// The request provably never reached the provider (no connection was made): safe to
    /// repeat. After a connection, a repeat could send a second message.
    pub never_sent: bool,
}

/// The most of an answer's body that is read.
const ANSWER_LIMIT: usize = 256 * 1024;

/// Sends `call`; the whole answer (head and body) must come within `timeout`.
pub async fn send(call: &HttpCall, timeout: Duration) -> Result<(u16, Vec<u8>), Unanswered> {
    let client = super::https::client(timeout, super::https::ClientOptions::VERBATIM);
    let method = awc::http::Method::from_bytes(call.method.as_bytes()).map_err(|e| Unanswered {
        reason: format!("method: {e}"),
        never_sent: true,
    })?;
    let mut request = client.request(method, &call.url);
    for (name, value) in &call.headers {
        request = request.insert_header((name.as_str(), value.as_str()));
    }
    let exchange = async {
        let mut response =
            request
                .send_body(call.body.clone())
                .await
                .map_err(|err| Unanswered {
                    never_sent: matches!(err, awc::error::SendRequestError::Connect(_)),
                    reason: transport_reason(&err),
                })?;
        let status = response.status().as_u16();
        let body = response
            .body()
            .limit(ANSWER_LIMIT)
            .await
            .map_err(|err| Unanswered {
                reason: format!("reading the answer: {err}"),
                never_sent: false,
            })?;
        Ok((status, body.to_vec()))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(Unanswered {
                reason: format!("no answer within {} ms", timeout.as_millis()),
                never_sent: false,
            })
        })
}

fn transport_reason(err: &awc::error::SendRequestError) -> String {
    use awc::error::SendRequestError;
    match err {
        SendRequestError::Connect(connect) => format!("cannot connect: {connect}"),
        SendRequestError::Timeout => "no answer in time".to_owned(),
        other => other.to_string(),
    }
}

/// The `host[:port]` of a base URL, as the request's `Host` header carries it.
pub fn authority(base_url: &str) -> &str {
    let rest = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .unwrap_or(base_url);
    rest.split('/').next().unwrap_or(rest)
}

/// The path of a base URL, always ending in `/` (`/` for a bare host).
pub fn base_path(base_url: &str) -> String {
    let rest = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .unwrap_or(base_url);
    match rest.find('/') {
        Some(at) => format!("{}/", rest[at..].trim_end_matches('/')),
        None => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_split_into_host_and_path() {
        assert_eq!(
            authority("https://dysmsapi.aliyuncs.com"),
            "dysmsapi.aliyuncs.com"
        );
        assert_eq!(authority("http://127.0.0.1:9000/relay"), "127.0.0.1:9000");
        assert_eq!(base_path("https://dysmsapi.aliyuncs.com"), "/");
        assert_eq!(base_path("http://127.0.0.1:9000/relay/"), "/relay/");
    }
}
