//! Wire shapes of the `code_result` dialect (SealTalk): business outcomes are HTTP 200 with
//! `{"code": N, "result": …, "message": …}` and `Cache-Control: private`; request errors are bare
//! statuses with a plain-text body served as `text/html; charset=utf-8`, with `Cache-Control:
//! private` only when the route itself answered (the original's middleware ran before the
//! header was set).

use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::dialects::kit::openapi::schema;
use crate::dialects::kit::{Outcome, Reply};

/// Content-Type of every business outcome.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Content-Type of every request error (Express's default for a string body).
pub const TEXT_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// The business codes of `APIResult`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Ok,
    /// Wrong password, wrong code, wrong old password.
    Refused,
    /// The verification code has expired.
    Expired,
    /// Codes asked for too often.
    Throttled,
}

impl Code {
    pub const ALL: [Code; 4] = [Code::Ok, Code::Refused, Code::Expired, Code::Throttled];

    pub fn number(self) -> u16 {
        match self {
            Code::Ok => 200,
            Code::Refused => 1000,
            Code::Expired => 2000,
            Code::Throttled => 5000,
        }
    }

    fn outcome(self) -> Outcome {
        match self {
            Code::Ok => Outcome::Ok,
            Code::Refused | Code::Expired | Code::Throttled => Outcome::ClientError,
        }
    }
}

/// `{"code", "result", "message"}` in that order; `result` left out when there is none (but
/// `false`, `[]` and `0` kept), `message` only in test mode (the original's development mode).
#[derive(Debug, Serialize)]
struct ApiResult<'a> {
    code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// The schema of [`ApiResult`]: any code, `result` (the route's, when it has one) and the
/// test-mode `message`.
pub fn business_schema(result: Option<Value>) -> Value {
    let codes: Vec<i64> = Code::ALL.iter().map(|c| i64::from(c.number())).collect();
    let mut properties = vec![("code", schema::one_of_integers(&codes))];
    if let Some(result) = result {
        properties.push(("result", result));
    }
    properties.push(("message", schema::string()));
    schema::object(properties, &["code"])
}

/// A business outcome (always HTTP 200).
#[derive(Debug, Clone, PartialEq)]
pub struct Business {
    pub code: Code,
    pub result: Option<Value>,
    /// The original's development-mode message (`Invalid phone or password.`).
    pub message: Option<&'static str>,
}

impl Business {
    pub fn ok(result: Option<Value>) -> Business {
        Business {
            code: Code::Ok,
            result,
            message: None,
        }
    }

    pub fn refused(code: Code, message: &'static str) -> Business {
        Business {
            code,
            result: None,
            message: Some(message),
        }
    }

    /// The answer; `with_message` is on in test mode only.
    pub fn render(&self, with_message: bool) -> Reply {
        Reply::json(
            StatusCode::OK,
            self.code.outcome(),
            JSON_CONTENT_TYPE,
            &ApiResult {
                code: self.code.number(),
                result: self.result.as_ref(),
                message: self.message.filter(|_| with_message),
            },
        )
        .header("cache-control", "private")
    }
}

/// Where a request error was produced in the original's middleware chain, which decides
/// whether `Cache-Control: private` was already set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Authentication and parameter preprocessing (`Not loged in.`, `Empty <prop>.`).
    BeforeCacheControl,
    /// The route itself.
    Route,
}

/// A request error: a bare status with the original's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub status: StatusCode,
    pub text: String,
    pub stage: Stage,
}

impl TextError {
    pub fn route(status: StatusCode, text: impl Into<String>) -> TextError {
        TextError {
            status,
            text: text.into(),
            stage: Stage::Route,
        }
    }

    pub fn bad_request(text: impl Into<String>) -> TextError {
        TextError::route(StatusCode::BAD_REQUEST, text)
    }

    pub fn not_found(text: impl Into<String>) -> TextError {
        TextError::route(StatusCode::NOT_FOUND, text)
    }

    /// `403 Not loged in.` (sic), from the authentication middleware.
    pub fn not_logged_in() -> TextError {
        TextError {
            status: StatusCode::FORBIDDEN,
            text: "Not loged in.".to_owned(),
            stage: Stage::BeforeCacheControl,
        }
    }

    /// `400 Empty <prop>.`, from the parameter preprocessor.
    pub fn empty(property: &str) -> TextError {
        TextError {
            status: StatusCode::BAD_REQUEST,
            text: format!("Empty {property}."),
            stage: Stage::BeforeCacheControl,
        }
    }
}

impl From<TextError> for Reply {
    fn from(err: TextError) -> Reply {
        let outcome = match err.status {
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => Outcome::AuthError,
            status if status.is_server_error() => Outcome::ServerError,
            _ => Outcome::ClientError,
        };
        let reply = Reply::bytes(err.status, outcome, TEXT_CONTENT_TYPE, err.text);
        match err.stage {
            Stage::Route => reply.header("cache-control", "private"),
            Stage::BeforeCacheControl => reply,
        }
    }
}

impl crate::dialects::kit::failure::DialectRefusal for TextError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(reply: &Reply) -> String {
        String::from_utf8(reply.body().to_vec()).unwrap()
    }

    fn header(reply: &Reply, name: &str) -> Option<String> {
        reply
            .to_response()
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn business_outcomes_keep_the_original_key_order_and_types() {
        let ok = Business::ok(Some(json!({"id": "1SnZzuvOU"}))).render(false);
        assert_eq!(body(&ok), r#"{"code":200,"result":{"id":"1SnZzuvOU"}}"#);
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(header(&ok, "content-type").unwrap(), JSON_CONTENT_TYPE);
        assert_eq!(header(&ok, "cache-control").unwrap(), "private");
        assert_eq!(ok.outcome(), Outcome::Ok);
        assert_eq!(body(&Business::ok(None).render(false)), r#"{"code":200}"#);
        assert_eq!(
            body(&Business::ok(Some(json!(false))).render(false)),
            r#"{"code":200,"result":false}"#
        );
        assert_eq!(
            body(&Business::ok(Some(json!([]))).render(false)),
            r#"{"code":200,"result":[]}"#
        );
    }

    #[test]
    fn refusals_carry_their_message_in_test_mode_only() {
        let wrong = Business::refused(Code::Refused, "Invalid phone or password.");
        assert_eq!(body(&wrong.render(false)), r#"{"code":1000}"#);
        assert_eq!(
            body(&wrong.render(true)),
            r#"{"code":1000,"message":"Invalid phone or password."}"#
        );
        assert_eq!(wrong.render(false).outcome(), Outcome::ClientError);
        assert_eq!(
            body(&Business::refused(Code::Throttled, "Throttle limit exceeded.").render(false)),
            r#"{"code":5000}"#
        );
        assert_eq!(Code::Expired.number(), 2000);
    }

    #[test]
    fn request_errors_are_plain_text_with_cache_control_only_from_routes() {
        let route: Reply = TextError::bad_request("Invalid region and phone number.").into();
        assert_eq!(route.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body(&route), "Invalid region and phone number.");
        assert_eq!(header(&route, "content-type").unwrap(), TEXT_CONTENT_TYPE);
        assert_eq!(header(&route, "cache-control").unwrap(), "private");
        assert_eq!(route.outcome(), Outcome::ClientError);

        let auth: Reply = TextError::not_logged_in().into();
        assert_eq!(
            (auth.status(), body(&auth)),
            (StatusCode::FORBIDDEN, "Not loged in.".into())
        );
        assert_eq!(header(&auth, "cache-control"), None);
        assert_eq!(auth.outcome(), Outcome::AuthError);

        let empty: Reply = TextError::empty("phone").into();
        assert_eq!(body(&empty), "Empty phone.");
        assert_eq!(header(&empty, "cache-control"), None);
    }
}
