//! What each route of the `error_code` dialect takes and answers, for its OpenAPI document.

use serde_json::Value;

use super::auth::{PASSWORD_HEADER, TOKEN_HEADER, USERNAME_HEADER};
use super::wire::{self, CONTENT_TYPE, LoginData, UserDetail};
use crate::dialects::kit::openapi::{BodyFormat, Documented, Operation, schema};

/// A value the dialect reads as its text: a string, or a number or boolean it prints.
fn scalar() -> Value {
    schema::any_of(vec![schema::string(), schema::integer(), schema::boolean()])
}

/// A route of this dialect: JSON bodies (a form when the body is not JSON), the envelope with
/// `data` where given, and the envelope alone for anything else.
fn route(summary: &str, data: Option<Value>) -> Operation {
    Operation::new(summary)
        .formats(&[BodyFormat::Json, BodyFormat::Form])
        .answer(Documented::json(
            200,
            "Every handled outcome: error_code 0 on success, else the refusal's code and text.",
            CONTENT_TYPE,
            wire::envelope_schema(data),
        ))
        .answer(Documented::otherwise(
            "Anything else, in the envelope without data.",
            CONTENT_TYPE,
            wire::envelope_schema(None),
        ))
}

/// A route that needs a session: `X-Auth-Token`, or the name and password headers.
fn authenticated(operation: Operation) -> Operation {
    operation
        .header(TOKEN_HEADER, schema::string(), "the token_id of a login")
        .header(
            USERNAME_HEADER,
            schema::string(),
            "with X-Auth-Password, instead of a token: the call logs in",
        )
        .header(PASSWORD_HEADER, schema::string(), "the plain password")
}

fn user_id(operation: Operation) -> Operation {
    operation.path("id", schema::matching("[0-9]+"), "the user's id")
}

pub fn register() -> Operation {
    route("用户注册", None)
        .required(
            "username",
            scalar(),
            "a login name, or a mainland mobile number",
        )
        .required("password", scalar(), "the password in plain text")
        .required("name", scalar(), "the nickname, at most 64 characters")
        .optional("sex", scalar(), "0 undisclosed, 1 female, 2 male")
        .optional("century", scalar(), "birth decade, such as 80")
        .optional("period", scalar(), "century's other name")
        .optional("mobile", scalar(), "a contact number")
}

pub fn login() -> Operation {
    route("用户登录", Some(LoginData::schema()))
        .required("username", scalar(), "a login name or the phone")
        .required("password", scalar(), "the password in plain text")
}

pub fn reset_password() -> Operation {
    authenticated(route("重置密码", None))
        .required("password", scalar(), "the current password")
        .required("newpassword", scalar(), "the new password")
}

pub fn logout() -> Operation {
    authenticated(route("用户登出", None))
        .required("username", scalar(), "the token's owner")
        .optional("password", scalar(), "ignored")
}

pub fn edit() -> Operation {
    user_id(authenticated(route("用户修改资料", None))).optional(
        "name",
        scalar(),
        "the new nickname, at most 64 characters",
    )
}

pub fn push() -> Operation {
    user_id(authenticated(route("用户信息推送开关", None))).required(
        "enable",
        scalar(),
        "1, true or on switch pushes on; 0, false or off switch them off",
    )
}

pub fn detail() -> Operation {
    user_id(route("用户信息", Some(UserDetail::schema())))
}
