//! `GET /openapi/<dialect>.json`: the OpenAPI 3.1 document of each served dialect, its server
//! the dialect's bound address and prefix.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use actix_web::{HttpResponse, web};

use super::OpsState;
use crate::dialects::{DialectSpec, kit::openapi};

/// The documents of the served dialects, rendered once at start-up, by dialect id.
pub type Documents = BTreeMap<&'static str, String>;

/// The base URL of a dialect bound at `address` under `prefix`; an unspecified address
/// (`0.0.0.0`) is written as the loopback one, which reaches it from the same machine.
pub fn server_url(address: SocketAddr, prefix: &str) -> String {
    let mut address = address;
    if address.ip().is_unspecified() {
        address.set_ip(match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{address}{prefix}")
}

/// The document of `spec`, pretty-printed as served and printed.
pub fn render(spec: &DialectSpec, server_url: &str) -> String {
    let document = openapi::document(spec, server_url);
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

pub async fn document(state: web::Data<OpsState>, file: web::Path<String>) -> HttpResponse {
    let found = file
        .strip_suffix(".json")
        .and_then(|id| state.openapi.get(id));
    match found {
        Some(text) => HttpResponse::Ok()
            .content_type("application/json")
            .body(text.clone()),
        None => HttpResponse::NotFound().json(serde_json::json!({
            "error": "no such dialect is served here",
            "served": state.openapi.keys().map(|id| format!("/openapi/{id}.json")).collect::<Vec<_>>(),
        })),
    }
}
