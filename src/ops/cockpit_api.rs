//! The admin API of the migration cockpit: each dialect's mode (read and switched at run
//! time), the shadow comparisons (counts per endpoint, the kept differences) and the traffic per
//! dialect and client over the last hour.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::OpsState;
use super::admin::error;
use crate::cutover::SwitchError;
use crate::settings::Mode;

/// Registers the routes under the admin scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/traffic", web::get().to(traffic))
        .route("/dialects", web::get().to(modes))
        .route("/dialects/{id}/mode", web::put().to(switch))
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
/// the dialect's mode now. Requests already received finish in the mode they started in.
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
    match state.cutover.switch(&id, mode, body.legacy_url.as_deref()) {
        Ok(now) => HttpResponse::Ok().json(now),
        Err(err @ SwitchError::UnknownDialect(_)) => error(StatusCode::NOT_FOUND, err.to_string()),
        Err(err @ (SwitchError::BadUrl(_) | SwitchError::NoLegacyUrl(_))) => {
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
