//! The endpoints of document 004, one function each, answering as the original BlueU server
//! did where the dialect README does not say otherwise.

use actix_web::{HttpRequest, web};

use super::State;
use super::auth::{self, Caller};
use super::error::{core_error, detail, param_error};
use super::wire::{self, Code, ErrorReply, LoginData, UserDetail};
use crate::dialects::kit::{
    Answer, FrameworkError, ParamError, ParamErrorKind, Params, Reply, read_body,
};
use crate::domain::CoreError;
use crate::domain::credential::PasswordInput;
use crate::domain::identity::{LoginName, UsernameError};
use crate::domain::profile::{Gender, ProfileCard, ProfilePatch, TextField};
use crate::domain::token::TokenShape;
use crate::service::accounts::{CallerSession, NewAccount, NewPhone};
use crate::service::sessions::SessionSpec;

/// Requests of this dialect are small JSON objects.
const BODY_LIMIT: usize = 64 * 1024;

type Ctx = web::Data<State>;

/// The body as BlueU read it: JSON whatever the Content-Type, else form fields. A body that
/// cannot be read goes to the dialect's failure hook.
async fn params(req: &HttpRequest, payload: web::Payload) -> Result<Params, FrameworkError> {
    let body = read_body(req, payload, BODY_LIMIT).await?;
    Ok(Params::json_else_form(&body))
}

/// A field the document marks required: `isset` semantics, so `null` is "not set".
fn required(params: &Params, name: &str) -> Result<String, ErrorReply> {
    params.required(name).map_err(param_error)
}

fn optional(params: &Params, name: &str) -> Result<Option<String>, ErrorReply> {
    params.optional(name).map_err(param_error)
}

/// A value already read that must hold more than white space. Checked after every required
/// field was found, as the original reported missing fields first.
fn non_blank(name: &str, value: String) -> Result<String, ErrorReply> {
    if value.trim().is_empty() {
        Err(param_error(ParamError {
            name: name.to_owned(),
            kind: ParamErrorKind::Empty,
        }))
    } else {
        Ok(value)
    }
}

impl State {
    fn success(&self) -> Reply {
        wire::success(&self.config.success_message, None::<&()>)
    }

    fn success_with(&self, data: &impl serde::Serialize) -> Reply {
        wire::success(&self.config.success_message, Some(data))
    }
}

fn login_name(username: &str) -> Result<LoginName, ErrorReply> {
    LoginName::parse_phone_or_username(username).map_err(|err| {
        let problem = match err {
            UsernameError::Empty => "username is empty",
            UsernameError::TooLong => "username is too long",
            UsernameError::BadCharacter => "username is not correct",
        };
        ErrorReply::new(Code::BadParameter, problem)
    })
}

/// `sex`: 0 保密, 1 女, 2 男 (the opposite of `struts`).
fn parse_sex(text: &str) -> Option<Gender> {
    match text.trim() {
        "0" => Some(Gender::Unknown),
        "1" => Some(Gender::Female),
        "2" => Some(Gender::Male),
        _ => None,
    }
}

fn render_sex(gender: Gender) -> &'static str {
    match gender {
        Gender::Unknown => "0",
        Gender::Female => "1",
        Gender::Male => "2",
    }
}

/// The `<id>` of `/api/user/<id>/…`; the route only matches digits.
fn path_id(req: &HttpRequest) -> Result<i64, ErrorReply> {
    req.match_info()
        .get("id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| ErrorReply::new(Code::RequestFailed, detail::ILLEGAL_REQUEST))
}

/// The path's user must be the caller (§7.5 #10).
fn check_own_id(req: &HttpRequest, caller: &Caller) -> Result<(), ErrorReply> {
    if path_id(req)? == caller.user_id() {
        Ok(())
    } else {
        Err(ErrorReply::new(
            Code::RequestFailed,
            detail::ILLEGAL_REQUEST,
        ))
    }
}

/// `POST /api/user/register` — 用户注册 (004 §用户注册).
pub async fn register(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let ctx = &state.ctx;
    let params = params(&req, payload).await?;
    let username = required(&params, "username")?;
    let password = required(&params, "password")?;
    let name = required(&params, "name")?;
    let sex = optional(&params, "sex")?;
    // `century` is what the code and later documents use; the document of that day says `period`.
    let century = match optional(&params, "century")? {
        Some(century) => Some(century),
        None => optional(&params, "period")?,
    };
    let mobile = optional(&params, "mobile")?;

    let login = login_name(&username)?;
    let password = non_blank("password", password)?;
    let name = non_blank("name", name)?;
    let mut profile = ProfilePatch::default().set(TextField::Nickname, name);
    if let Some(sex) = sex {
        profile.gender = Some(
            parse_sex(&sex)
                .ok_or_else(|| ErrorReply::new(Code::BadParameter, "sex is not correct"))?,
        );
    }
    if let Some(century) = century.filter(|c| !c.trim().is_empty()) {
        profile = profile.set(TextField::BirthDecade, century.trim());
    }
    if let Some(mobile) = mobile.filter(|m| !m.trim().is_empty()) {
        profile = profile.set(TextField::ContactPhone, mobile.trim());
    }
    // BlueU registers without an SMS code: a phone-shaped username is taken on trust.
    let (phone, username_identity) = match login {
        LoginName::Phone(phone) => (NewPhone::Unverified(phone), None),
        LoginName::Username(name) => (NewPhone::None, Some(name)),
    };
    let account = NewAccount {
        username: username_identity,
        ..NewAccount::new(phone, PasswordInput::Plain(password), profile)
    };
    match ctx.service.register(account).await {
        Ok(_) => Ok(state.success()),
        Err(CoreError::PhoneAlreadyRegistered | CoreError::UsernameTaken) => Err(ErrorReply::new(
            Code::RequestFailed,
            format!("{} is already taken.", username.trim()),
        )
        .into()),
        Err(err) => Err(core_error(&err).into()),
    }
}

/// `POST /api/user/login` — 用户登录 (004 §用户登录).
pub async fn login(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let ctx = &state.ctx;
    let params = params(&req, payload).await?;
    let username = required(&params, "username")?;
    let password = required(&params, "password")?;
    let user_id = auth::login(ctx, &req, &username, &password).await?;
    let session = ctx
        .service
        .create_session(
            user_id,
            SessionSpec {
                dialect: super::SPEC.id,
                shape: TokenShape::UuidShaped,
                ttl: state.config.token_ttl,
                client_id: None,
                single_per_user: false,
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.success_with(&LoginData {
        token_id: session.token,
        userid: user_id.to_string(),
    }))
}

/// `POST /api/user/resetpwd` — 重置密码: a logged-in change of password (004 §重置密码;
/// README: Known quirks). Missing fields are reported before the token is checked.
pub async fn reset_password(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let ctx = &state.ctx;
    let params = params(&req, payload).await?;
    let old = required(&params, "password")?;
    let new = required(&params, "newpassword")?;
    let caller = auth::authenticate(ctx, &req).await?;
    let new = non_blank("newpassword", new)?;
    ctx.service
        .change_password(
            caller.user_id(),
            &PasswordInput::Plain(old),
            &PasswordInput::Plain(new),
            // The original kept the token that changed the password, and its clients carry on
            // with it; every other session of the user ends.
            match &caller {
                Caller::Token { token, .. } => CallerSession::Keep(token),
                Caller::Credentials { .. } => CallerSession::End,
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.success())
}

/// `POST /api/user/logout` — 用户登出 (004 §用户登出): `username` must
/// name the token's owner; `password` is ignored.
pub async fn logout(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let ctx = &state.ctx;
    let params = params(&req, payload).await?;
    let username = required(&params, "username")?;
    let caller = auth::authenticate(ctx, &req).await?;
    let Caller::Token { user_id, token } = caller else {
        // Header credentials carry no token: there is nothing to end.
        return Ok(state.success());
    };
    let illegal = || ErrorReply::new(Code::RequestFailed, detail::ILLEGAL_IDENTITY);
    let named = LoginName::parse_phone_or_username(&username).map_err(|_| illegal())?;
    let owner = ctx
        .service
        .find_user(&named)
        .await
        .map_err(|err| core_error(&err))?;
    if owner != Some(user_id) {
        return Err(illegal().into());
    }
    ctx.service
        .revoke_session(&token)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.success())
}

/// `POST /api/user/<id>/edit` — 用户修改资料 (004 §用户修改资料): only
/// `name` is editable.
pub async fn edit(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let ctx = &state.ctx;
    // Nothing is required here, so an unreadable body must not pass for an empty one.
    let body = read_body(&req, payload, BODY_LIMIT).await?;
    let params = Params::json_object_or_form(&body)?;
    let caller = auth::authenticate(ctx, &req).await?;
    check_own_id(&req, &caller)?;
    if let Some(key) = params.names().find(|key| *key != "name") {
        return Err(ErrorReply::new(Code::RequestFailed, format!("{key} Not editable")).into());
    }
    let Some(name) = optional(&params, "name")? else {
        return Ok(state.success());
    };
    let name = non_blank("name", name)?;
    ctx.service
        .update_profile(
            caller.user_id(),
            ProfilePatch::default().set(TextField::Nickname, name),
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.success())
}

fn parse_enable(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "true" | "True" | "on" | "On" => Some(true),
        "0" | "false" | "False" | "off" | "Off" => Some(false),
        _ => None,
    }
}

/// `POST /api/user/<id>/push` — 用户信息推送开关 (004 §用户信息推送开关):
/// the intended semantics, not the original's loose-comparison bug.
pub async fn push(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let ctx = &state.ctx;
    let params = params(&req, payload).await?;
    // A missing `enable` is reported before the token is checked; an unusable one after.
    let enable = match params.required("enable") {
        Ok(text) => parse_enable(&text),
        Err(
            err @ ParamError {
                kind: ParamErrorKind::Missing | ParamErrorKind::Null,
                ..
            },
        ) => return Err(param_error(err).into()),
        Err(_) => None,
    };
    let caller = auth::authenticate(ctx, &req).await?;
    check_own_id(&req, &caller)?;
    let enable =
        enable.ok_or_else(|| ErrorReply::new(Code::BadParameter, detail::ENABLE_NOT_CORRECT))?;
    let patch = ProfilePatch {
        push_enabled: Some(enable),
        ..ProfilePatch::default()
    };
    ctx.service
        .update_profile(caller.user_id(), patch)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.success())
}

/// `GET /api/user/<id>` (also POST, as the document's curl does) — 用户详情 (004 last section;
/// README: Known quirks): public fields, every value a string or null; no token needed.
pub async fn detail(req: HttpRequest, state: Ctx) -> Answer {
    let id = path_id(&req)?;
    let card = state
        .ctx
        .service
        .profile_card(id)
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound => ErrorReply::new(Code::RequestFailed, detail::NO_SUCH_USER),
            other => core_error(&other),
        })?;
    Ok(state.success_with(&user_detail(card)))
}

fn user_detail(card: ProfileCard) -> UserDetail {
    UserDetail {
        id: card.id.to_string(),
        name: card.nickname,
        sex: render_sex(card.gender).to_owned(),
        century: card.birth_decade,
        mobile: card.contact_phone,
        pushable: if card.push_enabled { "1" } else { "0" }.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sex_codes_are_this_dialects_own() {
        assert_eq!(parse_sex("1"), Some(Gender::Female));
        assert_eq!(parse_sex("2"), Some(Gender::Male));
        assert_eq!(parse_sex("0"), Some(Gender::Unknown));
        assert_eq!(parse_sex("3"), None);
        for g in [Gender::Unknown, Gender::Male, Gender::Female] {
            assert_eq!(parse_sex(render_sex(g)), Some(g));
        }
    }

    #[test]
    fn enable_synonyms() {
        for on in ["1", "true", "True", "on", "On"] {
            assert_eq!(parse_enable(on), Some(true), "{on}");
        }
        for off in ["0", "false", "False", "off", "Off"] {
            assert_eq!(parse_enable(off), Some(false), "{off}");
        }
        assert_eq!(parse_enable("2"), None);
        assert_eq!(parse_enable("yes"), None);
    }
}
