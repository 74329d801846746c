//! The one answer type of every dialect: status, content type, headers, cookies, body and the
//! metrics outcome, which is mandatory because three dialects answer their errors with HTTP 200.

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use serde::Serialize;

pub use crate::ops::metrics::Outcome;

/// An answer of a dialect, before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    status: StatusCode,
    outcome: Outcome,
    content_type: Option<HeaderValue>,
    headers: Vec<(HeaderName, HeaderValue)>,
    cookies: Vec<Cookie<'static>>,
    body: Bytes,
}

impl Reply {
    /// An empty answer (no body, no Content-Type), such as a 204.
    pub fn empty(status: StatusCode, outcome: Outcome) -> Reply {
        Reply {
            status,
            outcome,
            content_type: None,
            headers: Vec::new(),
            cookies: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A body with its exact Content-Type (dialects differ in spacing and case, byte for byte).
    pub fn bytes(
        status: StatusCode,
        outcome: Outcome,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Reply {
        Reply {
            content_type: Some(HeaderValue::from_static(content_type)),
            body: body.into(),
            ..Reply::empty(status, outcome)
        }
    }

    /// A JSON body. Serialising the dialect's own wire types cannot fail; should it ever, the
    /// answer is a bare 500 rather than a truncated body.
    pub fn json(
        status: StatusCode,
        outcome: Outcome,
        content_type: &'static str,
        body: &impl Serialize,
    ) -> Reply {
        match serde_json::to_vec(body) {
            Ok(bytes) => Reply::bytes(status, outcome, content_type, bytes),
            Err(err) => {
                tracing::error!(error = %err, "a wire body could not be serialised");
                Reply::empty(StatusCode::INTERNAL_SERVER_ERROR, Outcome::ServerError)
            }
        }
    }

    /// Adds a header; a value that is not a valid header value is left out and logged.
    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        match HeaderValue::from_str(value) {
            Ok(value) => self.headers.push((HeaderName::from_static(name), value)),
            Err(_) => tracing::warn!(
                header = name,
                "a header value was not valid and was left out"
            ),
        }
        self
    }

    pub fn cookie(mut self, cookie: Cookie<'static>) -> Reply {
        self.cookies.push(cookie);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub fn to_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        if let Some(content_type) = &self.content_type {
            builder.insert_header((header::CONTENT_TYPE, content_type.clone()));
        }
        for (name, value) in &self.headers {
            builder.append_header((name.clone(), value.clone()));
        }
        for cookie in &self.cookies {
            builder.cookie(cookie.clone());
        }
        let mut response = builder.body(self.body.clone());
        response.extensions_mut().insert(self.outcome);
        response
    }
}

impl Responder for Reply {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.to_response()
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.status, self.outcome.as_str())
    }
}

/// Lets handlers answer `Result<Reply, _>` with `?`: both sides are the dialect's own answers.
impl ResponseError for Reply {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.to_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outcome_travels_with_the_response() {
        let reply = Reply::json(
            StatusCode::OK,
            Outcome::ClientError,
            "application/json;charset=UTF-8",
            &serde_json::json!({"success": false}),
        )
        .header("uid", "100000");
        let response = reply.to_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.extensions().get::<Outcome>(),
            Some(&Outcome::ClientError)
        );
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/json;charset=UTF-8"
        );
        assert_eq!(response.headers().get("uid").unwrap(), "100000");
        assert_eq!(reply.body(), br#"{"success":false}"#);
    }

    #[test]
    fn an_empty_reply_has_no_content_type_and_bad_header_values_are_left_out() {
        let response = Reply::empty(StatusCode::NO_CONTENT, Outcome::Ok)
            .header("x-bad", "line\nbreak")
            .to_response();
        assert!(response.headers().get("content-type").is_none());
        assert!(response.headers().get("x-bad").is_none());
    }
}
