//! Wire shapes of the `rest` dialect: the user object, and errors
//! `{"timestamp": <ms>, "code": <status>, "error": "<text>"}` sent with that HTTP status, all as
//! `application/json;charset=UTF-8`.

use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::dialects::kit::openapi::schema;
use crate::dialects::kit::{Outcome, Reply};

pub const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// A phone as the document writes it: both parts JSON numbers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tel {
    pub dial_code: i64,
    pub number: i64,
}

impl Tel {
    pub fn schema() -> Value {
        schema::record(vec![
            ("dialCode", schema::integer()),
            ("number", schema::integer()),
        ])
    }
}

/// The user object of register, signin and the detail, in the document's key order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: i64,
    pub nick_name: String,
    pub tel: Option<Tel>,
    pub avatar: Option<String>,
    pub gender: &'static str,
    pub signature: Option<String>,
}

impl User {
    pub fn schema() -> Value {
        schema::record(vec![
            ("userId", schema::integer()),
            ("nickName", schema::string()),
            ("tel", schema::nullable(Tel::schema())),
            ("avatar", schema::nullable(schema::string())),
            ("gender", schema::one_of_texts(&["none", "m", "f"])),
            ("signature", schema::nullable(schema::string())),
        ])
    }
}

/// The echo of a sent code.
#[derive(Debug, Serialize)]
pub struct CodeSent {
    pub tel: Tel,
    pub action: String,
}

impl CodeSent {
    pub fn schema() -> Value {
        schema::record(vec![("tel", Tel::schema()), ("action", schema::string())])
    }
}

pub fn ok(body: &impl Serialize) -> Reply {
    Reply::json(StatusCode::OK, Outcome::Ok, CONTENT_TYPE, body)
}

/// An error: its status is also its `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    /// The time of the answer, epoch milliseconds.
    pub timestamp: i64,
    pub outcome: Option<Outcome>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>, timestamp: i64) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            timestamp,
            outcome: None,
        }
    }

    pub fn with_outcome(self, outcome: Outcome) -> ApiError {
        ApiError {
            outcome: Some(outcome),
            ..self
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    timestamp: i64,
    code: u16,
    error: &'a str,
}

/// The schema of every error body.
pub fn error_schema() -> Value {
    schema::record(vec![
        ("timestamp", schema::integer()),
        ("code", schema::integer()),
        ("error", schema::string()),
    ])
}

impl From<ApiError> for Reply {
    fn from(err: ApiError) -> Reply {
        let outcome = err.outcome.unwrap_or(match err.status {
            status if status.is_server_error() => Outcome::ServerError,
            StatusCode::UNAUTHORIZED => Outcome::AuthError,
            _ => Outcome::ClientError,
        });
        Reply::json(
            err.status,
            outcome,
            CONTENT_TYPE,
            &ErrorBody {
                timestamp: err.timestamp,
                code: err.status.as_u16(),
                error: &err.error,
            },
        )
    }
}

impl crate::dialects::kit::failure::DialectRefusal for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_their_status_as_code() {
        let reply: Reply =
            ApiError::new(StatusCode::FORBIDDEN, "用户已存在。", 1_449_949_634_821).into();
        assert_eq!(reply.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            reply.body(),
            r#"{"timestamp":1449949634821,"code":403,"error":"用户已存在。"}"#.as_bytes()
        );
    }
}
