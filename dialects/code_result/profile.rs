//! Profiles: nickname and portrait, one user by id or by phone, several by id (rows 9, 10, 13,
//! 20–22 of the original's route table).

use actix_web::{HttpRequest, web};
use serde_json::{Value, json};

use super::error::{Failure, core_error, text};
use super::{Config, State, auth, rules};
use crate::dialects::DialectContext;
use crate::dialects::kit::{Answer, Params, Reply};
use crate::domain::CoreError;
use crate::domain::profile::{ProfileCard, ProfilePatch, TextField};

type Ctx = web::Data<State>;

/// `{id, nickname, portraitUri}` with the encoded id; no portrait is `""`.
pub fn card_json(config: &Config, card: &ProfileCard) -> Value {
    json!({
        "id": config.wire_id(card.id),
        "nickname": card.nickname,
        "portraitUri": card.avatar_url.clone().unwrap_or_default(),
    })
}

/// `POST /user/set_nickname` (route 9).
pub async fn set_nickname(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(update(&req, payload, &state, TextField::Nickname).await)
}

/// `POST /user/set_portrait_uri` (route 10).
pub async fn set_portrait_uri(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(update(&req, payload, &state, TextField::AvatarUrl).await)
}

/// One visible profile field: the core moves the user's version and the friendship version of
/// everyone who has the user as a friend.
async fn update(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
    field: TextField,
) -> Result<Reply, Failure> {
    let (caller, params) = auth::logged_in(req, payload, state).await?;
    let value = match field {
        TextField::AvatarUrl => rules::portrait_uri(&params.required("portraitUri")?)?,
        _ => rules::nickname(&params.required("nickname")?, "Invalid nickname length.")?,
    };
    state
        .ctx
        .service
        .update_profile(caller.user_id, ProfilePatch::default().set(field, value))
        .await
        .map_err(|err| core_error(&err))?;
    Ok(state.ok(None))
}

/// `POST /user/upload_contacts` (route 13): the original answered `404 Not implements.`.
pub async fn upload_contacts(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(not_implemented(&req, payload, &state).await)
}

async fn not_implemented(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    auth::logged_in(req, payload, state).await?;
    Err(Failure::not_found(text::NOT_IMPLEMENTED))
}

/// `GET /user/:id` (route 21).
pub async fn user(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(user_by_path(&req, payload, &state).await)
}

async fn user_by_path(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let segment = req.match_info().get("id").unwrap_or_default();
    let Some(id) = decode_user_id(&state.config, segment) else {
        auth::logged_in(req, payload, state).await?;
        return Err(unknown_user());
    };
    let (_, card) = auth::logged_in_with_card(req, payload, state, id).await?;
    let card = card.ok_or_else(unknown_user)?;
    Ok(card_reply(&state.ctx, &state.config, &card))
}

fn unknown_user() -> Failure {
    Failure::not_found(text::UNKNOWN_USER)
}

fn decode_user_id(config: &Config, segment: &str) -> Option<i64> {
    config
        .ids
        .decode(segment)
        .and_then(|id| i64::try_from(id).ok())
}

fn card_reply(ctx: &DialectContext, config: &Config, card: &ProfileCard) -> Reply {
    let with_messages = ctx.service.config().testing.enabled;
    super::wire::Business::ok(Some(card_json(config, card))).render(with_messages)
}

/// The `/:id` route's answer for a path segment: an id that does not decode, or names nobody,
/// is `404 Unknown user.`. The failure hook uses it for GETs of other single segments, which
/// the original's router gave to `/:id` as well.
pub async fn user_by_segment(
    ctx: &DialectContext,
    config: &Config,
    segment: &str,
) -> Result<Reply, Failure> {
    let id = decode_user_id(config, segment).ok_or_else(unknown_user)?;
    let card = ctx
        .service
        .profile_card(id)
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound => unknown_user(),
            other => core_error(&other),
        })?;
    Ok(card_reply(ctx, config, &card))
}

/// `GET /user/batch?id=…&id=…` (route 20): ids that do not decode or name nobody are
/// dropped; the rest in ascending id order.
pub async fn batch(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(users_by_ids(&req, payload, &state).await)
}

async fn users_by_ids(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    auth::logged_in(req, payload, state).await?;
    let ids: Vec<i64> = Params::query(req.query_string())
        .all("id")
        .iter()
        .filter_map(|wire| state.config.ids.decode(wire))
        .filter_map(|id| i64::try_from(id).ok())
        .collect();
    let cards = state
        .ctx
        .service
        .profile_cards(ids)
        .await
        .map_err(|err| core_error(&err))?;
    let users: Vec<Value> = cards
        .iter()
        .map(|card| card_json(&state.config, card))
        .collect();
    Ok(state.ok(Some(Value::Array(users))))
}

/// `GET /user/find/:region/:phone` (route 22).
pub async fn find(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(user_by_phone(&req, payload, &state).await)
}

async fn user_by_phone(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    auth::logged_in(req, payload, state).await?;
    let region = req.match_info().get("region").unwrap_or_default();
    let phone = req.match_info().get("phone").unwrap_or_default();
    let phone = rules::region_and_phone(region, phone)?;
    let service = &state.ctx.service;
    let id = service
        .find_user_by_phone(&phone)
        .await
        .map_err(|err| core_error(&err))?
        .ok_or_else(|| Failure::not_found(text::UNKNOWN_USER))?;
    let card = service.profile_card(id).await.map_err(|err| match err {
        CoreError::UserNotFound => Failure::not_found(text::UNKNOWN_USER),
        other => core_error(&other),
    })?;
    Ok(state.ok(Some(card_json(&state.config, &card))))
}
