//! `/healthz` (the process answers) and `/readyz` (the database answers too).

use actix_web::{HttpResponse, web};

use super::OpsState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

pub async fn readyz(state: web::Data<OpsState>) -> HttpResponse {
    if state.service.database_ready().await {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "database unreachable"}))
    }
}
