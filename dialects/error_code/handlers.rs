//! The endpoints of `spec/004_*.txt`, one function each, as resolved in `spec/BEHAVIOUR.md`
//! §3.4–§3.5 and §7.5.

use std::time::Duration;

use actix_web::{HttpRequest, web};

use super::auth::{self, Caller};
use super::error::{core_error, detail, framework_reply};
use super::wire::{Code, LoginData, Reply, UserDetail};
use crate::dialects::support::{BodyError, Field, Params, read_body};
use crate::dialects::{DialectContext, FrameworkError};
use crate::domain::CoreError;
use crate::domain::credential::PasswordInput;
use crate::domain::identity::{LoginName, UsernameError};
use crate::domain::profile::{Gender, ProfileCard, ProfilePatch, TextField};
use crate::domain::token::TokenShape;
use crate::service::accounts::{NewAccount, PhoneProof};
use crate::service::sessions::SessionSpec;

/// Requests of this dialect are small JSON objects.
const BODY_LIMIT: usize = 64 * 1024;

type Ctx = web::Data<DialectContext>;

async fn params(req: &HttpRequest, payload: web::Payload) -> Result<Params, Reply> {
    match read_body(req, payload, BODY_LIMIT).await {
        Ok(body) => Ok(Params::json_or_form(&body)),
        Err(BodyError::TooLarge) => Err(framework_reply(req, FrameworkError::PayloadTooLarge)),
        Err(BodyError::Broken(reason)) => {
            Err(framework_reply(req, FrameworkError::BadRequest(reason)))
        }
    }
}

/// A field the document marks required: `isset` semantics, so `null` is "not set".
fn required(params: &Params, name: &str) -> Result<String, Reply> {
    match params.field(name) {
        Field::Text(text) => Ok(text),
        Field::Missing | Field::Null => Err(Reply::error(
            Code::BadParameter,
            format!("{name} is not set"),
        )),
        Field::Unusable => Err(Reply::error(
            Code::BadParameter,
            format!("{name} is not correct"),
        )),
    }
}

fn optional(params: &Params, name: &str) -> Result<Option<String>, Reply> {
    match params.field(name) {
        Field::Text(text) => Ok(Some(text)),
        Field::Missing | Field::Null => Ok(None),
        Field::Unusable => Err(Reply::error(
            Code::BadParameter,
            format!("{name} is not correct"),
        )),
    }
}

fn non_empty(name: &str, value: String) -> Result<String, Reply> {
    if value.trim().is_empty() {
        Err(Reply::error(Code::BadParameter, format!("{name} is empty")))
    } else {
        Ok(value)
    }
}

fn login_name(username: &str) -> Result<LoginName, Reply> {
    LoginName::parse_phone_or_username(username).map_err(|err| {
        let problem = match err {
            UsernameError::Empty => "username is empty",
            UsernameError::TooLong => "username is too long",
            UsernameError::BadCharacter => "username is not correct",
        };
        Reply::error(Code::BadParameter, problem)
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
fn path_id(req: &HttpRequest) -> Result<i64, Reply> {
    req.match_info()
        .get("id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Reply::error(Code::RequestFailed, detail::ILLEGAL_REQUEST))
}

/// The path's user must be the caller (§7.5 #10).
fn check_own_id(req: &HttpRequest, caller: &Caller) -> Result<(), Reply> {
    if path_id(req)? == caller.user_id() {
        Ok(())
    } else {
        Err(Reply::error(Code::RequestFailed, detail::ILLEGAL_REQUEST))
    }
}

/// `POST /api/user/register` — 用户注册 (004 §用户注册; BEHAVIOUR §3.4, §7.5 #4–#6).
pub async fn register(req: HttpRequest, payload: web::Payload, ctx: Ctx) -> Result<Reply, Reply> {
    let (req, ctx): (&HttpRequest, &DialectContext) = (&req, &ctx);
    let params = params(req, payload).await?;
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
    let password = non_empty("password", password)?;
    let name = non_empty("name", name)?;
    let mut profile = ProfilePatch::default().set(TextField::Nickname, name);
    if let Some(sex) = sex {
        profile.gender = Some(
            parse_sex(&sex)
                .ok_or_else(|| Reply::error(Code::BadParameter, "sex is not correct"))?,
        );
    }
    if let Some(century) = century.filter(|c| !c.trim().is_empty()) {
        profile = profile.set(TextField::BirthDecade, century.trim());
    }
    if let Some(mobile) = mobile.filter(|m| !m.trim().is_empty()) {
        profile = profile.set(TextField::ContactPhone, mobile.trim());
    }
    let (phone, username_identity) = match login {
        LoginName::Phone(phone) => (Some(phone), None),
        LoginName::Username(name) => (None, Some(name)),
    };
    let account = NewAccount {
        phone,
        username: username_identity,
        proof: PhoneProof::Unverified,
        password: PasswordInput::Plain(password),
        profile,
    };
    match ctx.service.register(account).await {
        Ok(_) => Ok(Reply::success()),
        Err(CoreError::PhoneAlreadyRegistered | CoreError::UsernameTaken) => Err(Reply::error(
            Code::RequestFailed,
            format!("{} is already taken.", username.trim()),
        )),
        Err(err) => Err(core_error(&err)),
    }
}

/// `POST /api/user/login` — 用户登录 (004 §用户登录; BEHAVIOUR §3.4, §3.5).
pub async fn login(req: HttpRequest, payload: web::Payload, ctx: Ctx) -> Result<Reply, Reply> {
    let (req, ctx): (&HttpRequest, &DialectContext) = (&req, &ctx);
    let params = params(req, payload).await?;
    let username = required(&params, "username")?;
    let password = required(&params, "password")?;
    let user_id = auth::login(ctx, req, &username, &password).await?;
    let ttl = ctx
        .settings
        .uint(super::TOKEN_TTL_KEY)
        .unwrap_or(super::DEFAULT_TOKEN_TTL);
    let session = ctx
        .service
        .create_session(
            user_id,
            SessionSpec {
                dialect: super::SPEC.id,
                shape: TokenShape::UuidShaped,
                ttl: Duration::from_secs(ttl),
                client_id: None,
                single_per_user: false,
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Reply::data(LoginData {
        token_id: session.token,
        userid: user_id.to_string(),
    }))
}

/// `POST /api/user/resetpwd` — 重置密码: a logged-in change of password (004 §重置密码;
/// BEHAVIOUR §3.4, §7.5 #9). Missing fields are reported before the token is checked.
pub async fn reset_password(
    req: HttpRequest,
    payload: web::Payload,
    ctx: Ctx,
) -> Result<Reply, Reply> {
    let (req, ctx): (&HttpRequest, &DialectContext) = (&req, &ctx);
    let params = params(req, payload).await?;
    let old = required(&params, "password")?;
    let new = required(&params, "newpassword")?;
    let caller = auth::authenticate(ctx, req).await?;
    let new = non_empty("newpassword", new)?;
    ctx.service
        .change_password(
            caller.user_id(),
            &PasswordInput::Plain(old),
            &PasswordInput::Plain(new),
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Reply::success())
}

/// `POST /api/user/logout` — 用户登出 (004 §用户登出; BEHAVIOUR §3.4, §7.5 #8): `username` must
/// name the token's owner; `password` is ignored.
pub async fn logout(req: HttpRequest, payload: web::Payload, ctx: Ctx) -> Result<Reply, Reply> {
    let (req, ctx): (&HttpRequest, &DialectContext) = (&req, &ctx);
    let params = params(req, payload).await?;
    let username = required(&params, "username")?;
    let caller = auth::authenticate(ctx, req).await?;
    let Caller::Token { user_id, token } = caller else {
        // Header credentials carry no token: there is nothing to end.
        return Ok(Reply::success());
    };
    let illegal = || Reply::error(Code::RequestFailed, detail::ILLEGAL_IDENTITY);
    let named = LoginName::parse_phone_or_username(&username).map_err(|_| illegal())?;
    let owner = ctx
        .service
        .find_user(&named)
        .await
        .map_err(|err| core_error(&err))?;
    if owner != Some(user_id) {
        return Err(illegal());
    }
    ctx.service
        .revoke_session(&token)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Reply::success())
}

/// `POST /api/user/<id>/edit` — 用户修改资料 (004 §用户修改资料; BEHAVIOUR §3.4, §7.5 #15): only
/// `name` is editable.
pub async fn edit(req: HttpRequest, payload: web::Payload, ctx: Ctx) -> Result<Reply, Reply> {
    let (req, ctx): (&HttpRequest, &DialectContext) = (&req, &ctx);
    let params = params(req, payload).await?;
    let caller = auth::authenticate(ctx, req).await?;
    check_own_id(req, &caller)?;
    if let Some(key) = params.names().find(|key| *key != "name") {
        return Err(Reply::error(
            Code::RequestFailed,
            format!("{key} Not editable"),
        ));
    }
    let Some(name) = optional(&params, "name")? else {
        return Ok(Reply::success());
    };
    let name = non_empty("name", name)?;
    ctx.service
        .update_profile(
            caller.user_id(),
            ProfilePatch::default().set(TextField::Nickname, name),
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Reply::success())
}

fn parse_enable(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "true" | "True" | "on" | "On" => Some(true),
        "0" | "false" | "False" | "off" | "Off" => Some(false),
        _ => None,
    }
}

/// `POST /api/user/<id>/push` — 用户信息推送开关 (004 §用户信息推送开关; BEHAVIOUR §3.4, §7.5 #16):
/// the intended semantics, not the original's loose-comparison bug.
pub async fn push(req: HttpRequest, payload: web::Payload, ctx: Ctx) -> Result<Reply, Reply> {
    let (req, ctx): (&HttpRequest, &DialectContext) = (&req, &ctx);
    let params = params(req, payload).await?;
    let enable = match params.field("enable") {
        Field::Missing | Field::Null => {
            return Err(Reply::error(Code::BadParameter, "enable is not set"));
        }
        Field::Unusable => None,
        Field::Text(text) => parse_enable(&text),
    };
    let caller = auth::authenticate(ctx, req).await?;
    check_own_id(req, &caller)?;
    let enable =
        enable.ok_or_else(|| Reply::error(Code::BadParameter, detail::ENABLE_NOT_CORRECT))?;
    let patch = ProfilePatch {
        push_enabled: Some(enable),
        ..ProfilePatch::default()
    };
    ctx.service
        .update_profile(caller.user_id(), patch)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Reply::success())
}

/// `GET /api/user/<id>` (also POST, as the document's curl does) — 用户详情 (004 last section;
/// BEHAVIOUR §3.4, §3.5, §7.5 #2): public fields, every value a string or null; no token needed.
pub async fn detail(req: HttpRequest, ctx: Ctx) -> Result<Reply, Reply> {
    let id = path_id(&req)?;
    let card = ctx
        .service
        .profile_card(id)
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound => Reply::error(Code::RequestFailed, detail::NO_SUCH_USER),
            other => core_error(&other),
        })?;
    Ok(Reply::data(user_detail(card)))
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
