//! The recorder: a middleware on each dialect listener that hands every exchange to a writer
//! thread, which appends it as one JSON line to `<dir>/<dialect>-<YYYY-MM-DD>.jsonl`. Nothing is
//! written on the request path, so recording never slows or breaks a request; a full disk or an
//! unwritable directory is logged, not fatal. Password, code and token values are replaced by
//! stable pseudonyms when `redact` is on, so a redacted recording still replays.

use std::cell::RefCell;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use actix_web::HttpMessage;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::transcript::{Exchange, FilePart, Headers, Multipart, Request, Response};
use crate::dialects::{self, DialectSpec, Location, VolatileKind};
use crate::ops::observe::ListenerMap;
use crate::service::{Clock, SystemClock};

/// Request bodies larger than this are passed through but not recorded (every dialect's own
/// limit is lower; this bounds what a copy may hold whatever a dialect reads).
const RECORD_BODY_LIMIT: usize = 4 * 1024 * 1024;
/// Answers larger than this (avatars are at most 3 MiB) are passed through but not recorded.
const RESPONSE_RECORD_LIMIT: u64 = 16 * 1024 * 1024;
/// Exchanges waiting for the writer; past this, new ones are dropped (and counted).
const QUEUE_CAPACITY: usize = 10_000;
const NOT_RECORDED_REQUEST: [&str; 6] = [
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "x-request-id",
];
const NOT_RECORDED_RESPONSE: [&str; 6] = [
    "date",
    "content-length",
    "connection",
    "transfer-encoding",
    "content-encoding",
    "x-request-id",
];

/// One exchange as it passed, before it is shaped into a transcript line.
pub(crate) struct Captured {
    pub(crate) dialect: &'static str,
    pub(crate) at_ms: i64,
    pub(crate) method: String,
    /// Below the dialect's prefix, with the query.
    pub(crate) path: String,
    pub(crate) request_headers: Vec<(String, String)>,
    pub(crate) request_body: Option<Bytes>,
    pub(crate) status: u16,
    pub(crate) response_headers: Vec<(String, String)>,
    /// `None` when the answer was streamed or too large to keep.
    pub(crate) response_body: Option<Bytes>,
}

/// What the writer thread receives.
enum Message {
    Exchange(Box<Captured>),
    /// Write and flush everything queued before, then say so.
    Finish(SyncSender<()>),
}

/// The recorder shared by every listener of a process.
pub struct Recorder {
    queue: SyncSender<Message>,
    dropped: AtomicU64,
}

impl Recorder {
    /// Starts the writer thread.
    pub fn start(dir: PathBuf, redact: bool) -> Arc<Recorder> {
        let (queue, received) = sync_channel(QUEUE_CAPACITY);
        let writer = Writer {
            dir,
            redactor: redact.then(Redactor::new),
            failures: 0,
            open: std::collections::HashMap::new(),
        };
        let spawned = std::thread::Builder::new()
            .name("rosetta-recorder".into())
            .spawn(move || writer.run(received));
        if let Err(err) = spawned {
            tracing::error!(error = %err, "the recorder thread could not start: nothing will be recorded");
        }
        Arc::new(Recorder {
            queue,
            dropped: AtomicU64::new(0),
        })
    }

    /// Writes and flushes every exchange queued so far (at shutdown), waiting at most `limit`.
    pub fn finish(&self, limit: std::time::Duration) -> bool {
        let (done, finished) = sync_channel(1);
        if self.queue.send(Message::Finish(done)).is_err() {
            return false;
        }
        finished.recv_timeout(limit).is_ok()
    }

    fn hand_over(&self, captured: Captured) {
        match self.queue.try_send(Message::Exchange(Box::new(captured))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped == 1 || dropped.is_multiple_of(1000) {
                    tracing::warn!(
                        dropped,
                        "the recorder cannot keep up: exchanges are not recorded"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// A copy of what the dialect reads of a request body, taken as it reads. The recorder never
/// reads ahead: the dialect's own body limit and timeout decide what is read, and its answer is
/// the one it gives unrecorded.
#[derive(Default)]
struct BodyCopy {
    bytes: BytesMut,
    /// More than the record limit was read: the body is not kept.
    too_large: bool,
    /// The body broke off.
    broken: bool,
    /// The stream was read to its end.
    ended: bool,
}

impl BodyCopy {
    /// The body to record: what was read, if it was read whole.
    fn recorded(&self, declared: Option<usize>) -> Option<Bytes> {
        let whole = self.ended || declared == Some(self.bytes.len());
        (whole && !self.broken && !self.too_large).then(|| self.bytes.clone().freeze())
    }
}

/// The request's payload, copying each chunk into a [`BodyCopy`] as the dialect reads it.
struct CopyingPayload {
    inner: Payload,
    copy: Rc<RefCell<BodyCopy>>,
}

impl futures_util::Stream for CopyingPayload {
    type Item = Result<Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let polled = self.inner.poll_next_unpin(cx);
        if let std::task::Poll::Ready(item) = &polled {
            let mut copy = self.copy.borrow_mut();
            match item {
                Some(Ok(chunk)) if copy.bytes.len() + chunk.len() > RECORD_BODY_LIMIT => {
                    copy.too_large = true;
                    copy.bytes.clear();
                }
                Some(Ok(chunk)) if !copy.too_large => copy.bytes.extend_from_slice(chunk),
                Some(Ok(_)) => {}
                Some(Err(_)) => copy.broken = true,
                None => copy.ended = true,
            }
        }
        polled
    }
}

/// The headers worth keeping: text values, less the ones the transport decides.
pub(crate) fn recordable(
    headers: &actix_web::http::header::HeaderMap,
    skipped: &[&str],
) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| !skipped.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.to_string(), v.to_owned()))
        })
        .collect()
}

/// The middleware: records the exchanges of the dialects on one listener.
pub async fn record(
    recorder: Arc<Recorder>,
    map: ListenerMap,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some((prefix, dialect)) = map.owner(req.path()).map(|(p, d)| (p.to_owned(), d)) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let method = req.method().to_string();
    let full_path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    let path = full_path
        .strip_prefix(prefix.as_str())
        .map_or(full_path.clone(), str::to_owned);
    let path = if path.is_empty() || path.starts_with('?') {
        format!("/{path}")
    } else {
        path
    };
    let request_headers = recordable(req.headers(), &NOT_RECORDED_REQUEST);
    let declared = crate::dialects::kit::request::declared_length(req.request());
    let payload = req.take_payload();
    let no_body = matches!(payload, Payload::None) || declared == Some(0);
    let copy = Rc::new(RefCell::new(BodyCopy::default()));
    req.set_payload(Payload::Stream {
        payload: Box::pin(CopyingPayload {
            inner: payload,
            copy: copy.clone(),
        }),
    });

    let response = next.call(req).await?;
    let request_body = if no_body {
        Some(Bytes::new())
    } else {
        copy.borrow().recorded(declared)
    };
    let status = response.status().as_u16();
    let response_headers = recordable(response.headers(), &NOT_RECORDED_RESPONSE);
    // Only a body already in memory and small enough is buffered; anything else passes
    // through untouched and is recorded without its body.
    let buffered = matches!(
        response.response().body().size(),
        BodySize::None | BodySize::Sized(0..=RESPONSE_RECORD_LIMIT)
    );
    let (response, response_body) = if buffered {
        let (request, response) = response.into_parts();
        let (response, body) = response.into_parts();
        match actix_web::body::to_bytes(body).await {
            Ok(bytes) => {
                let response = response.set_body(BoxBody::new(bytes.clone()));
                (ServiceResponse::new(request, response), Some(bytes))
            }
            Err(err) => {
                return Err(actix_web::error::ErrorInternalServerError(
                    err.into().to_string(),
                ));
            }
        }
    } else {
        (response.map_into_boxed_body(), None)
    };
    recorder.hand_over(Captured {
        dialect,
        at_ms: SystemClock.now_ms(),
        method,
        path,
        request_headers,
        request_body,
        status,
        response_headers,
        response_body,
    });
    Ok(response)
}

struct Writer {
    dir: PathBuf,
    redactor: Option<Redactor>,
    failures: u64,
    /// Open files by path; a new day or dialect opens another.
    open: std::collections::HashMap<PathBuf, std::io::BufWriter<std::fs::File>>,
}

impl Writer {
    fn run(mut self, received: Receiver<Message>) {
        // Write what is queued, then flush once: one system call per batch, not per exchange.
        while let Ok(first) = received.recv() {
            let mut finished = Vec::new();
            for message in
                std::iter::once(first).chain(std::iter::from_fn(|| received.try_recv().ok()))
            {
                match message {
                    Message::Exchange(captured) => self.write(*captured),
                    Message::Finish(done) => finished.push(done),
                }
            }
            self.flush();
            for done in finished {
                let _ = done.send(());
            }
        }
    }

    fn flush(&mut self) {
        let mut broken = Vec::new();
        for (path, file) in &mut self.open {
            if let Err(err) = file.flush() {
                self.failures += 1;
                tracing::warn!(file = %path.display(), error = %err, "recording failed (the gateway goes on)");
                broken.push(path.clone());
            }
        }
        for path in broken {
            self.open.remove(&path);
        }
    }

    fn write(&mut self, captured: Captured) {
        let Some(spec) = dialects::find(captured.dialect) else {
            return;
        };
        let path = self.dir.join(format!(
            "{}-{}.jsonl",
            captured.dialect,
            crate::domain::dates::civil_date(captured.at_ms)
        ));
        let line = match self.line(spec, captured) {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, "an exchange could not be recorded");
                return;
            }
        };
        if let Err(err) = self.append(&path, &line) {
            self.open.remove(&path);
            self.failures += 1;
            if self.failures == 1 || self.failures.is_multiple_of(1000) {
                tracing::warn!(file = %path.display(), error = %err, failures = self.failures, "recording failed (the gateway goes on)");
            }
        }
    }

    fn append(&mut self, path: &Path, line: &str) -> std::io::Result<()> {
        if !self.open.contains_key(path) {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            // Yesterday's files are done: close them.
            self.open
                .retain(|open, _| !same_dialect_older_day(open, path));
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            self.open
                .insert(path.to_owned(), std::io::BufWriter::new(file));
        }
        let file = self
            .open
            .get_mut(path)
            .ok_or_else(|| std::io::Error::other("recording file closed"))?;
        file.write_all(line.as_bytes())?;
        file.write_all(b"\n")
    }

    /// The exchange's line; `None` for an exchange that replay could not load (an `OPTIONS *`
    /// request, say), which is left out so that every recorded file replays.
    fn line(
        &self,
        spec: &DialectSpec,
        captured: Captured,
    ) -> Result<Option<String>, serde_json::Error> {
        let mut exchange = shape(&captured);
        if let Some(redactor) = &self.redactor {
            redactor.redact(spec, &mut exchange);
        }
        if let Err(why) = super::transcript::check_exchange(&exchange, &self.dir) {
            tracing::debug!(%why, exchange = %exchange.name, "not recorded: replay could not load it");
            return Ok(None);
        }
        super::recording::line(captured.dialect, captured.at_ms, &exchange).map(Some)
    }
}

/// True when `open` is an earlier day's file of the dialect `path` is for.
fn same_dialect_older_day(open: &Path, path: &Path) -> bool {
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let (open, path) = (stem(open), stem(path));
    let dialect = |s: &str| s.rsplitn(4, '-').last().map(str::to_owned);
    dialect(&open) == dialect(&path) && open < path
}

/// A request body in the form that replays it byte for byte.
fn request_body(request: &mut Request, headers: &Headers, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    let content_type = headers
        .get("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json")
        && let Ok(json) = serde_json::from_slice::<Value>(body)
        && serde_json::to_vec(&json).is_ok_and(|again| again == body)
    {
        request.json = Some(json);
        return;
    }
    if content_type.starts_with("application/x-www-form-urlencoded")
        && let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        && serde_urlencoded::to_string(&pairs).is_ok_and(|again| again.as_bytes() == body)
    {
        request.form = Some(pairs);
        return;
    }
    // The boundary is case-sensitive: parsed from the header as sent.
    if content_type.starts_with("multipart/form-data")
        && let Some(multipart) = multipart_parts(headers.get("content-type").unwrap_or(""), body)
    {
        request.multipart = Some(multipart);
        return;
    }
    match std::str::from_utf8(body) {
        Ok(text) => request.raw = Some(text.to_owned()),
        Err(_) => request.raw_base64 = Some(base64::engine::general_purpose::STANDARD.encode(body)),
    }
}

/// A `multipart/form-data` body as text fields and files (inline base64), so that a replay
/// sends it with a boundary of its own and redaction reaches its fields. `None` for a body that
/// does not parse: it is then kept byte for byte.
fn multipart_parts(content_type: &str, body: &[u8]) -> Option<Multipart> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|param| param.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut multipart = Multipart::default();
    let mut rest = body.strip_prefix(delimiter.as_bytes())?;
    loop {
        if rest.starts_with(b"--") {
            return Some(multipart);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end_of_headers = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..end_of_headers]).ok()?;
        let after_headers = &rest[end_of_headers + 4..];
        let closing = format!("\r\n{delimiter}");
        let end = find(after_headers, closing.as_bytes())?;
        let content = &after_headers[..end];
        rest = &after_headers[end + closing.len()..];
        let mut name = None;
        let mut filename = None;
        let mut part_type = None;
        for line in head.split("\r\n") {
            let Some((header, value)) = line.split_once(':') else {
                continue;
            };
            if header.trim().eq_ignore_ascii_case("content-disposition") {
                for param in value.split(';').map(str::trim) {
                    if let Some(v) = param.strip_prefix("name=") {
                        name = Some(v.trim_matches('"').to_owned());
                    } else if let Some(v) = param.strip_prefix("filename=") {
                        filename = Some(v.trim_matches('"').to_owned());
                    }
                }
            } else if header.trim().eq_ignore_ascii_case("content-type") {
                part_type = Some(value.trim().to_owned());
            }
        }
        let name = name?;
        match filename {
            Some(filename) => multipart.files.push(FilePart {
                name,
                filename,
                content_type: part_type.unwrap_or_else(|| "application/octet-stream".to_owned()),
                base64: Some(base64::engine::general_purpose::STANDARD.encode(content)),
                path: None,
            }),
            None => multipart
                .fields
                .push((name, std::str::from_utf8(content).ok()?.to_owned())),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// An exchange as a transcript writes it: the request's body by its Content-Type, the answer's
/// as JSON when it is JSON.
pub(crate) fn shape(captured: &Captured) -> Exchange {
    let headers = Headers(captured.request_headers.clone());
    let mut request = Request::new(
        captured.method.clone(),
        captured.path.clone(),
        headers.clone(),
    );
    let mut name = format!(
        "{} {}",
        captured.method,
        captured.path.split('?').next().unwrap_or("")
    );
    match &captured.request_body {
        Some(body) => request_body(&mut request, &headers, body),
        None => name.push_str(" (request body not recorded: not read whole)"),
    }
    let response_headers = Headers(captured.response_headers.clone());
    let (json, text) = match &captured.response_body {
        None => (None, None),
        Some(body) => match serde_json::from_slice::<Value>(body) {
            Ok(json) if !body.is_empty() => (Some(json), None),
            _ => (None, Some(String::from_utf8_lossy(body).into_owned())),
        },
    };
    Exchange {
        name,
        source: Some("recorded".to_owned()),
        recorded_at: None,
        request,
        response: Response {
            status: captured.status,
            headers: response_headers,
            json,
            text,
        },
    }
}

/// Replaces secrets with pseudonyms that are stable within one recorder, so equal secrets stay
/// equal (a password registered and then used to log in) and differ from every other.
pub(crate) struct Redactor {
    key: [u8; 16],
}

impl Redactor {
    pub(crate) fn new() -> Redactor {
        Redactor {
            key: rand::random(),
        }
    }

    /// 20 characters: a redacted password still meets the length rules of the documents
    /// (SealTalk's 6 to 20), so a redacted recording replays its register and login.
    fn pseudonym(&self, secret: &str) -> String {
        // An empty or blank value is no secret, and a pseudonym would change the answer it gets.
        if secret.trim().is_empty() {
            return secret.to_owned();
        }
        let mut hash = Sha256::new();
        hash.update(self.key);
        hash.update(secret.as_bytes());
        format!(
            "redacted-{}",
            &crate::domain::credential::to_hex(&hash.finalize())[..11]
        )
    }

    pub(crate) fn redact(&self, spec: &DialectSpec, exchange: &mut Exchange) {
        let mut request_headers: Vec<&str> = Vec::new();
        let mut fields: Vec<&str> = Vec::new();
        let mut pointers: Vec<&str> = Vec::new();
        let mut response_headers: Vec<&str> = Vec::new();
        let mut cookies: Vec<&str> = Vec::new();
        let secret_volatiles = spec
            .volatile
            .iter()
            .filter(|v| matches!(v.kind, VolatileKind::Session | VolatileKind::SmsCode { .. }))
            .map(|v| v.location);
        for location in spec.secrets.iter().copied().chain(secret_volatiles) {
            match location {
                Location::RequestHeader(h) => request_headers.push(h),
                Location::Field(f) => fields.push(f),
                Location::JsonPointer(p) => pointers.push(p),
                Location::ResponseHeader(h) => response_headers.push(h),
                Location::Cookie(c) => cookies.push(c),
                Location::PathSegment { .. } => {}
            }
        }
        let request = &mut exchange.request;
        for (name, value) in &mut request.headers.0 {
            if request_headers.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                *value = self.pseudonym(value);
            } else if name.eq_ignore_ascii_case("cookie") {
                *value = self.redact_cookies(value, &cookies);
            }
        }
        if let Some(Value::Object(map)) = &mut request.json {
            self.redact_fields(map, &fields);
        }
        let multipart_fields = request
            .multipart
            .iter_mut()
            .flat_map(|multipart| multipart.fields.iter_mut());
        for (name, value) in request.form.iter_mut().flatten().chain(multipart_fields) {
            if fields.contains(&name.as_str()) {
                *value = self.pseudonym(value);
            }
        }
        if let Some(raw) = &request.raw
            && let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(raw)
        {
            // JSON sent with another Content-Type (the error_code dialect's clients do that).
            self.redact_fields(&mut map, &fields);
            request.raw = serde_json::to_string(&map).ok();
        }
        let response = &mut exchange.response;
        for (name, value) in &mut response.headers.0 {
            if response_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
            {
                *value = self.pseudonym(value);
            } else if name.eq_ignore_ascii_case("set-cookie") {
                *value = self.redact_cookies(value, &cookies);
            }
        }
        if let Some(json) = &mut response.json {
            for pointer in &pointers {
                self.redact_pointer(json, pointer);
            }
        }
    }

    fn redact_fields(&self, map: &mut Map<String, Value>, fields: &[&str]) {
        for (name, value) in map.iter_mut() {
            if fields.contains(&name.as_str())
                && let Some(text) = value
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| value.as_number().map(ToString::to_string))
            {
                *value = Value::String(self.pseudonym(&text));
            }
        }
    }

    fn redact_pointer(&self, value: &mut Value, pointer: &str) {
        if let Some((head, rest)) = pointer
            .strip_prefix('/')
            .map(|p| p.split_once('/').unwrap_or((p, "")))
        {
            let rest = if rest.is_empty() {
                String::new()
            } else {
                format!("/{rest}")
            };
            let children: Vec<&mut Value> = match (head, value) {
                ("*", Value::Array(items)) => items.iter_mut().collect(),
                ("*", Value::Object(map)) => map.values_mut().collect(),
                (key, Value::Object(map)) => map.get_mut(key).into_iter().collect(),
                (index, Value::Array(items)) => index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            for child in children {
                self.redact_pointer(child, &rest);
            }
        } else if let Some(text) = value.as_str().map(str::to_owned) {
            *value = Value::String(self.pseudonym(&text));
        }
    }

    fn redact_cookies(&self, header: &str, cookies: &[&str]) -> String {
        header
            .split(';')
            .map(|part| match part.split_once('=') {
                Some((name, value)) if cookies.contains(&name.trim()) => {
                    format!("{name}={}", self.pseudonym(value.trim()))
                }
                _ => part.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(";")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_day_closes_yesterdays_file_of_the_same_dialect() {
        let day1 = Path::new("/r/error_code-2026-11-20.jsonl");
        let day2 = Path::new("/r/error_code-2026-11-21.jsonl");
        let other = Path::new("/r/code_sec-2026-11-20.jsonl");
        assert!(same_dialect_older_day(day1, day2));
        assert!(!same_dialect_older_day(day2, day1));
        assert!(!same_dialect_older_day(other, day2));
    }

    #[test]
    fn bodies_too_large_to_keep_are_left_out_not_faked() {
        let captured = Captured {
            dialect: "error_code",
            at_ms: 0,
            method: "POST".into(),
            path: "/api/user/register?x=1".into(),
            request_headers: vec![],
            request_body: None,
            status: 200,
            response_headers: vec![],
            response_body: None,
        };
        let exchange = shape(&captured);
        assert_eq!(
            exchange.name,
            "POST /api/user/register (request body not recorded: not read whole)"
        );
        assert_eq!(
            exchange.request.body(),
            Ok(super::super::transcript::Body::None)
        );
        assert_eq!(
            (exchange.response.json, exchange.response.text),
            (None, None),
            "no body to compare"
        );
    }

    #[test]
    fn bodies_keep_their_bytes() {
        let mut headers = Headers::default();
        headers.set("Content-Type", "application/x-www-form-urlencoded".into());
        let mut r = Request::new("POST", "/", headers.clone());
        request_body(&mut r, &headers, br#"{"username":"u"}"#);
        assert_eq!(
            r.raw.as_deref(),
            Some(r#"{"username":"u"}"#),
            "JSON under a form type stays raw"
        );
        let mut f = Request {
            raw: None,
            ..r.clone()
        };
        request_body(&mut f, &headers, b"a=1&b=%E5%BC%A0");
        assert_eq!(
            f.form,
            Some(vec![("a".into(), "1".into()), ("b".into(), "张".into())])
        );
        let mut b = Request {
            raw: None,
            ..r.clone()
        };
        request_body(&mut b, &Headers::default(), b"\xff\x00");
        assert_eq!(b.raw_base64.as_deref(), Some("/wA="));
    }

    #[test]
    fn redaction_is_stable_and_covers_raw_json() {
        let spec = dialects::find("error_code").expect("built in");
        let redactor = Redactor::new();
        let mut exchange: Exchange = serde_json::from_value(serde_json::json!({
            "name": "login",
            "request": {"method": "POST", "path": "/api/user/login",
                        "headers": {"X-Auth-Token": "tok", "X-Auth-Password": "pw"},
                        "raw": "{\"username\":\"u\",\"password\":\"secret\"}"},
            "response": {"status": 200, "json": {"error_code": 0, "data": {"token_id": "tok", "userid": "100000"}}}
        }))
        .unwrap();
        redactor.redact(spec, &mut exchange);
        let token = exchange
            .request
            .headers
            .get("X-Auth-Token")
            .unwrap()
            .to_owned();
        assert!(token.starts_with("redacted-"));
        assert_eq!(token.len(), 20, "fits a 6-20 character password rule");
        assert_eq!(
            exchange.response.json.as_ref().unwrap()["data"]["token_id"],
            Value::from(token.as_str()),
            "same secret, same pseudonym"
        );
        assert_eq!(
            exchange.response.json.as_ref().unwrap()["data"]["userid"],
            Value::from("100000"),
            "ids are kept"
        );
        assert!(!exchange.request.raw.as_ref().unwrap().contains("secret"));
        assert_ne!(exchange.request.headers.get("X-Auth-Password"), Some("pw"));
    }

    #[test]
    fn multipart_bodies_are_kept_as_fields_and_files() {
        let body = b"--b0\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--b0\r\nContent-Disposition: form-data; name=\"userPhoto\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--b0--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=b0", body).unwrap();
        assert_eq!(parts.fields, [("note".to_owned(), "hello".to_owned())]);
        assert_eq!(parts.files.len(), 1);
        assert_eq!(parts.files[0].name, "userPhoto");
        assert_eq!(parts.files[0].filename, "me.png");
        assert_eq!(parts.files[0].content_type, "image/png");
        assert_eq!(
            parts.files[0].base64.as_deref(),
            Some(
                base64::engine::general_purpose::STANDARD
                    .encode(b"\x89PNG")
                    .as_str()
            )
        );
        assert!(multipart_parts("multipart/form-data; boundary=b0", b"--b0\r\nbroken").is_none());
        assert!(multipart_parts("multipart/form-data", body).is_none());
    }
}
