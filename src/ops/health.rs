//! `/healthz` (the process answers) and `/readyz` (the database answers too).

use std::time::Duration;

use actix_web::{HttpResponse, web};

use super::OpsState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// How long readiness waits for a database connection before it says "not ready".
const READINESS_LIMIT: Duration = Duration::from_secs(2);

pub async fn readyz(state: web::Data<OpsState>) -> HttpResponse {
    if state.service.database_ready(READINESS_LIMIT).await {
        HttpResponse::Ok().json(serde_json::json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "database unreachable"}))
    }
}
