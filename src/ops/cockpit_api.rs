//! The admin API of the migration cockpit: each dialect's mode (read and switched at run
//! time), the shadow comparisons (counts per endpoint, the kept differences) and the traffic per
//! dialect and client over the last hour.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::OpsState;
use super::admin::{error, respond};
use crate::cutover::SwitchError;
use crate::settings::Mode;

/// Registers the routes under the admin scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/traffic", web::get().to(traffic))
        .route("/dialects", web::get().to(modes))
        .route("/dialects/{id}/mode", web::put().to(switch))
        .route("/dialects/{id}/mode", web::delete().to(forget))
        .route("/shadow", web::get().to(shadow))
        .route("/shadow/{id}", web::get().to(one_difference));
}

/// `GET /admin/traffic` → `{"slot_seconds": 10, "series": [{dialect, client, points: [[start
/// ms, requests], …]}]}`: this process's requests over the last hour.
async fn traffic(state: web::Data<OpsState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "slot_seconds": crate::ops::metrics::SLOT_SECONDS,
        "series": state.metrics.history(),
    }))
}

/// `GET /admin/dialects` → `{"dialects": [{"id", "mode", "legacy_url"}]}`.
async fn modes(state: web::Data<OpsState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"dialects": state.cutover.modes()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchBody {
    mode: String,
    legacy_url: Option<String>,
}

/// `PUT /admin/dialects/<id>/mode` `{"mode": "serve" | "shadow" | "proxy", "legacy_url"?}` →
/// the dialect's mode now. The choice is stored in the database: this process applies it at
/// once, every other process on the database within [`crate::cutover::FOLLOW_EVERY`]; requests
/// already received finish in the mode they started in.
async fn switch(
    state: web::Data<OpsState>,
    id: web::Path<String>,
    body: web::Json<SwitchBody>,
) -> HttpResponse {
    let Some(mode) = Mode::parse(&body.mode) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("`{}` is not a mode: serve, shadow or proxy", body.mode),
        );
    };
    let checked = match state.cutover.check(&id, mode, body.legacy_url.as_deref()) {
        Ok(checked) => checked,
        Err(err) => return switch_error(&err),
    };
    let stored = state
        .service
        .store_mode(checked.dialect, mode.as_str(), checked.legacy_url.clone())
        .await;
    match stored {
        Ok(()) => {
            let now = state.service.now_ms();
            HttpResponse::Ok().json(state.cutover.apply(&checked, now))
        }
        Err(err) => respond(Err(err)),
    }
}

/// `DELETE /admin/dialects/<id>/mode` → the dialect's mode from its settings again, in every
/// process.
async fn forget(state: web::Data<OpsState>, id: web::Path<String>) -> HttpResponse {
    if let Err(err) = state.cutover.check(&id, Mode::Serve, None) {
        return switch_error(&err);
    }
    if let Err(err) = state.service.forget_mode(&id).await {
        return respond(Err(err));
    }
    match state.cutover.forget(&id) {
        Ok(now) => HttpResponse::Ok().json(now),
        Err(err) => switch_error(&err),
    }
}

fn switch_error(err: &SwitchError) -> HttpResponse {
    match err {
        SwitchError::UnknownDialect(_) => error(StatusCode::NOT_FOUND, err.to_string()),
        SwitchError::BadUrl(_) | SwitchError::NoLegacyUrl(_) => {
            error(StatusCode::BAD_REQUEST, err.to_string())
        }
    }
}

/// `GET /admin/shadow` → `{"endpoints": [{dialect, endpoint, same, accepted, different,
/// failed, skipped}], "differences": [{id, at_ms, dialect, endpoint, method, path, count}],
/// "rules": [{name, hits}]}`, the differences newest first.
async fn shadow(state: web::Data<OpsState>) -> HttpResponse {
    let differences: Vec<_> = state
        .cutover
        .shadow
        .kept()
        .into_iter()
        .map(|kept| {
            json!({
                "id": kept.id,
                "at_ms": kept.at_ms,
                "dialect": kept.dialect,
                "endpoint": kept.endpoint,
                "method": kept.request.method,
                "path": kept.request.path,
                "count": kept.differences.len(),
            })
        })
        .collect();
    let rules = state.cutover.rules();
    let rules: Vec<_> = rules
        .rules
        .iter()
        .map(|rule| json!({"name": rule.name, "hits": rule.hits()}))
        .collect();
    HttpResponse::Ok().json(json!({
        "endpoints": state.cutover.shadow.counts(),
        "differences": differences,
        "rules": rules,
    }))
}

/// `GET /admin/shadow/<id>` → one kept difference: the request, both answers (redacted), the
/// differences and the accepted ones.
async fn one_difference(state: web::Data<OpsState>, id: web::Path<u64>) -> HttpResponse {
    match state.cutover.shadow.find(*id) {
        Some(kept) => HttpResponse::Ok().json(kept),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no kept difference {id} (only the newest are kept)"),
        ),
    }
}
