//! What each route of the `code_sec` dialect takes and answers, for its OpenAPI document.

use super::wire::{self, CONTENT_TYPE};
use crate::dialects::kit::openapi::{BodyFormat, Documented, Operation, schema};

/// The answers of a route: its success with `keys` or a refusal, both HTTP 200; an unknown
/// path's 404 (no route of its own) and anything else in the refusal's shape.
fn route(summary: &str, keys: &[&str]) -> Operation {
    Operation::new(summary)
        .describe(
            "Parameters come from the query string, a form or a JSON body (the body wins); \
             GET and POST both reach the endpoint.",
        )
        .formats(&[BodyFormat::Form, BodyFormat::Json])
        .answer(Documented::json(
            200,
            "Success (code \"200\" and the keys listed) or a refusal (code alone).",
            CONTENT_TYPE,
            schema::any_of(vec![wire::success_schema(keys), wire::refused_schema()]),
        ))
        .answer(Documented::otherwise(
            "Anything else: a refusal's shape.",
            CONTENT_TYPE,
            wire::refused_schema(),
        ))
}

/// The session of authenticated endpoints.
fn session(operation: Operation) -> Operation {
    operation
        .required("uid", schema::string(), "the user id of reg or login")
        .required(
            "sec",
            schema::string(),
            "the 16-character security code of reg or login",
        )
}

const PHONE: &str = "an 11-digit mainland mobile number";
const XID: &str = "the device's id (kept with the session)";
const UTIME: &str = "UNIX seconds";
const PWD: &str = "md5 hex of the password (32 hex characters), or the plain password";
const YZM: &str = "the 6-digit SMS code";

pub fn sms() -> Operation {
    route("短信验证码接口", &[])
        .required("phone", schema::string(), PHONE)
        .optional("xid", schema::string(), XID)
        .required("utime", schema::string(), UTIME)
        .required(
            "sec",
            schema::string(),
            "(phone − utime) mod 49477 in decimal, or the first 16 hex characters of its md5",
        )
}

/// The fields of the phone-and-password endpoints (reg, login, pwd), with the SMS code where
/// the endpoint takes one.
fn by_phone(operation: Operation, with_code: bool) -> Operation {
    let operation = operation
        .required("phone", schema::string(), PHONE)
        .optional("xid", schema::string(), XID);
    let operation = if with_code {
        operation.required("yzm", schema::string(), YZM)
    } else {
        operation
    };
    operation
        .required("pwd", schema::string(), PWD)
        .optional("utime", schema::string(), UTIME)
}

pub fn register() -> Operation {
    by_phone(route("注册接口", &["uid", "sec", "user_role"]), true)
}

pub fn check_finish_user_info() -> Operation {
    session(route("判断是否填写完善资料", &["check_reg"]))
}

pub fn reg_detail() -> Operation {
    let mut operation = session(route(
        "修改详细资料接口",
        &["uid", "sec", "check_reg", "user_role"],
    ))
    .optional("utime", schema::string(), UTIME);
    for field in [
        "company_logo",
        "company_name",
        "company_address",
        "user_name",
        "identity_card",
        "qq_number",
    ] {
        operation = operation.optional(field, schema::string(), "");
    }
    operation.optional(
        "recommend_user_id",
        schema::string(),
        "a user id, or the 11-digit phone of an account",
    )
}

pub fn login() -> Operation {
    by_phone(route("用户登录接口", &["uid", "sec", "user_role"]), false)
}

pub fn reset_password() -> Operation {
    by_phone(route("忘记密码接口", &[]), true)
}

pub fn logout() -> Operation {
    session(route("退出登录接口", &[])).optional("utime", schema::string(), UTIME)
}

pub fn user_info() -> Operation {
    session(route(
        "获取个人信息接口",
        &[
            "company_logo",
            "company_name",
            "company_address",
            "user_name",
            "identity_card",
            "qq_number",
            "recommend_phone",
        ],
    ))
    .optional("utime", schema::string(), UTIME)
}
