//! Framework failures — unknown routes, wrong methods, unreadable or oversized requests, and
//! every actix extractor error — answered by the dialect that owns the path, through its async
//! hook, so no client ever sees actix's plain-text defaults.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::future::LocalBoxFuture;

use super::reply::Reply;
use super::request::payload_problem;
use crate::dialects::DialectContext;

/// The part of a request that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestPart {
    Json,
    Form,
    Query,
    Path,
    Multipart,
    /// The raw body (a broken or truncated upload, invalid encoding).
    Body,
}

impl RequestPart {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestPart::Json => "JSON body",
            RequestPart::Form => "form body",
            RequestPart::Query => "query string",
            RequestPart::Path => "path",
            RequestPart::Multipart => "multipart body",
            RequestPart::Body => "body",
        }
    }
}

/// A failure that happens before (or instead of) a dialect's handler answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameworkError {
    /// No route matches the path.
    NotFound,
    /// The path exists, but not for this method; `allowed` comes from the route table.
    MethodNotAllowed { allowed: &'static [&'static str] },
    /// The body is larger than the route accepts.
    PayloadTooLarge,
    /// A part of the request could not be decoded.
    Malformed { part: RequestPart, detail: String },
    /// The framework failed on its own side (the text is for logs).
    Internal(String),
}

impl FrameworkError {
    /// The status actix would have used; dialects may answer differently.
    pub fn status(&self) -> StatusCode {
        match self {
            FrameworkError::NotFound => StatusCode::NOT_FOUND,
            FrameworkError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            FrameworkError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FrameworkError::Malformed { .. } => StatusCode::BAD_REQUEST,
            FrameworkError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl std::fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameworkError::NotFound => f.write_str("no such route"),
            FrameworkError::MethodNotAllowed { allowed } => {
                write!(f, "method not allowed (allowed: {})", allowed.join(", "))
            }
            FrameworkError::PayloadTooLarge => f.write_str("request body is too large"),
            FrameworkError::Malformed { part, detail } => {
                write!(f, "malformed {}: {detail}", part.as_str())
            }
            FrameworkError::Internal(detail) => write!(f, "internal error: {detail}"),
        }
    }
}

/// What a handler answers besides success: the dialect's own answer, or a framework failure
/// that the failure middleware hands to the dialect's hook.
#[derive(Debug, Clone)]
pub enum Refusal {
    Answer(Reply),
    Framework(FrameworkError),
}

impl From<Reply> for Refusal {
    fn from(reply: Reply) -> Refusal {
        Refusal::Answer(reply)
    }
}

impl From<FrameworkError> for Refusal {
    fn from(err: FrameworkError) -> Refusal {
        Refusal::Framework(err)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Answer(reply) => reply.fmt(f),
            Refusal::Framework(err) => err.fmt(f),
        }
    }
}

impl ResponseError for Refusal {
    fn status_code(&self) -> StatusCode {
        match self {
            Refusal::Answer(reply) => reply.status(),
            Refusal::Framework(err) => err.status(),
        }
    }

    /// Only reached if the failure middleware is missing: the dialect's hook replaces it.
    fn error_response(&self) -> HttpResponse {
        match self {
            Refusal::Answer(reply) => reply.to_response(),
            Refusal::Framework(err) => HttpResponse::build(err.status()).finish(),
        }
    }
}

/// What a handler returns.
pub type Answer = Result<Reply, Refusal>;

/// A dialect's own refusal type (its error envelope): it renders itself into a [`Reply`], so
/// handlers can use `?` on it and still return an [`Answer`].
pub trait DialectRefusal: Into<Reply> {}

impl<T: DialectRefusal> From<T> for Refusal {
    fn from(refusal: T) -> Refusal {
        Refusal::Answer(refusal.into())
    }
}

/// A dialect's renderer of framework failures. It is async and gets the dialect's context
/// because some answers depend on the database (SealTalk: an unknown route is 403 unless the
/// cookie names a valid session).
pub type FailureHook =
    fn(HttpRequest, DialectContext, FrameworkError) -> LocalBoxFuture<'static, Reply>;

/// Which framework failure an error attached to a response stands for; `None` for the
/// dialect's own answers.
fn classify(error: &actix_web::Error) -> Option<FrameworkError> {
    if let Some(refusal) = error.as_error::<Refusal>() {
        return match refusal {
            Refusal::Answer(_) => None,
            Refusal::Framework(err) => Some(err.clone()),
        };
    }
    if error.as_error::<Reply>().is_some() {
        return None;
    }
    // An error the kit did not shape (an extractor without a configured handler): judged by
    // the status actix chose for it.
    let status = error.as_response_error().status_code();
    Some(match status {
        StatusCode::NOT_FOUND => FrameworkError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => FrameworkError::MethodNotAllowed { allowed: &[] },
        StatusCode::PAYLOAD_TOO_LARGE => FrameworkError::PayloadTooLarge,
        status if status.is_client_error() => FrameworkError::Malformed {
            part: RequestPart::Body,
            detail: error.to_string(),
        },
        _ => FrameworkError::Internal(error.to_string()),
    })
}

/// The middleware on every dialect scope: any framework failure a request met is answered by
/// the dialect's hook, in its envelope.
pub async fn render_failures(
    hook: FailureHook,
    ctx: DialectContext,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The request must not be cloned before routing (actix writes the path parameters into
    // it), and the scope's own services answer failures as responses, never as `Err`.
    let response = next.call(req).await?;
    let Some(failure) = response.response().error().and_then(classify) else {
        return Ok(response.map_into_boxed_body());
    };
    let request = response.request().clone();
    if let FrameworkError::Internal(detail) = &failure {
        tracing::error!(%detail, "framework failure");
    }
    let reply = hook(request.clone(), ctx, failure).await;
    Ok(ServiceResponse::new(request, reply.to_response()))
}

fn refusal(err: FrameworkError) -> actix_web::Error {
    Refusal::Framework(err).into()
}

fn malformed(part: RequestPart, detail: impl ToString) -> actix_web::Error {
    refusal(FrameworkError::Malformed {
        part,
        detail: detail.to_string(),
    })
}

/// The actix extractor configurations of a dialect scope: every extractor error becomes a
/// framework failure for the dialect's hook.
pub fn install_extractor_handlers(cfg: &mut web::ServiceConfig) {
    use actix_web::error::{JsonPayloadError, UrlencodedError};
    cfg.app_data(
        web::JsonConfig::default().error_handler(|err, _req| match err {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                refusal(FrameworkError::PayloadTooLarge)
            }
            JsonPayloadError::Payload(payload) => refusal(payload_problem(&payload)),
            other => malformed(RequestPart::Json, other),
        }),
    )
    .app_data(
        web::FormConfig::default().error_handler(|err, _req| match err {
            UrlencodedError::Overflow { .. } => refusal(FrameworkError::PayloadTooLarge),
            UrlencodedError::Payload(payload) => refusal(payload_problem(&payload)),
            other => malformed(RequestPart::Form, other),
        }),
    )
    .app_data(
        web::QueryConfig::default().error_handler(|err, _req| malformed(RequestPart::Query, err)),
    )
    .app_data(
        web::PathConfig::default().error_handler(|err, _req| malformed(RequestPart::Path, err)),
    )
    .app_data(
        actix_multipart::form::MultipartFormConfig::default()
            .error_handler(|err, _req| multipart_failure(&err)),
    );
}

fn multipart_failure(err: &actix_multipart::MultipartError) -> actix_web::Error {
    use actix_multipart::MultipartError;
    match err {
        MultipartError::Payload(payload) => refusal(payload_problem(payload)),
        other => malformed(RequestPart::Multipart, other),
    }
}

/// The handler behind every path the route table does not know.
pub async fn not_found() -> Answer {
    Err(FrameworkError::NotFound.into())
}
