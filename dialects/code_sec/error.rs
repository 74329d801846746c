//! How the `code_sec` dialect answers each core error (an exhaustive match), unreadable
//! parameters and framework failures: one of the document's string codes, never a 5xx.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::wire::{Code, Refused};
use crate::dialects::DialectContext;
use crate::dialects::kit::{FrameworkError, Outcome, ParamError, Reply};
use crate::domain::{CoreError, Guessed};

/// The answer for a core error where the endpoint has no code of its own for it.
pub fn core_error(err: &CoreError) -> Refused {
    match err {
        CoreError::InvalidPhone
        | CoreError::InvalidUsername
        | CoreError::InvalidField { .. }
        | CoreError::AvatarFormat
        | CoreError::AvatarTooLarge
        | CoreError::GroupNotFound
        | CoreError::NotGroupMember
        | CoreError::GroupFull
        | CoreError::Forbidden => Code::BadParameter.into(),
        CoreError::PhoneAlreadyRegistered | CoreError::UsernameTaken => Code::Registered.into(),
        CoreError::UserNotFound => Code::NoUser.into(),
        // Too many failed logins from one address read as one more wrong password.
        CoreError::WrongPassword | CoreError::LoginThrottled => Code::WrongPassword.into(),
        CoreError::SamePassword => Code::SamePassword.into(),
        CoreError::AccountBanned => Code::Banned.into(),
        CoreError::SessionNotFound | CoreError::SessionExpired => Code::BadSec.into(),
        // The document has no "too many attempts": the refused call's own failure code.
        CoreError::GuessingThrottled(Guessed::Token) => Code::BadSec.into(),
        CoreError::GuessingThrottled(Guessed::Code) => Code::WrongCode.into(),
        CoreError::CodeNotRequested
        | CoreError::CodeWrong
        | CoreError::CodeExpired
        | CoreError::TicketUnknown => Code::WrongCode.into(),
        CoreError::SmsTooSoon
        | CoreError::SmsDailyLimit
        | CoreError::SmsIpLimit
        | CoreError::SmsRejectedPhone
        | CoreError::SmsSendFailed => Code::SmsFailed.into(),
        // The document has no server-side code: clients see a failed request.
        CoreError::Busy => Refused::new(Code::BadParameter).with_outcome(Outcome::Busy),
        // The core has logged it, with the request id; the client learns nothing more.
        CoreError::Internal(_) => {
            Refused::new(Code::BadParameter).with_outcome(Outcome::ServerError)
        }
    }
}

/// Every unreadable parameter is 传递参数异常.
pub fn param_error(_err: ParamError) -> Refused {
    Code::BadParameter.into()
}

/// The dialect's failure hook: everything is `{"code":"400"}` with HTTP 200, an unknown path
/// with HTTP 404.
pub fn framework_error(
    _req: HttpRequest,
    _ctx: DialectContext,
    err: FrameworkError,
) -> LocalBoxFuture<'static, Reply> {
    let refused = match err {
        FrameworkError::NotFound => Refused {
            status: StatusCode::NOT_FOUND,
            ..Refused::new(Code::BadParameter)
        },
        FrameworkError::Internal(_) => {
            Refused::new(Code::BadParameter).with_outcome(Outcome::ServerError)
        }
        FrameworkError::MethodNotAllowed { .. }
        | FrameworkError::PayloadTooLarge
        | FrameworkError::Malformed { .. } => Refused::new(Code::BadParameter),
    };
    Box::pin(std::future::ready(refused.into()))
}
