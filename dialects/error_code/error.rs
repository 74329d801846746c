//! How the `error_code` dialect answers each core error (an exhaustive match) and framework
//! failures, in its own envelope.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::wire::{Code, Reply};
use crate::dialects::FrameworkError;
use crate::domain::CoreError;
use crate::ops::metrics::Outcome;

/// The detail texts of the original server (English source strings, `spec/BEHAVIOUR.md` §3.2).
pub mod detail {
    pub const UNKNOWN_ACCOUNT: &str = "帐号无效";
    pub const WRONG_PASSWORD: &str = "密码错误";
    pub const TOKEN_NOT_SET: &str = "Token not set";
    pub const TOKEN_NOT_EXIST: &str = "Token not exist";
    pub const TOKEN_EXPIRED: &str = "Token has expired";
    pub const USE_POST: &str = "Please use POST method";
    pub const ILLEGAL_REQUEST: &str = "Illegal request";
    pub const ILLEGAL_IDENTITY: &str = "Illegal identity";
    pub const NO_SUCH_USER: &str = "User is no exist";
    pub const ENABLE_NOT_CORRECT: &str = "enable is not correct";
}

/// The canonical field names of the core as this dialect calls them.
fn wire_field(field: &str) -> &str {
    match field {
        "nickname" => "name",
        "birth_decade" => "century",
        "contact_phone" => "mobile",
        other => other,
    }
}

/// The answer for a core error.
pub fn core_error(err: &CoreError) -> Reply {
    use detail::*;
    match err {
        CoreError::InvalidPhone => Reply::error(Code::BadParameter, "username is not correct"),
        CoreError::InvalidUsername => Reply::error(Code::BadParameter, "username is not correct"),
        CoreError::InvalidField { field, reason } => Reply::error(
            Code::BadParameter,
            format!("{} {reason}", wire_field(field)),
        ),
        CoreError::PhoneAlreadyRegistered | CoreError::UsernameTaken => {
            Reply::error(Code::RequestFailed, "username is already taken.")
        }
        CoreError::UserNotFound => Reply::error(Code::RequestFailed, UNKNOWN_ACCOUNT),
        CoreError::WrongPassword => Reply::error(Code::RequestFailed, WRONG_PASSWORD),
        CoreError::SamePassword => {
            Reply::error(Code::RequestFailed, "newpassword is the same as password")
        }
        CoreError::AccountBanned => Reply::error(Code::RequestFailed, "Account is disabled"),
        CoreError::LoginThrottled => {
            Reply::error(Code::RequestFailed, "Too many attempts, try again later")
        }
        CoreError::SessionNotFound => Reply::error(Code::TokenInvalid, TOKEN_NOT_EXIST),
        CoreError::SessionExpired => Reply::error(Code::TokenInvalid, TOKEN_EXPIRED),
        // The document has no SMS flow; these cannot arise through it but still get an answer.
        CoreError::CodeNotRequested
        | CoreError::CodeWrong
        | CoreError::CodeExpired
        | CoreError::TicketUnknown => Reply::error(Code::RequestFailed, "Verification failed"),
        CoreError::SmsTooSoon | CoreError::SmsDailyLimit | CoreError::SmsIpLimit => {
            Reply::error(Code::RequestFailed, "Too many requests, try again later")
        }
        CoreError::SmsRejectedPhone | CoreError::SmsSendFailed => {
            Reply::error(Code::RequestFailed, "Message could not be sent")
        }
        CoreError::AvatarFormat => {
            Reply::error(Code::BadParameter, "avatar must be jpg, jpeg, bmp or png")
        }
        CoreError::AvatarTooLarge => Reply::error(Code::BadParameter, "avatar must not exceed 3M"),
        CoreError::GroupNotFound
        | CoreError::NotGroupMember
        | CoreError::GroupFull
        | CoreError::Forbidden => Reply::error(Code::RequestFailed, ILLEGAL_REQUEST),
        CoreError::Busy => Reply {
            outcome: Some(Outcome::Busy),
            ..Reply::error(Code::RequestFailed, "Server is busy, try again later")
        },
        CoreError::Internal(message) => {
            tracing::error!(%message, "internal error");
            Reply {
                code: Code::ProgramError,
                detail: None,
                data: None,
                status: StatusCode::OK,
                outcome: None,
            }
        }
    }
}

/// Framework failures, rendered for the server.
pub fn framework_error(req: &HttpRequest, err: FrameworkError) -> HttpResponse {
    framework_reply(req, err).into_response()
}

/// Framework failures: an unknown route is Yii's 404 with code 999; a wrong method is code 2;
/// an oversized or unreadable body is code 3 — all in the envelope.
pub fn framework_reply(req: &HttpRequest, err: FrameworkError) -> Reply {
    match err {
        FrameworkError::NotFound => {
            let route = req.path().trim_start_matches('/');
            Reply {
                status: StatusCode::NOT_FOUND,
                ..Reply::error(
                    Code::ProgramError,
                    format!("Unable to resolve the request \"{route}\"."),
                )
            }
        }
        FrameworkError::MethodNotAllowed => Reply::error(Code::WrongMethod, detail::USE_POST),
        FrameworkError::PayloadTooLarge => {
            Reply::error(Code::BadParameter, "request body is too large")
        }
        FrameworkError::BadRequest(reason) => Reply::error(Code::BadParameter, reason),
    }
}
