//! The ops console at `/console`: one page, its script and its style, compiled into the binary
//! (no CDN, no build step), shown only when the admin API is on. The page asks for the admin
//! token and reads everything through the admin API with it.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use actix_web::{HttpResponse, web};

use super::OpsState;
use super::admin::error;

const PAGE: &str = include_str!("console/index.html");
const SCRIPT: &str = include_str!("console/console.js");
const STYLE: &str = include_str!("console/console.css");

/// Nothing but this listener's own files and its admin API: no inline code, no other origin.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                      connect-src 'self'; img-src 'self'; form-action 'self'; \
                      frame-ancestors 'none'; base-uri 'none'";

/// Registers the console's routes on the ops application.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(page))
        .route("/console/", web::get().to(page))
        .route("/console/console.js", web::get().to(script))
        .route("/console/console.css", web::get().to(style));
}

fn asset(state: &OpsState, content_type: &'static str, body: &'static str) -> HttpResponse {
    if state.admin_token.is_none() {
        return error(
            StatusCode::NOT_FOUND,
            "the ops console needs the admin API: set ops.admin_token to turn it on",
        );
    }
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(body)
}

async fn page(state: web::Data<OpsState>) -> HttpResponse {
    asset(&state, "text/html; charset=utf-8", PAGE)
}

async fn script(state: web::Data<OpsState>) -> HttpResponse {
    asset(&state, "text/javascript; charset=utf-8", SCRIPT)
}

async fn style(state: web::Data<OpsState>) -> HttpResponse {
    asset(&state, "text/css; charset=utf-8", STYLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_reaches_nothing_outside_its_listener() {
        for (name, text) in [("page", PAGE), ("script", SCRIPT), ("style", STYLE)] {
            for outside in ["http://", "https://", "//cdn", "@import"] {
                let allowed = text.matches("http://www.w3.org/2000/svg").count();
                let found = text.matches(outside).count();
                let found = if outside == "http://" {
                    found - allowed
                } else {
                    found
                };
                assert_eq!(found, 0, "{name} mentions {outside}");
            }
        }
        assert!(
            !PAGE.contains("<script>"),
            "no inline script (the policy forbids it)"
        );
        assert!(!SCRIPT.contains("innerHTML"), "values are written as text");
    }
}
