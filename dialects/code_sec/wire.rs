//! Wire shapes of the `code_sec` dialect: HTTP 200, `application/json; charset=utf-8`, and a flat
//! object whose every value is a JSON string, `code` first (the known clients read `code` as a
//! string and treat a number as a failure).

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use crate::dialects::kit::openapi::schema;
use crate::dialects::kit::{Outcome, Reply};

pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The document's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Ok,
    /// 传递参数异常 (also a wrong `/user/sms` checksum, and anything unreadable).
    BadParameter,
    /// 安全码验证不通过: no such `uid` + `sec` session.
    BadSec,
    /// 短信验证码错误.
    WrongCode,
    /// 用户不存在.
    NoUser,
    /// 用户密码错误.
    WrongPassword,
    /// 用户已被注册.
    Registered,
    /// 不能与之前密码相同.
    SamePassword,
    /// 用户违规被禁止登陆.
    Banned,
    /// 验证码发送失败 (also when codes are asked for too often).
    SmsFailed,
}

impl Code {
    pub const ALL: [Code; 10] = [
        Code::Ok,
        Code::BadParameter,
        Code::BadSec,
        Code::WrongCode,
        Code::NoUser,
        Code::WrongPassword,
        Code::Registered,
        Code::SamePassword,
        Code::Banned,
        Code::SmsFailed,
    ];

    pub fn text(self) -> &'static str {
        match self {
            Code::Ok => "200",
            Code::BadParameter => "400",
            Code::BadSec => "4000",
            Code::WrongCode => "4001",
            Code::NoUser => "4002",
            Code::WrongPassword => "4003",
            Code::Registered => "4004",
            Code::SamePassword => "4006",
            Code::Banned => "4007",
            Code::SmsFailed => "4021",
        }
    }

    fn outcome(self) -> Outcome {
        match self {
            Code::Ok => Outcome::Ok,
            Code::BadSec => Outcome::AuthError,
            _ => Outcome::ClientError,
        }
    }
}

/// A success: `code` "200" then the given fields, all strings, in this order.
pub fn success(fields: &[(&str, String)]) -> Reply {
    let mut body = Map::new();
    body.insert("code".to_owned(), Value::from(Code::Ok.text()));
    for (name, value) in fields {
        body.insert((*name).to_owned(), Value::from(value.as_str()));
    }
    Reply::json(
        StatusCode::OK,
        Outcome::Ok,
        CONTENT_TYPE,
        &Value::Object(body),
    )
}

/// The schema of a [`success`] with these keys (all strings, all present).
pub fn success_schema(keys: &[&str]) -> Value {
    let mut properties = vec![("code", schema::constant(Code::Ok.text()))];
    properties.extend(keys.iter().map(|key| (*key, schema::string())));
    schema::record(properties)
}

/// The schema of a [`Refused`] answer: `code` alone, one of the refusal codes.
pub fn refused_schema() -> Value {
    let codes: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| **code != Code::Ok)
        .map(|code| code.text())
        .collect();
    schema::record(vec![("code", schema::one_of_texts(&codes))])
}

/// A refusal: `{"code": "<code>"}` alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: Code,
    /// HTTP 200, but for unknown paths (404, in the same body).
    pub status: StatusCode,
    /// Overrides what the code implies (busy, internal).
    pub outcome: Option<Outcome>,
}

impl Refused {
    pub fn new(code: Code) -> Refused {
        Refused {
            code,
            status: StatusCode::OK,
            outcome: None,
        }
    }

    pub fn with_outcome(self, outcome: Outcome) -> Refused {
        Refused {
            outcome: Some(outcome),
            ..self
        }
    }
}

impl From<Code> for Refused {
    fn from(code: Code) -> Refused {
        Refused::new(code)
    }
}

impl From<Refused> for Reply {
    fn from(refused: Refused) -> Reply {
        Reply::json(
            refused.status,
            refused.outcome.unwrap_or(refused.code.outcome()),
            CONTENT_TYPE,
            &serde_json::json!({ "code": refused.code.text() }),
        )
    }
}

impl crate::dialects::kit::failure::DialectRefusal for Refused {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_a_string_and_code_comes_first() {
        let reply = success(&[("uid", "100000".into()), ("sec", "0123456789abcdef".into())]);
        assert_eq!(
            reply.body(),
            br#"{"code":"200","uid":"100000","sec":"0123456789abcdef"}"#
        );
        let refused: Reply = Refused::new(Code::SmsFailed).into();
        assert_eq!(refused.body(), br#"{"code":"4021"}"#);
        assert_eq!(refused.status(), StatusCode::OK);
        assert_eq!(refused.outcome(), Outcome::ClientError);
    }
}
