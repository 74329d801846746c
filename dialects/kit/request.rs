//! Reading the rest of a request: the bounded body, headers, cookies and the client address.

use actix_web::{HttpRequest, web};
use futures_util::StreamExt;

use super::failure::{FrameworkError, RequestPart};
use super::params::{Params, Winner};

/// Reads the whole body, refusing more than `limit` bytes: a declared Content-Length is
/// checked before anything is read, the running total while reading.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, FrameworkError> {
    if declared_length(req).is_some_and(|len| len > limit) {
        return Err(FrameworkError::PayloadTooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|err| FrameworkError::Malformed {
            part: RequestPart::Body,
            detail: err.to_string(),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(FrameworkError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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
