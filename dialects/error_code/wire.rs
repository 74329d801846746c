//! Wire shapes of the `error_code` dialect (BlueU): the envelope
//! `{error_code, error_msg[, data]}`, always HTTP 200 for handled outcomes, and the data objects.

use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::dialects::kit::openapi::schema;
use crate::dialects::kit::{Outcome, Reply};

/// The exact Content-Type of every answer, trailing `;` included (BlueU's `IController.php`).
pub const CONTENT_TYPE: &str = "application/json;charset=utf-8;";

/// The error codes of the table in force when the document was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    RequestFailed,
    WrongMethod,
    BadParameter,
    TokenInvalid,
    ProgramError,
}

impl Code {
    pub const ALL: [Code; 5] = [
        Code::RequestFailed,
        Code::WrongMethod,
        Code::BadParameter,
        Code::TokenInvalid,
        Code::ProgramError,
    ];

    pub fn number(self) -> u16 {
        match self {
            Code::RequestFailed => 1,
            Code::WrongMethod => 2,
            Code::BadParameter => 3,
            Code::TokenInvalid => 4,
            Code::ProgramError => 999,
        }
    }

    fn base_text(self) -> &'static str {
        match self {
            Code::RequestFailed => "请求失败",
            Code::WrongMethod => "请求方法错误",
            Code::BadParameter => "请求参数错误",
            Code::TokenInvalid => "token无效",
            Code::ProgramError => "程序错误",
        }
    }

    fn outcome(self) -> Outcome {
        match self {
            Code::RequestFailed | Code::WrongMethod | Code::BadParameter => Outcome::ClientError,
            Code::TokenInvalid => Outcome::AuthError,
            Code::ProgramError => Outcome::ServerError,
        }
    }
}

/// `{"error_code":N,"error_msg":"…"[,"data":…]}` in that key order; `data` is left out rather
/// than sent as `null` ("不需要返回时或访问失败, 服务端不保持该字段").
#[derive(Debug, Serialize)]
struct Envelope<'a, D: Serialize> {
    error_code: u16,
    error_msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<D>,
}

/// The schema of [`Envelope`]: `error_code` 0 or one of [`Code`], `data` (when given) only
/// with code 0 — an answer of a route without data never has it.
pub fn envelope_schema(data: Option<Value>) -> Value {
    let mut codes = vec![0];
    codes.extend(Code::ALL.iter().map(|code| i64::from(code.number())));
    let mut properties = vec![
        ("error_code", schema::one_of_integers(&codes)),
        ("error_msg", schema::string()),
    ];
    if let Some(data) = data {
        properties.push(("data", data));
    }
    schema::object(properties, &["error_code", "error_msg"])
}

/// A success: code 0 with the configured message (`success`, or the original's `请求成功`).
pub fn success(message: &str, data: Option<&impl Serialize>) -> Reply {
    Reply::json(
        StatusCode::OK,
        Outcome::Ok,
        CONTENT_TYPE,
        &Envelope {
            error_code: 0,
            error_msg: message,
            data,
        },
    )
}

/// A refusal in the envelope: the code's base text, then `，` and the detail when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    pub code: Code,
    pub detail: Option<String>,
    /// 200, but for Yii's 404 on unknown routes.
    pub status: StatusCode,
    /// Overrides the outcome the code implies (the "busy" answer).
    pub outcome: Option<Outcome>,
}

impl ErrorReply {
    pub fn new(code: Code, detail: impl Into<String>) -> ErrorReply {
        ErrorReply {
            code,
            detail: Some(detail.into()),
            status: StatusCode::OK,
            outcome: None,
        }
    }

    /// The code's base text alone.
    pub fn bare(code: Code) -> ErrorReply {
        ErrorReply {
            code,
            detail: None,
            status: StatusCode::OK,
            outcome: None,
        }
    }

    pub fn message(&self) -> String {
        match &self.detail {
            Some(detail) => format!("{}，{}", self.code.base_text(), detail),
            None => self.code.base_text().to_owned(),
        }
    }
}

impl From<ErrorReply> for Reply {
    fn from(err: ErrorReply) -> Reply {
        let message = err.message();
        Reply::json(
            err.status,
            err.outcome.unwrap_or(err.code.outcome()),
            CONTENT_TYPE,
            &Envelope::<()> {
                error_code: err.code.number(),
                error_msg: &message,
                data: None,
            },
        )
    }
}

impl crate::dialects::kit::failure::DialectRefusal for ErrorReply {}

/// `data` of a successful login: the token and (additive, from the next revision of the
/// document) the user's id, so clients can build `/api/user/<id>/…` paths.
#[derive(Debug, Serialize)]
pub struct LoginData {
    pub token_id: String,
    pub userid: String,
}

impl LoginData {
    pub fn schema() -> Value {
        schema::record(vec![
            (
                "token_id",
                schema::matching("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
            ),
            ("userid", schema::matching("[0-9]+")),
        ])
    }
}

/// `data` of the user detail: every value a string or null.
#[derive(Debug, Serialize)]
pub struct UserDetail {
    pub id: String,
    pub name: String,
    pub sex: String,
    pub century: Option<String>,
    pub mobile: Option<String>,
    pub pushable: String,
}

impl UserDetail {
    pub fn schema() -> Value {
        let text_or_null = || schema::nullable(schema::string());
        schema::record(vec![
            ("id", schema::matching("[0-9]+")),
            ("name", schema::string()),
            ("sex", schema::one_of_texts(&["0", "1", "2"])),
            ("century", text_or_null()),
            ("mobile", text_or_null()),
            ("pushable", schema::one_of_texts(&["0", "1"])),
        ])
    }
}
