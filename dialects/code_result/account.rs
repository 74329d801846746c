//! Accounts: SMS codes and the verification token, phone check, register, login, logout and
//! passwords (document 003, rows 1–8 of the original's route table).

use actix_web::{HttpRequest, web};
use serde_json::json;

use super::auth::{self, Caller};
use super::error::{Failure, core_error, message};
use super::rules::{self, PasswordUse};
use super::wire::{Business, Code};
use super::{State, im_token};
use crate::dialects::kit::{Answer, Params, Reply, client_ip};
use crate::domain::CoreError;
use crate::domain::credential::PasswordInput;
use crate::domain::identity::LoginName;
use crate::domain::phone::Phone;
use crate::domain::profile::{ProfilePatch, TextField};
use crate::service::accounts::{CallerSession, NewAccount, NewPhone};
use crate::service::sms::{CodeRequest, PhoneMust, SmsRules, UniversalCode};

type Ctx = web::Data<State>;

/// SealTalk has one kind of code; its token serves register and reset alike.
const PURPOSE: &str = "verify";

fn region_and_phone(params: &Params) -> Result<Phone, Failure> {
    let region = params.required("region")?;
    let phone = params.required("phone")?;
    Ok(rules::region_and_phone(&region, &phone)?)
}

/// `POST /user/send_code` (route 1).
pub async fn send_code(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(send_code_to(&req, payload, &state).await)
}

async fn send_code_to(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let params = auth::open(req, payload, state).await?;
    let phone = region_and_phone(&params)?;
    if state.config.require_img_code {
        let verify_id = params.required("verify_id")?;
        let verify_code = params.required("verify_code")?;
        match state
            .ctx
            .service
            .check_image_code(&verify_id, &verify_code)
            .await
        {
            Ok(()) => {}
            Err(CoreError::CodeNotRequested | CoreError::CodeExpired | CoreError::CodeWrong) => {
                return Err(Failure::business(Code::Refused, message::WRONG_IMAGE_CODE));
            }
            Err(err) => return Err(core_error(&err)),
        }
    }
    let ip = client_ip(req);
    state
        .ctx
        .service
        .send_code(CodeRequest {
            phone: &phone,
            purpose: PURPOSE,
            dialect: super::SPEC.id,
            rules: SmsRules {
                code_length: state.config.code_length,
                code_ttl: Some(state.config.code_ttl),
                resend_interval: Some(state.config.send_interval),
                daily_limit_per_phone: None,
            },
            phone_must: PhoneMust::BeAny,
            client_ip: ip.as_deref(),
        })
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.ok(None))
}

/// `POST /user/verify_code` (route 2): the phone is not validated; a phone that was
/// never sent a code is `404 Unknown phone number.`.
pub async fn verify_code(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(verify(&req, payload, &state).await)
}

async fn verify(req: &HttpRequest, payload: web::Payload, state: &State) -> Result<Reply, Failure> {
    let params = auth::open(req, payload, state).await?;
    let region = params.required("region")?;
    let phone = params.required("phone")?;
    let code = params.required("code")?;
    let unknown = || Failure::not_found(super::error::text::UNKNOWN_PHONE);
    let phone = rules::region_and_phone(&region, &phone).map_err(|_| unknown())?;
    let ticket = state
        .ctx
        .service
        .verify_code_for_ticket(
            &phone,
            PURPOSE,
            &code,
            state.config.universal_code.as_deref().map(UniversalCode),
            None,
            client_ip(req).as_deref(),
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.ok(Some(json!({ "verification_token": ticket.ticket }))))
}

/// `POST /user/check_phone_available` (route 3): `true` when the phone can register.
pub async fn check_phone_available(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(phone_available(&req, payload, &state).await)
}

async fn phone_available(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let params = auth::open(req, payload, state).await?;
    let phone = region_and_phone(&params)?;
    let registered = state
        .ctx
        .service
        .is_phone_registered(&phone)
        .await
        .map_err(|err| core_error(&err))?;
    if !registered {
        return Ok(state.ok(Some(json!(true))));
    }
    // The original said why in its development-mode message, on a success.
    let taken = Business {
        code: Code::Ok,
        result: Some(json!(false)),
        message: Some(super::error::text::PHONE_EXISTS),
    };
    Ok(taken.render(state.with_messages()))
}

/// `POST /user/register` (route 4): checks in the original's order, then the account, the
/// cookie and the encoded id. The token stays usable (the original's suite reuses it).
pub async fn register(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(register_account(&req, payload, &state).await)
}

async fn register_account(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let params = auth::open(req, payload, state).await?;
    let nickname = params.required("nickname")?;
    let password = params.required("password")?;
    let token = params.required("verification_token")?;
    rules::password_spaces(&password, PasswordUse::Register)?;
    let nickname = rules::nickname(&nickname, "Length of nickname invalid.")?;
    rules::password_length(&password, PasswordUse::Register)?;
    rules::verification_token(&token)?;
    let verified = state
        .ctx
        .service
        .redeem_ticket(&token, PURPOSE)
        .await
        .map_err(|err| core_error(&err))?;
    let account = NewAccount::new(
        NewPhone::Verified(verified),
        PasswordInput::Plain(password),
        ProfilePatch::default().set(TextField::Nickname, nickname),
    );
    let user_id = state
        .ctx
        .service
        .register(account)
        .await
        .map_err(|err| core_error(&err))?;
    let cookie = auth::start_session(state, user_id).await?;
    Ok(state
        .ok(Some(json!({ "id": state.encode_id(user_id) })))
        .cookie(cookie))
}

/// `POST /user/login` (route 5): an unknown phone or a wrong password is `{"code":1000}`;
/// success sets the cookie and answers the id with the user's IM token.
pub async fn login(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(log_in(&req, payload, &state).await)
}

async fn log_in(req: &HttpRequest, payload: web::Payload, state: &State) -> Result<Reply, Failure> {
    let params = auth::open(req, payload, state).await?;
    let phone = region_and_phone(&params)?;
    let password = params.required("password")?;
    let ip = client_ip(req);
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
            CoreError::UserNotFound => Failure::business(Code::Refused, message::WRONG_LOGIN),
            other => core_error(&other),
        })?;
    let token = im_token::stored_or_new(state, user_id).await?;
    let cookie = auth::start_session(state, user_id).await?;
    Ok(state
        .ok(Some(
            json!({ "id": state.encode_id(user_id), "token": token }),
        ))
        .cookie(cookie))
}

/// `POST /user/logout` (route 6): ends the cookie's session and clears the cookie.
pub async fn logout(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(log_out(&req, payload, &state).await)
}

async fn log_out(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let (Caller { token, .. }, _) = auth::logged_in(req, payload, state).await?;
    state
        .ctx
        .service
        .revoke_session(&token)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.ok(None).cookie(auth::cleared_cookie(&state.config)))
}

/// `POST /user/reset_password` (route 7): a new password for the token's phone; every
/// session of the account ends. A token whose phone has no account still answers 200.
pub async fn reset_password(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(reset(&req, payload, &state).await)
}

async fn reset(req: &HttpRequest, payload: web::Payload, state: &State) -> Result<Reply, Failure> {
    let params = auth::open(req, payload, state).await?;
    let password = params.required("password")?;
    let token = params.required("verification_token")?;
    rules::password(&password, PasswordUse::Reset)?;
    rules::verification_token(&token)?;
    let verified = state
        .ctx
        .service
        .redeem_ticket(&token, PURPOSE)
        .await
        .map_err(|err| core_error(&err))?;
    match state
        .ctx
        .service
        .reset_password(&verified, &PasswordInput::Plain(password), false)
        .await
    {
        Ok(_) | Err(CoreError::UserNotFound) => Ok(state.ok(None)),
        Err(err) => Err(core_error(&err)),
    }
}

/// `POST /user/change_password` (route 8): a wrong old password is `{"code":1000}`; the
/// caller's cookie stays valid, the account's other sessions end.
pub async fn change_password(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(change(&req, payload, &state).await)
}

async fn change(req: &HttpRequest, payload: web::Payload, state: &State) -> Result<Reply, Failure> {
    let (caller, params) = auth::logged_in(req, payload, state).await?;
    let old = params.required("oldPassword")?;
    let new = params.required("newPassword")?;
    rules::password(&new, PasswordUse::Change)?;
    state
        .ctx
        .service
        .change_password(
            caller.user_id,
            &PasswordInput::Plain(old),
            &PasswordInput::Plain(new),
            CallerSession::Keep(&caller.token),
        )
        .await
        .map_err(|err| match err {
            CoreError::WrongPassword => {
                Failure::business(Code::Refused, message::WRONG_OLD_PASSWORD)
            }
            other => core_error(&other),
        })?;
    Ok(state.ok(None))
}
