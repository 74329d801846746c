//! How the `struts` dialect answers each core error (an exhaustive match), unreadable
//! parameters and framework failures: `success:false` with a Chinese `info`, one text per kind.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::wire::Failure;
use crate::dialects::DialectContext;
use crate::dialects::kit::{FrameworkError, Outcome, ParamError, ParamErrorKind, Reply};
use crate::domain::profile::TextField;
use crate::domain::{CoreError, Field, FieldReason};

/// The `info` texts of refusals (the dialect README lists them).
pub mod info {
    pub const NOT_LOGGED_IN: &str = "用户未登录或登录已过期";
    pub const WRONG_LOGIN: &str = "用户名或密码错误";
    pub const BANNED: &str = "该账号已被禁用";
    pub const LOGIN_THROTTLED: &str = "登录尝试过于频繁，请稍后再试";
    pub const TOO_MANY_ATTEMPTS: &str = "尝试过于频繁，请稍后再试";
    pub const WRONG_OLD_PASSWORD: &str = "原密码错误";
    pub const SAME_PASSWORD: &str = "新密码不能与原密码相同";
    pub const PHONE_REGISTERED: &str = "该手机号已注册";
    pub const PHONE_UNREGISTERED: &str = "该手机号未注册";
    pub const INVALID_PHONE: &str = "手机号格式不正确";
    pub const INVALID_USERNAME: &str = "用户名格式不正确";
    pub const USERNAME_TAKEN: &str = "该用户名已被使用";
    pub const NO_SUCH_USER: &str = "用户不存在";
    pub const CODE_NOT_SENT: &str = "请先获取验证码";
    pub const CODE_WRONG: &str = "验证码错误";
    pub const CODE_EXPIRED: &str = "验证码已过期，请重新获取";
    pub const SMS_TOO_SOON: &str = "验证码发送过于频繁，请稍后再试";
    pub const SMS_DAILY_LIMIT: &str = "该手机号今日获取验证码次数已达上限";
    pub const SMS_IP_LIMIT: &str = "获取验证码过于频繁，请稍后再试";
    pub const SMS_FAILED: &str = "验证码发送失败，请稍后再试";
    pub const PHOTO_FORMAT: &str = "头像只能是jpg、jpeg、bmp、png格式";
    pub const PHOTO_TOO_LARGE: &str = "头像不能大于3M";
    pub const PHOTO_MISSING: &str = "请选择要上传的头像";
    pub const NO_SUCH_GROUP: &str = "群不存在";
    pub const NOT_A_MEMBER: &str = "您不是该群成员";
    pub const GROUP_FULL: &str = "群成员已满";
    pub const FORBIDDEN: &str = "没有权限进行此操作";
    pub const OTHER_USER: &str = "不能修改其他用户的信息";
    pub const BAD_SEX: &str = "性别只能是1（男）或2（女）";
    pub const BAD_AGE: &str = "年龄只能是数字";
    pub const BAD_REMIND_MODE: &str = "消息提醒方式只能是1或2";
    pub const UNKNOWN_ACTION: &str = "请求的操作不存在";
    pub const WRONG_METHOD: &str = "请求方式不正确";
    pub const TOO_LARGE: &str = "请求内容过大";
    pub const MALFORMED: &str = "请求参数格式不正确";
    pub const BUSY: &str = "服务器繁忙，请稍后再试";
    pub const INTERNAL: &str = "服务器内部错误";
}

/// The document's names of the core's fields, in words.
fn field_label(field: Field) -> &'static str {
    match field {
        Field::Password => "密码",
        Field::Profile(text) => match text {
            TextField::Nickname => "昵称",
            TextField::Age => "年龄",
            TextField::ContactPhone => "电话号码",
            TextField::Country => "国家",
            TextField::Province => "省份",
            TextField::City => "城市",
            TextField::District => "区县",
            TextField::Street => "街道",
            TextField::Company => "所在公司",
            TextField::Industry => "行业",
            TextField::JobTitle => "职务",
            TextField::Education => "学历",
            TextField::School => "毕业院校",
            TextField::Signature => "个性签名",
            TextField::AvatarUrl => "用户头像",
            // Fields this document cannot set: the core's own names.
            other => other.name(),
        },
        Field::DisplayName => "在群中显示的名称",
        Field::FriendId => "用户ID",
        Field::GroupName => "群名称",
        Field::GroupPortraitUri => "群头像",
        Field::MemberRole => "群角色",
    }
}

fn reason_text(reason: FieldReason) -> String {
    match reason {
        FieldReason::Empty => "不能为空".to_owned(),
        FieldReason::TooLong { max } => format!("不能超过{max}个字符"),
        FieldReason::BadCharacter => "包含不允许的字符".to_owned(),
        FieldReason::OutOfRange => "超出允许范围".to_owned(),
    }
}

/// The answer for a core error where the action has no words of its own for it.
pub fn core_error(err: &CoreError) -> Failure {
    use info::*;
    match err {
        CoreError::InvalidPhone | CoreError::SmsRejectedPhone => Failure::new(INVALID_PHONE),
        CoreError::InvalidUsername => Failure::new(INVALID_USERNAME),
        CoreError::InvalidField { field, reason } => {
            Failure::new(format!("{}{}", field_label(*field), reason_text(*reason)))
        }
        CoreError::PhoneAlreadyRegistered => Failure::new(PHONE_REGISTERED),
        CoreError::UsernameTaken => Failure::new(USERNAME_TAKEN),
        CoreError::UserNotFound => Failure::new(NO_SUCH_USER),
        CoreError::WrongPassword => Failure::new(WRONG_LOGIN),
        CoreError::SamePassword => Failure::new(SAME_PASSWORD),
        CoreError::AccountBanned => Failure::new(BANNED),
        CoreError::LoginThrottled => Failure::new(LOGIN_THROTTLED),
        CoreError::GuessingThrottled(_) => Failure::new(TOO_MANY_ATTEMPTS),
        CoreError::SessionNotFound | CoreError::SessionExpired => {
            Failure::new(NOT_LOGGED_IN).with_outcome(Outcome::AuthError)
        }
        CoreError::CodeNotRequested => Failure::new(CODE_NOT_SENT),
        CoreError::CodeWrong | CoreError::TicketUnknown => Failure::new(CODE_WRONG),
        CoreError::CodeExpired => Failure::new(CODE_EXPIRED),
        CoreError::SmsTooSoon => Failure::new(SMS_TOO_SOON),
        CoreError::SmsDailyLimit => Failure::new(SMS_DAILY_LIMIT),
        CoreError::SmsIpLimit => Failure::new(SMS_IP_LIMIT),
        CoreError::SmsSendFailed => Failure::new(SMS_FAILED).with_outcome(Outcome::ServerError),
        CoreError::AvatarFormat => Failure::new(PHOTO_FORMAT),
        CoreError::AvatarTooLarge => Failure::new(PHOTO_TOO_LARGE),
        CoreError::GroupNotFound => Failure::new(NO_SUCH_GROUP),
        CoreError::NotGroupMember => Failure::new(NOT_A_MEMBER),
        CoreError::GroupFull => Failure::new(GROUP_FULL),
        CoreError::Forbidden => Failure::new(FORBIDDEN),
        CoreError::Busy => Failure::new(BUSY).with_outcome(Outcome::Busy),
        // The core has logged it, with the request id; the client learns nothing more.
        CoreError::Internal(_) => Failure::new(INTERNAL).with_outcome(Outcome::ServerError),
    }
}

/// A parameter that could not be read, named as the document names it.
pub fn param_error(err: ParamError) -> Failure {
    let ParamError { name, kind } = err;
    match kind {
        ParamErrorKind::Missing | ParamErrorKind::Null | ParamErrorKind::Empty => {
            Failure::new(format!("{name}不能为空"))
        }
        ParamErrorKind::NotScalar | ParamErrorKind::Malformed => {
            Failure::new(format!("{name}格式不正确"))
        }
    }
}

/// The dialect's failure hook; nothing here needs the database.
pub fn framework_error(
    _req: HttpRequest,
    _ctx: DialectContext,
    err: FrameworkError,
) -> LocalBoxFuture<'static, Reply> {
    Box::pin(std::future::ready(framework_reply(err).into()))
}

/// Framework failures in the envelope: an unknown action is Struts' 404 (with the envelope, not
/// a framework page), the rest are refusals with HTTP 200.
fn framework_reply(err: FrameworkError) -> Failure {
    match err {
        FrameworkError::NotFound => Failure {
            status: StatusCode::NOT_FOUND,
            ..Failure::new(info::UNKNOWN_ACTION)
        },
        FrameworkError::MethodNotAllowed { .. } => Failure::new(info::WRONG_METHOD),
        FrameworkError::PayloadTooLarge => Failure::new(info::TOO_LARGE),
        FrameworkError::Malformed { .. } => Failure::new(info::MALFORMED),
        FrameworkError::Internal(_) => {
            Failure::new(info::INTERNAL).with_outcome(Outcome::ServerError)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_refusals_name_the_field_in_the_documents_words() {
        let err = CoreError::InvalidField {
            field: Field::Profile(TextField::Nickname),
            reason: FieldReason::TooLong { max: 32 },
        };
        assert_eq!(core_error(&err).info, "昵称不能超过32个字符");
        let missing = param_error(ParamError {
            name: "userVO.userName".into(),
            kind: ParamErrorKind::Missing,
        });
        assert_eq!(missing.info, "userVO.userName不能为空");
    }
}
