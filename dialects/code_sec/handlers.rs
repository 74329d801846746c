//! The endpoints of document 001, one function each, answering as the dialect README says.

use actix_web::{HttpRequest, web};

use super::State;
use super::auth::{self, Caller};
use super::checksum;
use super::error::{core_error, param_error};
use super::wire::{self, Code, Refused};
use crate::dialects::kit::{
    Answer, FrameworkError, Params, Reply, Winner, client_ip, name_client, query_and_body,
};
use crate::domain::credential::PasswordInput;
use crate::domain::identity::LoginName;
use crate::domain::phone::Phone;
use crate::domain::profile::{Profile, ProfilePatch, Role, TextField};
use crate::domain::{CoreError, UserId};
use crate::service::accounts::{NewAccount, NewPhone};
use crate::service::sms::{CodeRequest, PhoneMust, SmsRules};

type Ctx = web::Data<State>;

/// Requests are a handful of short fields.
const BODY_LIMIT: usize = 64 * 1024;
/// Codes are six digits (`yzm`: 手机6位验证码).
const CODE_LENGTH: usize = 6;
/// One code serves registration and password reset alike (the document has one SMS endpoint).
const PURPOSE: &str = "sms";

/// PHP's `$_REQUEST`: the query string, then the body (form or JSON) over it. The device id
/// `xid`, when sent, names the client in the metrics (its prefix).
async fn params(req: &HttpRequest, payload: web::Payload) -> Result<Params, FrameworkError> {
    let params = query_and_body(req, payload, BODY_LIMIT, Winner::Body).await?;
    if let Ok(Some(xid)) = params.trimmed_optional("xid") {
        name_client(req, &xid);
    }
    Ok(params)
}

/// A field that must be sent and not be blank, trimmed.
fn required(params: &Params, name: &str) -> Result<String, Refused> {
    params.trimmed(name).map_err(param_error)
}

fn optional(params: &Params, name: &str) -> Result<Option<String>, Refused> {
    params.trimmed_optional(name).map_err(param_error)
}

/// `phone`: 11 digits.
fn phone(params: &Params) -> Result<Phone, Refused> {
    Phone::mainland(&required(params, "phone")?).map_err(|_| Refused::new(Code::BadParameter))
}

/// `pwd`: an md5 hex as the document says, else a plain password, which is md5-hashed first.
fn password(params: &Params) -> Result<PasswordInput, Refused> {
    let pwd = required(params, "pwd")?;
    Ok(
        if pwd.len() == 32 && pwd.bytes().all(|b| b.is_ascii_hexdigit()) {
            PasswordInput::ClientMd5(pwd)
        } else {
            PasswordInput::Plain(pwd)
        },
    )
}

/// `user_role`: 1 普通用户, 2 客服, 3 超级管理员.
fn user_role(role: Role) -> String {
    match role {
        Role::Normal => "1",
        Role::Service => "2",
        Role::SuperAdmin => "3",
    }
    .to_owned()
}

/// `check_reg`: 1 已填写, 2 未填写.
fn check_reg(profile: &Profile) -> String {
    if profile.profile_completed { "1" } else { "2" }.to_owned()
}

async fn profile(state: &State, user_id: UserId) -> Result<Profile, Refused> {
    state
        .ctx
        .service
        .profile(user_id)
        .await
        .map_err(|err| core_error(&err))
}

/// `{"code","uid","sec","user_role"}` after a login or a registration.
async fn logged_in(state: &State, user_id: UserId, xid: Option<String>) -> Result<Reply, Refused> {
    let sec = auth::start_session(state, user_id, xid).await?;
    let role = profile(state, user_id).await?.role;
    Ok(wire::success(&[
        ("uid", user_id.to_string()),
        ("sec", sec),
        ("user_role", user_role(role)),
    ]))
}

/// `/user/sms` — 1.短信验证码接口 (001 §1): a 6-digit code, valid 5 minutes, for registration
/// or a password reset; the checksum `sec` must match `phone` and `utime`.
pub async fn sms(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = phone(&params)?;
    let utime: i64 = required(&params, "utime")?
        .parse()
        .map_err(|_| Refused::new(Code::BadParameter))?;
    let sec = required(&params, "sec")?;
    let national: i64 = phone
        .number()
        .parse()
        .map_err(|_| Refused::new(Code::BadParameter))?;
    if !checksum::matches(&sec, national, utime) {
        return Err(Refused::new(Code::BadParameter).into());
    }
    if let Some(window) = state.config.utime_window {
        let now = state.ctx.service.now_ms().div_euclid(1000);
        if now.abs_diff(utime) > window.as_secs() {
            return Err(Refused::new(Code::BadParameter).into());
        }
    }
    let ip = client_ip(&req);
    state
        .ctx
        .service
        .send_code(CodeRequest {
            phone: &phone,
            purpose: PURPOSE,
            dialect: super::SPEC.id,
            rules: SmsRules {
                code_length: CODE_LENGTH,
                code_ttl: Some(state.config.code_ttl),
                resend_interval: Some(state.config.send_interval),
                daily_limit_per_phone: None,
            },
            phone_must: PhoneMust::BeAny,
            client_ip: ip.as_deref(),
        })
        .await
        .map_err(|err| core_error(&err))?;
    Ok(wire::success(&[]))
}

/// `/user/reg` — 2.注册接口 (001 §2): 400 → 4001 → 4004, then the new account is logged in.
pub async fn register(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = phone(&params)?;
    let code = required(&params, "yzm")?;
    let password = password(&params)?;
    let xid = optional(&params, "xid")?;
    let service = &state.ctx.service;
    let verified = service
        .verify_code_from(&phone, PURPOSE, &code, None, client_ip(&req).as_deref())
        .await
        .map_err(|err| core_error(&err))?;
    let user_id = service
        .register(NewAccount::new(
            NewPhone::Verified(verified),
            password,
            ProfilePatch::default(),
        ))
        .await
        .map_err(|err| core_error(&err))?;
    Ok(logged_in(&state, user_id, xid).await?)
}

/// `/user/checkFinishUserInfo` — 3.判断是否填写完善资料 (001 §3).
pub async fn check_finish_user_info(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let Caller { user_id, .. } = auth::authenticate(&state, &req, &params).await?;
    let profile = profile(&state, user_id).await?;
    Ok(wire::success(&[("check_reg", check_reg(&profile))]))
}

/// The fields of `regDetail`, by the document's names.
const DETAIL_FIELDS: &[(&str, TextField)] = &[
    ("company_logo", TextField::CompanyLogo),
    ("company_name", TextField::Company),
    ("company_address", TextField::CompanyAddress),
    ("user_name", TextField::RealName),
    ("identity_card", TextField::IdentityCard),
    ("qq_number", TextField::QqNumber),
];

/// `/user/regDetail` — 4.修改详细资料接口 (001 §4): every field optional; a value sent replaces
/// the stored one; the profile counts as completed from then on.
pub async fn reg_detail(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let caller = auth::authenticate(&state, &req, &params).await?;
    let mut patch = ProfilePatch {
        profile_completed: Some(true),
        ..ProfilePatch::default()
    };
    for (name, field) in DETAIL_FIELDS {
        if let Some(value) = optional(&params, name)? {
            patch = patch.set(*field, value);
        }
    }
    let service = &state.ctx.service;
    if let Some(recommender) = optional(&params, "recommend_user_id")? {
        let resolved = service
            .resolve_recommender(&recommender)
            .await
            .map_err(|err| core_error(&err))?;
        patch = patch.recommender(resolved);
    }
    service
        .update_profile(caller.user_id, patch)
        .await
        .map_err(|err| core_error(&err))?;
    let profile = profile(&state, caller.user_id).await?;
    Ok(wire::success(&[
        ("uid", caller.user_id.to_string()),
        ("sec", caller.sec),
        ("check_reg", check_reg(&profile)),
        ("user_role", user_role(profile.role)),
    ]))
}

/// `/user/login` — 5.用户登录接口 (001 §5): 400 → 4002 → 4003 → 4007; a new `sec` replaces the
/// previous one.
pub async fn login(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = phone(&params)?;
    let password = password(&params)?;
    let xid = optional(&params, "xid")?;
    let ip = client_ip(&req);
    let user_id = state
        .ctx
        .service
        .login(&LoginName::Phone(phone), &password, ip.as_deref())
        .await
        .map_err(|err| core_error(&err))?;
    Ok(logged_in(&state, user_id, xid).await?)
}

/// `/user/pwd` — 6.忘记密码接口 (001 §6): 400 → 4001 → 4002 → 4007 → 4006; every session of
/// the account ends (the app logs in again).
pub async fn reset_password(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = phone(&params)?;
    let code = required(&params, "yzm")?;
    let password = password(&params)?;
    let service = &state.ctx.service;
    let verified = service
        .verify_code_from(&phone, PURPOSE, &code, None, client_ip(&req).as_deref())
        .await
        .map_err(|err| core_error(&err))?;
    service
        .reset_password(&verified, &password, true)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(wire::success(&[]))
}

/// `/user/loginout` — 7.退出登录接口 (001 §7): the `sec` ends.
pub async fn logout(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let caller = auth::authenticate(&state, &req, &params).await?;
    state
        .ctx
        .service
        .revoke_session(&caller.sec)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(wire::success(&[]))
}

/// `/user/getUserInfo` — 8.获取个人信息接口 (001 §8): the company and identity block, `""` for
/// what is unset; `recommend_phone` is the recommender's phone.
pub async fn user_info(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let (_, profile) = auth::authenticate_profile(&state, &req, &params).await?;
    let recommend_phone = match state.ctx.service.recommender_phone(&profile).await {
        Ok(phone) => phone.map(|p| p.number().to_owned()).unwrap_or_default(),
        Err(CoreError::UserNotFound) => String::new(),
        Err(err) => return Err(core_error(&err).into()),
    };
    let text = |value: Option<String>| value.unwrap_or_default();
    Ok(wire::success(&[
        ("company_logo", text(profile.company_logo)),
        ("company_name", text(profile.company)),
        ("company_address", text(profile.company_address)),
        ("user_name", text(profile.real_name)),
        ("identity_card", text(profile.identity_card)),
        ("qq_number", text(profile.qq_number)),
        ("recommend_phone", recommend_phone),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_one_two_three() {
        assert_eq!(user_role(Role::Normal), "1");
        assert_eq!(user_role(Role::Service), "2");
        assert_eq!(user_role(Role::SuperAdmin), "3");
    }
}
