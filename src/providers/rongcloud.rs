//! RongCloud (融云) Server API requests: the four signing headers (`Signature` =
//! hex(SHA-1(AppSecret + Nonce + Timestamp)), milliseconds), the form bodies of `user/getToken`
//! and `user/blacklist/add|remove`, and the reading of answers (`code` 200 or a failure, whatever
//! the HTTP status says). The transport comes with the gateway's HTTPS client.

use serde::Deserialize;
use sha1::{Digest, Sha1};

/// An app's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RongCloudApp {
    pub app_key: String,
    pub app_secret: String,
}

/// One signed request, ready to send as `POST <base><path>` with a form body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub path: &'static str,
    /// `(name, value)`: `App-Key`, `Nonce`, `Timestamp`, `Signature`.
    pub headers: Vec<(&'static str, String)>,
    /// `application/x-www-form-urlencoded`, UTF-8.
    pub body: String,
}

/// Why a call failed: every failure of these APIs is a provider error (SealTalk answered 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RongCloudError {
    #[error("RongCloud refused the call: code {code} (HTTP {status}): {message}")]
    Refused {
        code: i64,
        status: u16,
        message: String,
    },
    #[error("RongCloud answered HTTP {status} without a usable body")]
    Unreadable { status: u16 },
}

impl RongCloudError {
    /// Worth one more try on the backup host: rate limited, internal error or timeout, or an
    /// answer that was not RongCloud's at all (both operations are safe to repeat).
    pub fn is_retryable(&self) -> bool {
        match self {
            RongCloudError::Refused { code, .. } => matches!(code, 1000 | 1008 | 1050),
            RongCloudError::Unreadable { status } => *status == 429 || *status >= 500,
        }
    }
}

/// `hex(SHA1(app_secret + nonce + timestamp))`, lower case.
pub fn signature(app_secret: &str, nonce: &str, timestamp_ms: i64) -> String {
    let digest = Sha1::digest(format!("{app_secret}{nonce}{timestamp_ms}").as_bytes());
    crate::domain::credential::to_hex(&digest)
}

impl RongCloudApp {
    fn signed(
        &self,
        path: &'static str,
        form: &[(&str, &str)],
        nonce: &str,
        timestamp_ms: i64,
    ) -> SignedRequest {
        SignedRequest {
            path,
            headers: vec![
                ("App-Key", self.app_key.clone()),
                ("Nonce", nonce.to_owned()),
                ("Timestamp", timestamp_ms.to_string()),
                (
                    "Signature",
                    signature(&self.app_secret, nonce, timestamp_ms),
                ),
            ],
            // Encoding string pairs cannot fail.
            body: serde_urlencoded::to_string(form).unwrap_or_default(),
        }
    }

    /// `user/getToken`: an IM token for `user_id` (SealTalk sent the N3D-encoded id).
    pub fn get_token(
        &self,
        user_id: &str,
        name: &str,
        portrait_uri: Option<&str>,
        nonce: &str,
        timestamp_ms: i64,
    ) -> SignedRequest {
        let mut form = vec![("userId", user_id), ("name", name)];
        if let Some(portrait) = portrait_uri.filter(|p| !p.is_empty()) {
            form.push(("portraitUri", portrait));
        }
        self.signed("/user/getToken.json", &form, nonce, timestamp_ms)
    }

    /// `user/blacklist/add` (or `remove`): `blackUserId` repeated once per target.
    pub fn blacklist(
        &self,
        add: bool,
        user_id: &str,
        targets: &[&str],
        nonce: &str,
        timestamp_ms: i64,
    ) -> SignedRequest {
        let mut form = vec![("userId", user_id)];
        form.extend(targets.iter().map(|target| ("blackUserId", *target)));
        let path = if add {
            "/user/blacklist/add.json"
        } else {
            "/user/blacklist/remove.json"
        };
        self.signed(path, &form, nonce, timestamp_ms)
    }
}

/// Why a call did not get an answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RongCloud could not be reached: {0}")]
pub struct Unreachable(pub String);

/// Sends a signed request to `base_url` (`http://api-cn.ronghub.com`, or a stand-in) and returns
/// the HTTP status and body. Runs on the caller's actix runtime (the client is not `Send`).
pub async fn send(
    base_url: &str,
    request: &SignedRequest,
    timeout: std::time::Duration,
) -> Result<(u16, actix_web::web::Bytes), Unreachable> {
    let client = super::https::client(timeout, super::https::ClientOptions::DEFAULT);
    let mut call = client
        .post(format!(
            "{}{}",
            base_url.trim_end_matches('/'),
            request.path
        ))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"));
    for (name, value) in &request.headers {
        call = call.insert_header((*name, value.as_str()));
    }
    let mut response = call
        .send_body(request.body.clone())
        .await
        .map_err(|err| Unreachable(err.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body()
        .limit(64 * 1024)
        .await
        .map_err(|err| Unreachable(err.to_string()))?;
    Ok((status, body))
}

#[derive(Debug, Deserialize)]
struct Answer {
    code: i64,
    #[serde(default, rename = "errorMessage")]
    error_message: String,
    #[serde(default)]
    token: Option<String>,
}

/// Reads an answer: success iff `code` is 200, whatever the HTTP status.
fn read(status: u16, body: &[u8]) -> Result<Answer, RongCloudError> {
    let answer: Answer =
        serde_json::from_slice(body).map_err(|_| RongCloudError::Unreadable { status })?;
    if answer.code == 200 {
        Ok(answer)
    } else {
        Err(RongCloudError::Refused {
            code: answer.code,
            status,
            message: answer.error_message,
        })
    }
}

/// The token of a `user/getToken` answer (opaque: stored as text, never parsed).
pub fn read_token(status: u16, body: &[u8]) -> Result<String, RongCloudError> {
    read(status, body)?
        .token
        .filter(|token| !token.is_empty())
        .ok_or(RongCloudError::Unreadable { status })
}

/// A blacklist change's answer.
pub fn read_done(status: u16, body: &[u8]) -> Result<(), RongCloudError> {
    read(status, body).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> RongCloudApp {
        RongCloudApp {
            app_key: "rosettaappkey".into(),
            app_secret: "RosettaAppSecret".into(),
        }
    }

    #[test]
    fn signatures_match_the_documented_and_made_up_vectors() {
        assert_eq!(
            signature("Y1W2MeFwwwRxa0", "14314", 1_408_710_653_000),
            "30be0bbca9c9b2e27578701e9fda2358a814c88f"
        );
        assert_eq!(
            signature("RosettaAppSecret", "918273645", 1_700_000_000_000),
            "f876191bf9096ab0fac7df371c6014a5dc7308cb"
        );
    }

    #[test]
    fn a_get_token_request_is_signed_and_form_encoded() {
        let request = app().get_token(
            "Vk7xQa3T",
            "罗塞塔",
            Some("http://example.com/p/42.png"),
            "918273645",
            1_700_000_000_000,
        );
        assert_eq!(request.path, "/user/getToken.json");
        assert_eq!(
            request.headers,
            vec![
                ("App-Key", "rosettaappkey".to_owned()),
                ("Nonce", "918273645".to_owned()),
                ("Timestamp", "1700000000000".to_owned()),
                (
                    "Signature",
                    "f876191bf9096ab0fac7df371c6014a5dc7308cb".to_owned()
                ),
            ]
        );
        assert_eq!(
            request.body,
            "userId=Vk7xQa3T&name=%E7%BD%97%E5%A1%9E%E5%A1%94&portraitUri=http%3A%2F%2Fexample.com%2Fp%2F42.png"
        );
        assert_eq!(request.body.len(), 98);
        let bare = app().get_token("Vk7xQa3T", "x", Some(""), "1", 2);
        assert_eq!(bare.body, "userId=Vk7xQa3T&name=x");
    }

    #[test]
    fn blacklist_targets_repeat_their_field() {
        let request = app().blacklist(true, "Vk7xQa3T", &["Zp2mN8rY", "Qw9eR4tY"], "1", 2);
        assert_eq!(request.path, "/user/blacklist/add.json");
        assert_eq!(
            request.body,
            "userId=Vk7xQa3T&blackUserId=Zp2mN8rY&blackUserId=Qw9eR4tY"
        );
        assert_eq!(request.body.len(), 57);
        let remove = app().blacklist(false, "a", &["b"], "1", 2);
        assert_eq!(remove.path, "/user/blacklist/remove.json");
    }

    #[test]
    fn answers_succeed_on_code_200_whatever_the_status() {
        assert_eq!(
            read_token(
                200,
                br#"{"code":200,"userId":"Vk7xQa3T","token":"a+b/c=@x.cn.rongnav.com;y"}"#
            ),
            Ok("a+b/c=@x.cn.rongnav.com;y".to_owned())
        );
        assert_eq!(read_done(200, br#"{"code":200}"#), Ok(()));
        let refused = read_token(401, br#"{"code":1004,"errorMessage":"signature error"}"#);
        assert_eq!(
            refused,
            Err(RongCloudError::Refused {
                code: 1004,
                status: 401,
                message: "signature error".into()
            })
        );
        assert!(!refused.unwrap_err().is_retryable());
        let limited = read_done(429, br#"{"code":1008,"errorMessage":"rate"}"#).unwrap_err();
        assert!(limited.is_retryable());
        let html = read_done(502, b"<html>bad gateway</html>").unwrap_err();
        assert_eq!(html, RongCloudError::Unreadable { status: 502 });
        assert!(html.is_retryable());
        assert_eq!(
            read_token(200, br#"{"code":200}"#),
            Err(RongCloudError::Unreadable { status: 200 })
        );
    }
}
