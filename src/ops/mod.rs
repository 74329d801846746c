//! The ops listener: health, readiness, Prometheus metrics, the dialects' OpenAPI documents, the
//! admin API (with the cutover's modes and shadow comparisons) and the ops console.

pub mod admin;
pub mod clients;
pub mod cockpit_api;
pub mod console;
pub mod health;
pub mod lookup;
pub mod metrics;
pub mod observe;
pub mod openapi;

use actix_web::{App, HttpResponse, web};

use crate::service::Service;

/// What the ops handlers share.
#[derive(Clone)]
pub struct OpsState {
    pub service: Service,
    pub metrics: std::sync::Arc<metrics::Metrics>,
    pub cutover: std::sync::Arc<crate::cutover::Cutover>,
    pub admin_token: Option<String>,
    pub openapi: std::sync::Arc<openapi::Documents>,
}

/// Builds the ops application.
pub fn app(
    state: OpsState,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(state))
        .app_data(web::JsonConfig::default().limit(64 * 1024))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics::render))
        .route("/openapi/{file}", web::get().to(openapi::document))
        .configure(console::routes)
        .service(admin::scope())
        .default_service(web::to(|| async {
            HttpResponse::NotFound().json(serde_json::json!({"error": "not found"}))
        }))
}
