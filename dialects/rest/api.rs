//! What each route of the `rest` dialect takes and answers, for its OpenAPI document.

use serde_json::Value;

use super::wire::{self, CONTENT_TYPE, CodeSent, User};
use crate::dialects::kit::openapi::{BodyFormat, Documented, Operation, schema};

/// A number part of a phone: a JSON number or a numeric string.
fn number_or_text() -> Value {
    schema::any_of(vec![schema::integer(), schema::matching("[0-9]+")])
}

fn tel() -> Value {
    schema::described(
        schema::object(
            vec![("dialCode", number_or_text()), ("number", number_or_text())],
            &["dialCode", "number"],
        ),
        "the phone: dialCode 86 and an 11-digit mainland number",
    )
}

fn error(status: u16, description: &str) -> Documented {
    Documented::json(status, description, CONTENT_TYPE, wire::error_schema())
}

/// A route of this dialect: JSON bodies, its success, the refusals it documents and the error
/// body for anything else (`code` equals the status).
fn route(summary: &str, success: Documented, refusals: &[(u16, &str)]) -> Operation {
    let mut operation = Operation::new(summary)
        .formats(&[BodyFormat::Json])
        .answer(success);
    for (status, description) in refusals {
        operation = operation.answer(error(*status, description));
    }
    operation.answer(Documented::otherwise(
        "Any other error (400 an unreadable body, 405 a wrong method, 413 a body over 64 KiB, \
         500 or 503 on the server's side), with code equal to the status.",
        CONTENT_TYPE,
        wire::error_schema(),
    ))
}

fn done(body: Value) -> Documented {
    Documented::json(200, "Done.", CONTENT_TYPE, body)
}

/// A success that opens a session.
fn logged_in() -> Documented {
    done(User::schema()).header(
        "Set-Cookie",
        schema::string(),
        true,
        "the session cookie (SESSION, HttpOnly), required by no endpoint",
    )
}

pub fn send_code() -> Operation {
    route(
        "发送验证码接口",
        done(CodeSent::schema()),
        &[(
            403,
            "A refusal: a field missing or malformed, a phone registered or not, a limit reached.",
        )],
    )
    .required("tel", tel(), "")
    .required(
        "action",
        schema::string(),
        "signup, resetPassword or resetPhone",
    )
}

pub fn signin() -> Operation {
    route(
        "手机登录接口",
        logged_in(),
        &[(
            403,
            "Unknown phone or wrong password, a banned account, too many attempts.",
        )],
    )
    .optional("tel", tel(), "the phone (or flat dialCode and number)")
    .optional("dialCode", number_or_text(), "with number, instead of tel")
    .optional("number", number_or_text(), "with dialCode, instead of tel")
    .required("password", schema::string(), "the password in plain text")
}

pub fn register() -> Operation {
    route(
        "手机注册接口",
        logged_in(),
        &[(
            403,
            "A field missing or malformed, the phone registered, a bad password or captcha.",
        )],
    )
    .required("tel", tel(), "")
    .required(
        "password",
        schema::string(),
        "printable ASCII without spaces, at most 64 characters",
    )
    .required(
        "captcha",
        schema::string(),
        "the signup captcha sent by SMS",
    )
}

pub fn user_detail() -> Operation {
    route(
        "取得用户详情接口",
        done(User::schema()),
        &[(404, "No such user (also for an id that is not a number).")],
    )
    .path("userId", schema::string(), "the user's id")
}
