//! How the `rest` dialect answers each core error (an exhaustive match), unreadable parameters
//! and framework failures: `{timestamp, code, error}` with the status as `code`, the document's
//! texts where it has them and texts in their style elsewhere.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::wire::ApiError;
use crate::dialects::DialectContext;
use crate::dialects::kit::{FrameworkError, Outcome, ParamError, ParamErrorKind, Reply};
use crate::domain::{CoreError, Field};

/// The error texts (the dialect README lists them).
pub mod text {
    pub const USER_EXISTS: &str = "用户已存在。";
    pub const SPECIAL_CHARACTERS: &str = "请去除密码中的特殊字符。";
    pub const WRONG_CAPTCHA: &str = "验证码错误，请重新输入。";
    pub const WRONG_LOGIN: &str = "用户不存在或密码错误。";
    pub const PHONE_REGISTERED: &str = "您的手机号码已被注册了。";
    pub const NO_SUCH_USER_SMS: &str = "用户不存在。";
    /// `GET /users/:userId`, without the full stop, as the document writes it.
    pub const NO_SUCH_USER: &str = "用户不存在";
    pub const INVALID_PHONE: &str = "手机号码格式不正确。";
    pub const UNKNOWN_ACTION: &str = "不支持的验证码场景。";
    pub const DAILY_LIMIT: &str = "验证码发送次数已达上限。";
    pub const TOO_SOON: &str = "验证码发送过于频繁，请稍后再试。";
    pub const IP_LIMIT: &str = "验证码请求过于频繁，请稍后再试。";
    pub const SMS_FAILED: &str = "验证码发送失败。";
    pub const BANNED: &str = "用户已被禁用。";
    pub const LOGIN_THROTTLED: &str = "登录尝试过于频繁，请稍后再试。";
    pub const TOO_MANY_ATTEMPTS: &str = "尝试过于频繁，请稍后再试。";
    pub const NOT_FOUND: &str = "接口不存在。";
    pub const WRONG_METHOD: &str = "请求方法不支持。";
    pub const TOO_LARGE: &str = "请求内容过大。";
    pub const MALFORMED: &str = "请求格式错误。";
    pub const BUSY: &str = "服务器繁忙，请稍后再试。";
    pub const INTERNAL: &str = "服务器内部错误。";
}

fn forbidden(error: &str, now: i64) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, error, now)
}

/// The answer for a core error where the endpoint has no words of its own for it.
pub fn core_error(err: &CoreError, now: i64) -> ApiError {
    use text::*;
    match err {
        CoreError::InvalidPhone | CoreError::SmsRejectedPhone => forbidden(INVALID_PHONE, now),
        CoreError::InvalidUsername => forbidden("用户名格式不正确。", now),
        CoreError::InvalidField {
            field: Field::Password,
            ..
        } => forbidden(SPECIAL_CHARACTERS, now),
        CoreError::InvalidField { field, .. } => forbidden(&format!("{field}格式不正确。"), now),
        CoreError::PhoneAlreadyRegistered | CoreError::UsernameTaken => forbidden(USER_EXISTS, now),
        CoreError::UserNotFound => ApiError::new(StatusCode::NOT_FOUND, NO_SUCH_USER, now),
        CoreError::WrongPassword => forbidden(WRONG_LOGIN, now),
        CoreError::SamePassword => forbidden("新密码不能与原密码相同。", now),
        CoreError::AccountBanned => forbidden(BANNED, now),
        CoreError::LoginThrottled => forbidden(LOGIN_THROTTLED, now),
        CoreError::GuessingThrottled(_) => forbidden(TOO_MANY_ATTEMPTS, now),
        CoreError::SessionNotFound | CoreError::SessionExpired => {
            ApiError::new(StatusCode::UNAUTHORIZED, "请先登录。", now)
        }
        CoreError::CodeNotRequested
        | CoreError::CodeWrong
        | CoreError::CodeExpired
        | CoreError::TicketUnknown => forbidden(WRONG_CAPTCHA, now),
        CoreError::SmsTooSoon => forbidden(TOO_SOON, now),
        CoreError::SmsDailyLimit => forbidden(DAILY_LIMIT, now),
        CoreError::SmsIpLimit => forbidden(IP_LIMIT, now),
        CoreError::SmsSendFailed => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, SMS_FAILED, now)
        }
        CoreError::AvatarFormat | CoreError::AvatarTooLarge => forbidden("头像格式不正确。", now),
        CoreError::GroupNotFound => ApiError::new(StatusCode::NOT_FOUND, "群组不存在。", now),
        CoreError::NotGroupMember | CoreError::Forbidden => forbidden("没有权限。", now),
        CoreError::GroupFull => forbidden("群组人数已满。", now),
        CoreError::Busy => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, BUSY, now).with_outcome(Outcome::Busy)
        }
        // The core has logged it, with the request id; the client learns nothing more.
        CoreError::Internal(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL, now),
    }
}

/// A parameter that could not be read: a 403 naming it as the client sent it (`tel.number`).
pub fn param_error(err: ParamError, now: i64) -> ApiError {
    let ParamError { name, kind } = err;
    match kind {
        ParamErrorKind::Missing | ParamErrorKind::Null | ParamErrorKind::Empty => {
            forbidden(&format!("{name}不能为空。"), now)
        }
        ParamErrorKind::NotScalar | ParamErrorKind::Malformed => {
            forbidden(&format!("{name}格式不正确。"), now)
        }
    }
}

/// The dialect's failure hook, in the error shape.
pub fn framework_error(
    _req: HttpRequest,
    ctx: DialectContext,
    err: FrameworkError,
) -> LocalBoxFuture<'static, Reply> {
    let now = ctx.service.now_ms();
    let error = match err {
        FrameworkError::NotFound => ApiError::new(StatusCode::NOT_FOUND, text::NOT_FOUND, now),
        FrameworkError::MethodNotAllowed { .. } => {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, text::WRONG_METHOD, now)
        }
        FrameworkError::PayloadTooLarge => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, text::TOO_LARGE, now)
        }
        FrameworkError::Malformed { .. } => {
            ApiError::new(StatusCode::BAD_REQUEST, text::MALFORMED, now)
        }
        FrameworkError::Internal(_) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, text::INTERNAL, now)
        }
    };
    Box::pin(std::future::ready(error.into()))
}
