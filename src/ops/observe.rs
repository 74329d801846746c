//! The middleware around every dialect listener: a request id (echoed as `X-Request-Id`), a
//! tracing span, a log line, and the request's metrics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use super::metrics::{InFlight, Metrics, Outcome};

pub const REQUEST_ID: &str = "x-request-id";

/// Which dialect owns which prefix on one listener; the longest matching prefix wins.
#[derive(Clone)]
pub struct ListenerMap {
    pub metrics: Arc<Metrics>,
    /// `(prefix, dialect id)`, longest prefix first.
    pub prefixes: Arc<Vec<(String, &'static str)>>,
    /// Each dialect's in-flight counter.
    pub in_flight: Arc<BTreeMap<&'static str, Arc<AtomicI64>>>,
}

impl ListenerMap {
    pub fn owner(&self, path: &str) -> Option<(&str, &'static str)> {
        self.prefixes
            .iter()
            .find(|(prefix, _)| {
                prefix.is_empty()
                    || path == prefix
                    || path
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .map(|(prefix, id)| (prefix.as_str(), *id))
    }
}

fn request_id(req: &ServiceRequest) -> String {
    let offered = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    match offered {
        Some(id) => id.to_owned(),
        None => {
            let bytes: [u8; 8] = rand::random();
            crate::domain::credential::to_hex(&bytes)
        }
    }
}

/// Turns a route pattern into a metrics label: the prefix and regex constraints removed.
fn endpoint_label(pattern: Option<String>, prefix: &str) -> String {
    let Some(pattern) = pattern else {
        return "unmatched".to_owned();
    };
    let path = pattern.strip_prefix(prefix).unwrap_or(&pattern);
    let mut label = String::with_capacity(path.len());
    let mut in_constraint = false;
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                label.push(c);
            }
            '}' => {
                depth -= 1;
                in_constraint = false;
                label.push(c);
            }
            ':' if depth > 0 => in_constraint = true,
            _ if in_constraint => {}
            _ => label.push(c),
        }
    }
    if label.is_empty() {
        "/".to_owned()
    } else {
        label
    }
}

pub async fn observe(
    map: ListenerMap,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let (prefix, dialect) = map
        .owner(req.path())
        .map(|(p, d)| (p.to_owned(), d))
        .unwrap_or((String::new(), "none"));
    let span = tracing::info_span!("request", id = %id, dialect, method = %req.method(), path = %req.path());
    let in_flight = map.in_flight.get(dialect).cloned().map(InFlight::enter);
    let mut response = next.call(req).instrument(span.clone()).await?;
    drop(in_flight);
    let status = response.status().as_u16();
    let outcome = response
        .response()
        .extensions()
        .get::<Outcome>()
        .copied()
        .unwrap_or_else(|| Outcome::from_status(status));
    let endpoint = endpoint_label(response.request().match_pattern(), &prefix);
    let client_header = crate::dialects::find(dialect).and_then(|spec| spec.client_header);
    let client = super::clients::label(response.request(), client_header);
    let elapsed = started.elapsed();
    map.metrics
        .record(dialect, &endpoint, outcome, &client, elapsed);
    span.in_scope(|| {
        tracing::info!(status, outcome = outcome.as_str(), endpoint = %endpoint, client = %client, micros = elapsed.as_micros() as u64, "answered");
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_drop_prefix_and_constraints() {
        assert_eq!(
            endpoint_label(Some(r"/blueu/api/user/{id:[0-9]+}/edit".into()), "/blueu"),
            "/api/user/{id}/edit"
        );
        assert_eq!(
            endpoint_label(Some("/api/user/login".into()), ""),
            "/api/user/login"
        );
        assert_eq!(endpoint_label(None, ""), "unmatched");
    }

    #[test]
    fn longest_prefix_owns_the_path() {
        let map = ListenerMap {
            metrics: Arc::default(),
            in_flight: Arc::default(),
            prefixes: Arc::new(vec![
                ("/a/b".into(), "two"),
                ("/a".into(), "one"),
                (String::new(), "root"),
            ]),
        };
        assert_eq!(map.owner("/a/b/c").map(|o| o.1), Some("two"));
        assert_eq!(map.owner("/a/x").map(|o| o.1), Some("one"));
        assert_eq!(map.owner("/ab").map(|o| o.1), Some("root"));
    }
}
