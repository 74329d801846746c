//! The original's request pipeline, in its order: the JSON body, the auth cookie (over core
//! sessions instead of the original's forgeable cipher text), then the parameter preprocessor
//! that decodes `*Id` fields and refuses present-but-empty values.

use actix_web::HttpRequest;
use actix_web::cookie::Cookie;
use actix_web::cookie::time::{Duration as CookieDuration, OffsetDateTime};
use actix_web::web;
use serde_json::Value;

use super::error::{Failure, core_error};
use super::wire::TextError;
use super::{Config, State};
use crate::dialects::DialectContext;
use crate::dialects::kit::{Params, client_ip, cookie_value, read_body};
use crate::domain::UserId;
use crate::domain::profile::ProfileCard;
use crate::domain::token::TokenShape;
use crate::service::profiles::Whose;
use crate::service::sessions::{Expect, SessionSpec};

/// Requests of this API are small JSON objects.
const BODY_LIMIT: usize = 64 * 1024;

/// Paths the original's auth middleware let through without a cookie (exact match).
const EXEMPT: &[&str] = &[
    "/user/login",
    "/user/register",
    "/user/reset_password",
    "/user/send_code",
    "/user/verify_code",
    "/user/get_sms_img_code",
    "/user/check_username_available",
    "/user/check_phone_available",
];

/// Fields the preprocessor lets be empty.
const MAY_BE_EMPTY: &[&str] = &["displayName", "pushContent", "bulletin"];

/// The logged-in caller and the session token the cookie carried.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub token: String,
}

/// The request path below the dialect's prefix.
pub fn dialect_path(req: &HttpRequest, prefix: &str) -> String {
    let path = req.path();
    path.strip_prefix(prefix)
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(path)
        .to_owned()
}

pub fn is_exempt(path: &str) -> bool {
    EXEMPT.contains(&path)
}

/// The caller the cookie names: a missing, empty, unknown, revoked or expired session is
/// `403 Not loged in.`.
pub async fn caller(
    req: &HttpRequest,
    ctx: &DialectContext,
    config: &Config,
) -> Result<Caller, Failure> {
    let token = session_token(req, config)?;
    let from = client_ip(req);
    let session = ctx
        .service
        .authenticate(super::SPEC.id, &token, from_address(from.as_deref()))
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Caller {
        user_id: session.user_id,
        token,
    })
}

fn session_token(req: &HttpRequest, config: &Config) -> Result<String, Failure> {
    cookie_value(req, &config.cookie_name).ok_or_else(|| Failure::Text(TextError::not_logged_in()))
}

fn from_address(from: Option<&str>) -> Expect<'_> {
    Expect {
        from,
        ..Expect::NOTHING
    }
}

/// The body as the original's body parser read it: JSON (also without a Content-Type); an
/// empty body has no parameters, an unreadable one goes to the failure hook.
async fn body(req: &HttpRequest, payload: web::Payload) -> Result<Params, Failure> {
    let bytes = read_body(req, payload, BODY_LIMIT).await?;
    Ok(Params::json(&bytes)?)
}

/// A request to a path open without a cookie: its preprocessed parameters.
pub async fn open(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Params, Failure> {
    let params = body(req, payload).await?;
    preprocess(params, state)
}

/// A request that needs the cookie: the caller and the preprocessed parameters.
pub async fn logged_in(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<(Caller, Params), Failure> {
    let params = body(req, payload).await?;
    let caller = caller(req, &state.ctx, &state.config).await?;
    Ok((caller, preprocess(params, state)?))
}

/// As [`logged_in`] for a read of one user's card: the session and the card in one round
/// trip; the card is `None` when the id names nobody.
pub async fn logged_in_with_card(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
    user_id: UserId,
) -> Result<(Params, Option<ProfileCard>), Failure> {
    let params = body(req, payload).await?;
    let token = session_token(req, &state.config)?;
    let from = client_ip(req);
    let (_, card) = state
        .ctx
        .service
        .authenticated_card(
            super::SPEC.id,
            &token,
            from_address(from.as_deref()),
            Whose::User(user_id),
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok((preprocess(params, state)?, card))
}

/// The preprocessor, property by property in body order: a name ending in `Id` or `Ids` is
/// decoded into raw ids (a value that does not decode becomes null), then a value that is `""`,
/// null or `[]` is `400 Empty <prop>.` unless the field may be empty.
fn preprocess(mut params: Params, state: &State) -> Result<Params, Failure> {
    let names: Vec<String> = params.names().map(str::to_owned).collect();
    for name in names {
        let Some(value) = params.value(&name).cloned() else {
            continue;
        };
        let value = if name.ends_with("Id") || name.ends_with("Ids") {
            let decoded = decode_ids(&value, state);
            params = params.with_value(&name, decoded.clone());
            decoded
        } else {
            value
        };
        let empty = match &value {
            Value::Null => true,
            Value::String(text) => text.is_empty(),
            Value::Array(items) => items.is_empty(),
            Value::Bool(_) | Value::Number(_) | Value::Object(_) => false,
        };
        if empty && !MAY_BE_EMPTY.contains(&name.as_str()) {
            return Err(Failure::Text(TextError::empty(&name)));
        }
    }
    Ok(params)
}

/// `Utility.decodeIds`: a string to its raw id, an array element by element; anything that
/// does not decode is null.
fn decode_ids(value: &Value, state: &State) -> Value {
    match value {
        Value::String(text) => state
            .config
            .ids
            .decode(text)
            .map_or(Value::Null, Value::from),
        Value::Array(items) => {
            let decoded: Option<Vec<Value>> = items
                .iter()
                .map(|item| match item {
                    Value::String(text) => state.config.ids.decode(text).map(Value::from),
                    _ => None,
                })
                .collect();
            decoded.map_or(Value::Null, Value::Array)
        }
        _ => Value::Null,
    }
}

/// Opens a session for `user_id` and the cookie that carries it.
pub async fn start_session(state: &State, user_id: UserId) -> Result<Cookie<'static>, Failure> {
    let session = state
        .ctx
        .service
        .create_session(
            user_id,
            SessionSpec {
                dialect: super::SPEC.id,
                shape: TokenShape::Opaque,
                ttl: state.config.cookie_max_age,
                client_id: None,
                single_per_user: false,
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    let max_age = i64::try_from(state.config.cookie_max_age.as_secs()).unwrap_or(i64::MAX);
    let expires = OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(state.ctx.service.now_ms()) * 1_000_000 + i128::from(max_age) * 1_000_000_000,
    )
    .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Ok(cookie(&state.config, session.token)
        .max_age(CookieDuration::seconds(max_age))
        .expires(expires)
        .finish())
}

/// The cookie `res.clearCookie` sent: empty, expired at the epoch.
pub fn cleared_cookie(config: &Config) -> Cookie<'static> {
    cookie(config, String::new())
        .expires(OffsetDateTime::UNIX_EPOCH)
        .finish()
}

fn cookie(config: &Config, value: String) -> actix_web::cookie::CookieBuilder<'static> {
    let builder = Cookie::build(config.cookie_name.clone(), value)
        .path("/")
        .http_only(true);
    match &config.cookie_domain {
        Some(domain) => builder.domain(domain.clone()),
        None => builder,
    }
}
