//! The middleware on every dialect scope that carries out the dialect's mode: `serve` passes
//! the request on, `proxy` sends it to the legacy backend and gives its answer back unchanged,
//! `shadow` passes it on and, for a declared read, also asks the legacy backend off the request
//! path and compares the two answers.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use regex::Regex;

use super::Cutover;
use super::forward::{Gathered, HOP_BY_HOP, Outgoing, below_prefix, end_to_end, gather};
use super::shadow::{Answer, Asked, Outcome as ShadowOutcome};
use crate::dialects::kit::FrameworkError;
use crate::dialects::{DialectContext, DialectSpec};
use crate::replay::recorder::recordable;
use crate::settings::Mode;

/// Request bodies up to this size go to a legacy backend in one piece with their length; larger
/// ones stream.
const PROXY_BUFFER: usize = 16 * 1024 * 1024;
/// Legacy answers up to this size come back in one piece (and are recorded when recording is
/// on); larger ones stream.
const ANSWER_BUFFER: usize = 8 * 1024 * 1024;
/// A read's request body larger than this is not compared (reads carry a few fields).
const SHADOW_BODY_LIMIT: usize = 64 * 1024;
/// Answers larger than this are not compared.
const SHADOW_ANSWER_LIMIT: usize = 1024 * 1024;
const SHADOW_ANSWER_LIMIT_U64: u64 = SHADOW_ANSWER_LIMIT as u64;

/// What the middleware of one dialect on one listener knows.
#[derive(Clone)]
pub struct DialectCutover {
    pub cutover: Arc<Cutover>,
    pub spec: &'static DialectSpec,
    pub ctx: DialectContext,
    /// The dialect's declared reads: each route's methods, path regex and template (the
    /// endpoint the comparisons are counted by).
    pub reads: Arc<Vec<(&'static [&'static str], Regex, String)>>,
    pub body_timeout: Duration,
}

impl DialectCutover {
    pub fn new(
        cutover: Arc<Cutover>,
        spec: &'static DialectSpec,
        ctx: DialectContext,
        body_timeout: Duration,
    ) -> DialectCutover {
        let reads = spec
            .routes
            .iter()
            .filter(|route| spec.reads.contains(&route.path))
            .map(|route| (route.methods, route.path_regex(), route.template()))
            .collect();
        DialectCutover {
            cutover,
            spec,
            ctx,
            reads: Arc::new(reads),
            body_timeout,
        }
    }

    fn below_prefix(&self, req: &ServiceRequest) -> String {
        let path_and_query = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
        below_prefix(&path_and_query, &self.ctx.settings.prefix)
    }

    /// The endpoint of a declared read this request asks for, if it is one.
    fn read_endpoint(&self, method: &str, path: &str) -> Option<&str> {
        let route_path = path.split('?').next().unwrap_or(path);
        self.reads
            .iter()
            .find(|(methods, regex, _)| methods.contains(&method) && regex.is_match(route_path))
            .map(|(_, _, template)| template.as_str())
    }

    /// The dialect's own answer to a failure of the way through (a body that broke off, a
    /// legacy backend that did not answer).
    async fn failure(
        &self,
        req: ServiceRequest,
        failure: FrameworkError,
    ) -> ServiceResponse<BoxBody> {
        let (request, _) = req.into_parts();
        if let FrameworkError::Internal(detail) = &failure {
            tracing::warn!(dialect = self.spec.id, %detail, "legacy backend");
        }
        let reply = (self.spec.framework_error)(request.clone(), self.ctx.clone(), failure).await;
        ServiceResponse::new(request, reply.to_response())
    }
}

/// The mode's middleware.
pub async fn carry_out(
    dialect: Arc<DialectCutover>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // The mode is read once: a switch while the request is in flight does not touch it.
    match dialect.cutover.mode(dialect.spec.id) {
        Mode::Serve => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
        Mode::Proxy => Ok(proxy(&dialect, req).await),
        Mode::Shadow => shadow(&dialect, req, next).await,
    }
}

fn peer(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|address| address.ip().to_string())
}

async fn proxy(dialect: &DialectCutover, mut req: ServiceRequest) -> ServiceResponse<BoxBody> {
    let Some(base_url) = dialect.cutover.legacy_url(dialect.spec.id) else {
        // A proxy mode is only ever set with its URL; this is a bug, answered as one.
        return dialect
            .failure(
                req,
                FrameworkError::Internal("proxy mode without a legacy_url".into()),
            )
            .await;
    };
    let path = dialect.below_prefix(&req);
    let deadline = tokio::time::Instant::now() + dialect.body_timeout;
    let body = match gather(req.take_payload(), PROXY_BUFFER, deadline).await {
        Ok(body) => body,
        Err(err) => {
            return dialect
                .failure(req, crate::dialects::kit::request::payload_problem(&err))
                .await;
        }
    };
    let outgoing = Outgoing {
        method: req.method(),
        base_url: &base_url,
        path_and_query: &path,
        headers: req.headers(),
        peer: peer(req.request()),
        timeout: dialect.cutover.timeout,
    };
    let sent = match body {
        Gathered::Whole(bytes) => outgoing.send(bytes).await,
        partial @ Gathered::Partial { .. } => outgoing.send_stream(partial.replayed()).await,
    };
    let mut answer = match sent {
        Ok(answer) => answer,
        Err(why) => {
            return dialect
                .failure(
                    req,
                    FrameworkError::Internal(format!("the legacy backend did not answer: {why}")),
                )
                .await;
        }
    };
    let mut response = HttpResponse::build(answer.response.status());
    for (name, value) in answer.response.headers() {
        if end_to_end(name) {
            response.append_header((name.clone(), value.clone()));
        }
    }
    let deadline = tokio::time::Instant::now() + dialect.cutover.timeout;
    let stream = answer.response.take_payload();
    let response = match gather(stream, ANSWER_BUFFER, deadline).await {
        Ok(Gathered::Whole(bytes)) => response.body(bytes),
        Ok(partial @ Gathered::Partial { .. }) => response.streaming(partial.replayed()),
        Err(err) => {
            return dialect
                .failure(
                    req,
                    FrameworkError::Internal(format!("the legacy answer broke off: {err}")),
                )
                .await;
        }
    };
    let (request, _) = req.into_parts();
    ServiceResponse::new(request, response)
}

async fn shadow(
    dialect: &DialectCutover,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().to_string();
    let path = dialect.below_prefix(&req);
    let (Some(endpoint), Some(base_url)) = (
        dialect.read_endpoint(&method, &path).map(str::to_owned),
        dialect.cutover.legacy_url(dialect.spec.id),
    ) else {
        // Not a read: never sent twice.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let log = &dialect.cutover.shadow;
    let Ok(slot) = dialect.cutover.shadow_slots.clone().try_acquire_owned() else {
        log.count(dialect.spec.id, &endpoint, ShadowOutcome::Skipped);
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let deadline = tokio::time::Instant::now() + dialect.body_timeout;
    let request_body = match gather(req.take_payload(), SHADOW_BODY_LIMIT, deadline).await {
        Ok(Gathered::Whole(bytes)) => {
            req.set_payload(Payload::from(bytes.clone()));
            Some(bytes)
        }
        Ok(partial @ Gathered::Partial { .. }) => {
            req.set_payload(Payload::Stream {
                payload: partial.replayed(),
            });
            None
        }
        Err(err) => {
            // The dialect answers the broken body as it would have.
            let broken = futures_util::stream::once(async move { Err(err) });
            req.set_payload(Payload::Stream {
                payload: Box::pin(broken),
            });
            None
        }
    };
    let headers = recordable(req.headers(), &HOP_BY_HOP);
    let header_map = req.headers().clone();
    let peer = peer(req.request());
    let response = next.call(req).await?;
    let small = matches!(
        response.response().body().size(),
        BodySize::None | BodySize::Sized(0..=SHADOW_ANSWER_LIMIT_U64)
    );
    let Some(request_body) = request_body.filter(|_| small) else {
        log.count(dialect.spec.id, &endpoint, ShadowOutcome::Skipped);
        return Ok(response.map_into_boxed_body());
    };
    let (request, response) = response.into_parts();
    let (response, body) = response.into_parts();
    let body = actix_web::body::to_bytes(body)
        .await
        .map_err(|err| actix_web::error::ErrorInternalServerError(err.into().to_string()))?;
    let rosetta = Answer {
        status: response.status().as_u16(),
        headers: recordable(response.headers(), &[]),
        body: body.clone(),
    };
    let response = response.set_body(BoxBody::new(body));
    let asked = Asked {
        method,
        path,
        headers,
        body: request_body,
    };
    let cutover = dialect.cutover.clone();
    let spec = dialect.spec;
    actix_web::rt::spawn(async move {
        let _slot = slot;
        let outgoing = Outgoing {
            method: &asked.method.parse().unwrap_or(actix_web::http::Method::GET),
            base_url: &base_url,
            path_and_query: &asked.path,
            headers: &header_map,
            peer,
            timeout: cutover.timeout,
        };
        let legacy = match outgoing.send(asked.body.clone()).await {
            Ok(mut answer) => {
                let status = answer.response.status().as_u16();
                let headers = recordable(answer.response.headers(), &[]);
                match answer.response.body().limit(SHADOW_ANSWER_LIMIT).await {
                    Ok(body) => Ok(Answer {
                        status,
                        headers,
                        body,
                    }),
                    Err(err) => Err(format!("reading the answer: {err}")),
                }
            }
            Err(why) => Err(why),
        };
        match legacy {
            Ok(legacy) => {
                let rules = cutover.rules();
                cutover
                    .shadow
                    .compare(spec, &endpoint, &rules, &asked, &legacy, &rosetta);
            }
            Err(why) => {
                tracing::warn!(dialect = spec.id, endpoint = %endpoint, error = %why, "shadow request failed");
                cutover
                    .shadow
                    .count(spec.id, &endpoint, ShadowOutcome::Failed);
            }
        }
    });
    Ok(ServiceResponse::new(request, response))
}
