//! The endpoints of document 002, one function each, answering as the dialect README says.

use actix_web::cookie::Cookie;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};

use super::State;
use super::error::{core_error, param_error, text};
use super::wire::{self, ApiError, CodeSent, Tel, User};
use crate::dialects::kit::{Answer, Params, Reply, client_ip, read_body};
use crate::domain::credential::PasswordInput;
use crate::domain::identity::LoginName;
use crate::domain::phone::Phone;
use crate::domain::profile::{Gender, Profile};
use crate::domain::token::TokenShape;
use crate::domain::{CoreError, UserId};
use crate::service::accounts::{NewAccount, NewPhone};
use crate::service::sessions::SessionSpec;
use crate::service::sms::{CodeRequest, PhoneMust, SmsRules, UniversalCode};

type Ctx = web::Data<State>;

/// Requests are small JSON objects.
const BODY_LIMIT: usize = 64 * 1024;
/// Captchas are six digits.
const CODE_LENGTH: usize = 6;
/// No length rule is documented; this cap keeps absurd input out.
const PASSWORD_MAX_CHARS: usize = 64;

impl State {
    fn now(&self) -> i64 {
        self.ctx.service.now_ms()
    }

    fn fail(&self, err: &CoreError) -> ApiError {
        core_error(err, self.now())
    }

    fn forbidden(&self, error: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, error, self.now())
    }
}

async fn params(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Params, crate::dialects::kit::Refusal> {
    let body = read_body(req, payload, BODY_LIMIT).await?;
    Ok(Params::json(&body)?)
}

/// `tel{dialCode, number}`, numbers or numeric strings; with `flat`, also `dialCode` and
/// `number` at the top level (signin's body is undocumented).
fn tel(state: &State, params: &Params, flat: bool) -> Result<Phone, ApiError> {
    let read = |from: &Params| -> Result<Phone, ApiError> {
        let dial_code = from
            .required("dialCode")
            .map_err(|e| param_error(e, state.now()))?;
        let number = from
            .required("number")
            .map_err(|e| param_error(e, state.now()))?;
        if !dial_code.trim().bytes().all(|b| b.is_ascii_digit()) {
            return Err(state.forbidden(text::INVALID_PHONE));
        }
        Phone::parse(dial_code.trim(), number.trim())
            .map_err(|_| state.forbidden(text::INVALID_PHONE))
    };
    match params.object("tel") {
        Ok(tel) => read(&tel),
        Err(_) if flat && params.value("number").is_some() => read(params),
        Err(err) => Err(param_error(err, state.now())),
    }
}

fn tel_out(phone: &Phone) -> Option<Tel> {
    Some(Tel {
        dial_code: phone.region().parse().ok()?,
        number: phone.number().parse().ok()?,
    })
}

fn gender(state: &State, gender: Gender) -> &'static str {
    match (gender, state.config.doc_gender_codes) {
        (Gender::Unknown, _) => "none",
        // The document's own letters: m 女 (female), f 男 (male).
        (Gender::Female, true) | (Gender::Male, false) => "m",
        (Gender::Male, true) | (Gender::Female, false) => "f",
    }
}

fn user(state: &State, profile: Profile) -> User {
    User {
        user_id: profile.id,
        nick_name: profile.nickname,
        tel: profile.phone.as_ref().and_then(tel_out),
        avatar: profile.avatar_url,
        gender: gender(state, profile.gender),
        signature: profile.signature,
    }
}

/// The user object, with a session cookie (no endpoint requires it).
async fn signed_in(state: &State, user_id: UserId) -> Result<Reply, ApiError> {
    let service = &state.ctx.service;
    let profile = service.profile(user_id).await.map_err(|e| state.fail(&e))?;
    let session = service
        .create_session(
            user_id,
            SessionSpec {
                dialect: super::SPEC.id,
                shape: TokenShape::Opaque,
                ttl: state.config.session_ttl,
                client_id: None,
                single_per_user: false,
            },
        )
        .await
        .map_err(|e| state.fail(&e))?;
    let max_age = i64::try_from(state.config.session_ttl.as_secs()).unwrap_or(i64::MAX);
    let cookie = Cookie::build(state.config.cookie_name.clone(), session.token)
        .path("/")
        .http_only(true)
        .max_age(CookieDuration::seconds(max_age))
        .finish();
    Ok(wire::ok(&user(state, profile)).cookie(cookie))
}

fn default_nickname(user_id: UserId) -> String {
    format!("小时候用户{user_id}")
}

/// `POST /actions/sms` — 发送验证码接口: `signup` for a new phone, `resetPassword` and
/// `resetPhone` for a registered one; the request is echoed.
pub async fn send_code(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = tel(&state, &params, false)?;
    let action = params
        .required("action")
        .map_err(|e| param_error(e, state.now()))?;
    let phone_must = match action.as_str() {
        "signup" => PhoneMust::BeNew,
        "resetPassword" | "resetPhone" => PhoneMust::BeRegistered,
        _ => return Err(state.forbidden(text::UNKNOWN_ACTION).into()),
    };
    let ip = client_ip(&req);
    state
        .ctx
        .service
        .send_code(CodeRequest {
            phone: &phone,
            purpose: &action,
            dialect: super::SPEC.id,
            rules: SmsRules {
                code_length: CODE_LENGTH,
                code_ttl: Some(state.config.code_ttl),
                resend_interval: None,
                daily_limit_per_phone: Some(state.config.daily_limit),
            },
            phone_must,
            client_ip: ip.as_deref(),
        })
        .await
        .map_err(|err| match err {
            CoreError::PhoneAlreadyRegistered => state.forbidden(text::PHONE_REGISTERED),
            CoreError::UserNotFound => state.forbidden(text::NO_SUCH_USER_SMS),
            other => state.fail(&other),
        })?;
    let echo = CodeSent {
        tel: tel_out(&phone).ok_or_else(|| state.forbidden(text::INVALID_PHONE))?,
        action,
    };
    Ok(wire::ok(&echo))
}

/// `POST /users` — 手机注册接口: user exists → special characters → captcha, in the document's
/// order; the new user, with the default nickname.
pub async fn register(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = tel(&state, &params, false)?;
    let password = params
        .non_empty("password")
        .map_err(|e| param_error(e, state.now()))?;
    let captcha = params
        .non_empty("captcha")
        .map_err(|e| param_error(e, state.now()))?;
    let service = &state.ctx.service;
    if service
        .is_phone_registered(&phone)
        .await
        .map_err(|e| state.fail(&e))?
    {
        return Err(state.forbidden(text::USER_EXISTS).into());
    }
    let special = |c: char| !c.is_ascii() || c.is_ascii_whitespace() || c.is_ascii_control();
    if password.chars().any(special) || password.chars().count() > PASSWORD_MAX_CHARS {
        return Err(state.forbidden(text::SPECIAL_CHARACTERS).into());
    }
    let verified = service
        .verify_code_from(
            &phone,
            "signup",
            &captcha,
            state.config.universal_code.as_deref().map(UniversalCode),
            client_ip(&req).as_deref(),
        )
        .await
        .map_err(|e| state.fail(&e))?;
    let account = NewAccount {
        nickname_from_id: Some(default_nickname),
        ..NewAccount::new(
            NewPhone::Verified(verified),
            PasswordInput::Plain(password),
            Default::default(),
        )
    };
    let user_id = service
        .register(account)
        .await
        .map_err(|e| state.fail(&e))?;
    Ok(signed_in(&state, user_id).await?)
}

/// `POST /users/signin` — 手机登录接口: the user, or `用户不存在或密码错误。`.
pub async fn signin(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = tel(&state, &params, true)?;
    let password = params
        .non_empty("password")
        .map_err(|e| param_error(e, state.now()))?;
    let ip = client_ip(&req);
    let user_id = state
        .ctx
        .service
        .login(
            &LoginName::Phone(phone),
            &PasswordInput::Plain(password),
            ip.as_deref(),
        )
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound => state.forbidden(text::WRONG_LOGIN),
            other => state.fail(&other),
        })?;
    Ok(signed_in(&state, user_id).await?)
}

/// `GET /users/:userId` — 取得用户详情接口: no session needed; an unknown or non-numeric id is
/// `404 用户不存在`.
pub async fn user_detail(req: HttpRequest, state: Ctx) -> Answer {
    let missing = || ApiError::new(StatusCode::NOT_FOUND, text::NO_SUCH_USER, state.now());
    let user_id: UserId = req
        .match_info()
        .get("userId")
        .and_then(|id| id.parse().ok())
        .ok_or_else(missing)?;
    let profile = state
        .ctx
        .service
        .profile(user_id)
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound => missing(),
            other => state.fail(&other),
        })?;
    Ok(wire::ok(&user(&state, profile)))
}
