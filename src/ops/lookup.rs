//! The admin API's user lookup, for the ops console and support: one account by phone or id,
//! with its valid sessions per dialect (never their tokens).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::OpsState;
use super::admin::{error, respond};
use crate::domain::UserId;
use crate::domain::phone::Phone;

/// Registers the routes under the admin scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(find))
        .route("/users/{id}", web::get().to(by_id));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wanted {
    phone: Option<String>,
    region: Option<String>,
}

/// `GET /admin/users?phone=<number>[&region=86]` → the account, as `GET /admin/users/<id>`.
async fn find(state: web::Data<OpsState>, wanted: web::Query<Wanted>) -> HttpResponse {
    let Some(number) = wanted
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "give phone=<number> (and region=, default 86)",
        );
    };
    let region = wanted.region.as_deref().map_or("86", str::trim);
    let Ok(phone) = Phone::parse(region, number) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("+{region} {number} is not a phone number"),
        );
    };
    match state.service.find_user_by_phone(&phone).await {
        Ok(Some(id)) => account(&state, id).await,
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("no account has +{region} {number}"),
        ),
        Err(err) => respond(Err(err)),
    }
}

/// `GET /admin/users/<id>` → `{id, region, phone, username, nickname, role, banned,
/// sessions: [{dialect, client_id, created_at, expires_at}]}`.
async fn by_id(state: web::Data<OpsState>, id: web::Path<UserId>) -> HttpResponse {
    account(&state, id.into_inner()).await
}

async fn account(state: &OpsState, id: UserId) -> HttpResponse {
    let profile = match state.service.profile(id).await {
        Ok(profile) => profile,
        Err(err) => return respond(Err(err)),
    };
    let sessions = match state.service.live_sessions(id).await {
        Ok(sessions) => sessions,
        Err(err) => return respond(Err(err)),
    };
    HttpResponse::Ok().json(json!({
        "id": profile.id,
        "region": profile.phone.as_ref().map(|p| p.region().to_owned()),
        "phone": profile.phone.as_ref().map(|p| p.number().to_owned()),
        "username": profile.username,
        "nickname": profile.nickname,
        "role": profile.role.name(),
        "banned": profile.banned,
        "sessions": sessions,
    }))
}
