//! How the `error_code` dialect answers each core error (an exhaustive match) and framework
//! failures, in its own envelope.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::wire::{Code, ErrorReply};
use crate::dialects::DialectContext;
use crate::dialects::kit::{FrameworkError, Outcome, ParamError, ParamErrorKind, Reply};
use crate::domain::profile::TextField;
use crate::domain::{CoreError, Field, Guessed};

/// The detail texts of the original server (its English source strings).
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

/// The core's fields as this dialect names them (the document's names where it has them).
fn wire_field(field: Field) -> &'static str {
    match field {
        Field::Password => "password",
        Field::Profile(TextField::Nickname) => "name",
        Field::Profile(TextField::BirthDecade) => "century",
        Field::Profile(TextField::ContactPhone) => "mobile",
        // Fields this document cannot set: the core's own names.
        Field::Profile(other) => other.name(),
        Field::FriendId
        | Field::GroupName
        | Field::GroupPortraitUri
        | Field::DisplayName
        | Field::MemberRole => field.name(),
    }
}

/// The answer for a core error.
pub fn core_error(err: &CoreError) -> ErrorReply {
    use detail::*;
    match err {
        CoreError::InvalidPhone => ErrorReply::new(Code::BadParameter, "username is not correct"),
        CoreError::InvalidUsername => {
            ErrorReply::new(Code::BadParameter, "username is not correct")
        }
        CoreError::InvalidField { field, reason } => ErrorReply::new(
            Code::BadParameter,
            format!("{} {reason}", wire_field(*field)),
        ),
        CoreError::PhoneAlreadyRegistered | CoreError::UsernameTaken => {
            ErrorReply::new(Code::RequestFailed, "username is already taken.")
        }
        CoreError::UserNotFound => ErrorReply::new(Code::RequestFailed, UNKNOWN_ACCOUNT),
        CoreError::WrongPassword => ErrorReply::new(Code::RequestFailed, WRONG_PASSWORD),
        CoreError::SamePassword => {
            ErrorReply::new(Code::RequestFailed, "newpassword is the same as password")
        }
        CoreError::AccountBanned => ErrorReply::new(Code::RequestFailed, "Account is disabled"),
        CoreError::LoginThrottled => {
            ErrorReply::new(Code::RequestFailed, "Too many attempts, try again later")
        }
        CoreError::SessionNotFound => ErrorReply::new(Code::TokenInvalid, TOKEN_NOT_EXIST),
        CoreError::GuessingThrottled(Guessed::Token) => {
            ErrorReply::new(Code::TokenInvalid, "Too many attempts, try again later")
        }
        CoreError::GuessingThrottled(Guessed::Code) => {
            ErrorReply::new(Code::RequestFailed, "Too many attempts, try again later")
        }
        CoreError::SessionExpired => ErrorReply::new(Code::TokenInvalid, TOKEN_EXPIRED),
        // The document has no SMS flow; these cannot arise through it but still get an answer.
        CoreError::CodeNotRequested
        | CoreError::CodeWrong
        | CoreError::CodeExpired
        | CoreError::TicketUnknown => ErrorReply::new(Code::RequestFailed, "Verification failed"),
        CoreError::SmsTooSoon | CoreError::SmsDailyLimit | CoreError::SmsIpLimit => {
            ErrorReply::new(Code::RequestFailed, "Too many requests, try again later")
        }
        CoreError::SmsRejectedPhone | CoreError::SmsSendFailed => {
            ErrorReply::new(Code::RequestFailed, "Message could not be sent")
        }
        CoreError::AvatarFormat => {
            ErrorReply::new(Code::BadParameter, "avatar must be jpg, jpeg, bmp or png")
        }
        CoreError::AvatarTooLarge => {
            ErrorReply::new(Code::BadParameter, "avatar must not exceed 3M")
        }
        CoreError::GroupNotFound
        | CoreError::NotGroupMember
        | CoreError::GroupFull
        | CoreError::Forbidden => ErrorReply::new(Code::RequestFailed, ILLEGAL_REQUEST),
        CoreError::Busy => ErrorReply {
            outcome: Some(Outcome::Busy),
            ..ErrorReply::new(Code::RequestFailed, "Server is busy, try again later")
        },
        // The core has logged it, with the request id; the client learns nothing more.
        CoreError::Internal(_) => ErrorReply::bare(Code::ProgramError),
    }
}

/// A parameter that could not be read: PHP's `isset` makes `null` "not set" as well.
pub fn param_error(err: ParamError) -> ErrorReply {
    let ParamError { name, kind } = err;
    let detail = match kind {
        ParamErrorKind::Missing | ParamErrorKind::Null => format!("{name} is not set"),
        ParamErrorKind::Empty => format!("{name} is empty"),
        ParamErrorKind::NotScalar | ParamErrorKind::Malformed => format!("{name} is not correct"),
    };
    ErrorReply::new(Code::BadParameter, detail)
}

/// The dialect's failure hook; nothing here needs the database.
pub fn framework_error(
    req: HttpRequest,
    _ctx: DialectContext,
    err: FrameworkError,
) -> LocalBoxFuture<'static, Reply> {
    let reply = framework_reply(&req, err).into();
    Box::pin(std::future::ready(reply))
}

/// Framework failures: an unknown route is Yii's 404 with code 999; a wrong method is code 2;
/// an oversized or unreadable body is code 3 — all in the envelope.
fn framework_reply(req: &HttpRequest, err: FrameworkError) -> ErrorReply {
    match err {
        FrameworkError::NotFound => {
            let route = req.path().trim_start_matches('/');
            ErrorReply {
                status: StatusCode::NOT_FOUND,
                // Yii's code is its "program error", but the fault is the client's: a scanner
                // must not inflate the server error rate.
                outcome: Some(Outcome::ClientError),
                ..ErrorReply::new(
                    Code::ProgramError,
                    format!("Unable to resolve the request \"{route}\"."),
                )
            }
        }
        FrameworkError::MethodNotAllowed { .. } => {
            ErrorReply::new(Code::WrongMethod, detail::USE_POST)
        }
        FrameworkError::PayloadTooLarge => {
            ErrorReply::new(Code::BadParameter, "request body is too large")
        }
        FrameworkError::Malformed { part, detail } => {
            ErrorReply::new(Code::BadParameter, format!("{}: {detail}", part.as_str()))
        }
        FrameworkError::Internal(_) => ErrorReply::bare(Code::ProgramError),
    }
}
