//! Wire shapes of the `error_code` dialect (BlueU, `spec/004_*.txt`): the envelope
//! `{error_code, error_msg[, data]}`, always HTTP 200, and the data objects.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use serde::Serialize;

use crate::ops::metrics::Outcome;

/// The exact Content-Type of every answer, trailing `;` included (`IController.php`).
pub const CONTENT_TYPE: &str = "application/json;charset=utf-8;";

/// The doc-time code table (`spec/BEHAVIOUR.md` §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success,
    RequestFailed,
    WrongMethod,
    BadParameter,
    TokenInvalid,
    ProgramError,
}

impl Code {
    pub fn number(self) -> u16 {
        match self {
            Code::Success => 0,
            Code::RequestFailed => 1,
            Code::WrongMethod => 2,
            Code::BadParameter => 3,
            Code::TokenInvalid => 4,
            Code::ProgramError => 999,
        }
    }

    fn base_text(self) -> &'static str {
        match self {
            // The document's literal; the code of that day said 请求成功 (§7.5 #12).
            Code::Success => "success",
            Code::RequestFailed => "请求失败",
            Code::WrongMethod => "请求方法错误",
            Code::BadParameter => "请求参数错误",
            Code::TokenInvalid => "token无效",
            Code::ProgramError => "程序错误",
        }
    }

    fn outcome(self) -> Outcome {
        match self {
            Code::Success => Outcome::Ok,
            Code::RequestFailed | Code::WrongMethod | Code::BadParameter => Outcome::ClientError,
            Code::TokenInvalid => Outcome::AuthError,
            Code::ProgramError => Outcome::ServerError,
        }
    }
}

/// `{"error_code":N,"error_msg":"<base>，<detail>"[,"data":…]}` in that key order.
#[derive(Debug, Serialize)]
struct Envelope<'a, D: Serialize> {
    error_code: u16,
    error_msg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<D>,
}

/// One answer of the dialect, before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub code: Code,
    pub detail: Option<String>,
    pub data: Option<serde_json::Value>,
    pub status: StatusCode,
    /// Overrides the outcome the code implies (the "busy" answer).
    pub outcome: Option<Outcome>,
}

impl Reply {
    pub fn success() -> Reply {
        Reply {
            code: Code::Success,
            detail: None,
            data: None,
            status: StatusCode::OK,
            outcome: None,
        }
    }

    pub fn data(data: impl Serialize) -> Reply {
        Reply {
            data: serde_json::to_value(data).ok(),
            ..Reply::success()
        }
    }

    pub fn error(code: Code, detail: impl Into<String>) -> Reply {
        Reply {
            code,
            detail: Some(detail.into()),
            data: None,
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

    pub fn into_response(self) -> HttpResponse {
        let message = self.message();
        let body = serde_json::to_string(&Envelope {
            error_code: self.code.number(),
            error_msg: &message,
            // "不需要返回时或访问失败, 服务端不保持该字段": never `"data":null`.
            data: self.data.as_ref(),
        })
        .unwrap_or_else(|_| r#"{"error_code":999,"error_msg":"程序错误"}"#.to_owned());
        let mut response = HttpResponse::build(self.status)
            .insert_header(("Content-Type", CONTENT_TYPE))
            .body(body);
        response
            .extensions_mut()
            .insert(self.outcome.unwrap_or(self.code.outcome()));
        response
    }
}

/// Handlers answer `Result<Reply, Reply>`: both sides render the same envelope.
impl Responder for Reply {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.into_response()
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code.number(), self.message())
    }
}

impl ResponseError for Reply {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.clone().into_response()
    }
}

/// `data` of a successful login: the token and (additive, from the next doc revision) the id.
#[derive(Debug, Serialize)]
pub struct LoginData {
    pub token_id: String,
    pub userid: String,
}

/// `data` of the user detail: every value a string or null (`spec/BEHAVIOUR.md` §3.4).
#[derive(Debug, Serialize)]
pub struct UserDetail {
    pub id: String,
    pub name: String,
    pub sex: String,
    pub century: Option<String>,
    pub mobile: Option<String>,
    pub pushable: String,
}
