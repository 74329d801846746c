//! Reading the rest of a request: the bounded body, headers, cookies and the client address.

use std::future::Future;
use std::time::Duration;

use actix_web::error::PayloadError;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use super::failure::{FrameworkError, RequestPart};
use super::params::{Params, Winner};

/// How long a request body may take to arrive after its head (`http.body_timeout_seconds`),
/// put in each dialect listener's app data at start-up.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

impl BodyTimeout {
    /// The listener's body timeout; the default when a test mounts a dialect without one.
    pub fn of(req: &HttpRequest) -> Duration {
        req.app_data::<BodyTimeout>()
            .map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0)
    }
}

const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a body read under the listener's body timeout: a client that trickles its body, or
/// declares more than it sends, gets the dialect's malformed-request answer instead of holding
/// a worker's attention for ever.
pub async fn within_body_timeout<T, E: From<FrameworkError>>(
    req: &HttpRequest,
    read: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let limit = BodyTimeout::of(req);
    match actix_web::rt::time::timeout(limit, read).await {
        Ok(result) => result,
        Err(_) => Err(FrameworkError::Malformed {
            part: RequestPart::Body,
            detail: format!("the body did not arrive within {} s", limit.as_secs()),
        }
        .into()),
    }
}

/// What a client is told about a body that broke off: its own fault in plain words, never the
/// framework's internal text.
pub fn payload_problem(err: &PayloadError) -> FrameworkError {
    match err {
        PayloadError::Overflow => FrameworkError::PayloadTooLarge,
        PayloadError::Incomplete(_) => FrameworkError::Malformed {
            part: RequestPart::Body,
            detail: "the body ended before its declared length".to_owned(),
        },
        _ => FrameworkError::Malformed {
            part: RequestPart::Body,
            detail: "the body could not be read".to_owned(),
        },
    }
}

/// Reads the whole body, refusing more than `limit` bytes: a declared Content-Length is
/// checked before anything is read, the running total while reading. Reading stops at the
/// declared length (a request marked `Connection: Upgrade` would otherwise be read until the
/// client hangs up), and the whole read is bounded by the body timeout.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, FrameworkError> {
    let declared = declared_length(req);
    if declared.is_some_and(|len| len > limit) {
        return Err(FrameworkError::PayloadTooLarge);
    }
    within_body_timeout(req, async move {
        let mut body = web::BytesMut::new();
        while declared.is_none_or(|len| body.len() < len) {
            let Some(chunk) = payload.next().await else {
                break;
            };
            let chunk = chunk.map_err(|err| payload_problem(&err))?;
            if body.len() + chunk.len() > limit {
                return Err(FrameworkError::PayloadTooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(len) = declared {
            body.truncate(len);
        }
        Ok(body.freeze())
    })
    .await
}

/// The Content-Length the client declared, when it is a number.
pub fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
}

/// The peer address of the connection. Forwarding headers are not trusted: a client could
/// forge them to dodge the per-address limits.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|addr| addr.ip().to_string())
}

/// A request header as text, `None` when absent, empty or not valid text.
pub fn header_text<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A cookie's value, `None` when absent or empty.
pub fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}

/// Query string and body (JSON or form, by Content-Type) in one map, as Struts and PHP's
/// `$_REQUEST` read them; `winner` says which side a name sent twice takes.
pub async fn query_and_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    winner: Winner,
) -> Result<Params, FrameworkError> {
    let body = read_body(req, payload, limit).await?;
    let body = Params::by_content_type(header_text(req, "content-type"), &body)?;
    Ok(Params::merged(
        Params::query(req.query_string()),
        body,
        winner,
    ))
}

/// A cookie name as RFC 6265 allows it (a token), for settings that name one.
pub fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
