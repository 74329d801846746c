//! Runs a transcript against a gateway: fills placeholders, rebinds raw recordings, sends each
//! request, compares the answer, and stops at the first failure unless told to keep going.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use base64::Engine;
use regex::Regex;
use serde_json::Value;

use super::accept::Rules;
use super::compare::{Comparison, Difference};
use super::input::Loaded;
use super::rebind::Rebinder;
use super::report::{ExchangeOutcome, TranscriptReport, Verdict};
use super::template::{Bindings, RequestValues};
use super::transcript::{Body, Multipart, Request, sidecar_path};
use crate::dialects::kit::openapi;
use crate::dialects::{self, ReplayRequest};
use crate::domain::phone::Phone;
use crate::service::{Clock, Service, SystemClock};

static SMS_PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{\s*sms:([^}]+?)\s*\}\}").expect("static regex"));

/// Where SMS codes are read from.
#[derive(Clone)]
pub enum SmsSource {
    /// The core of an in-process gateway (its database).
    Core(Service),
    /// A running gateway's admin API.
    Admin { url: String, token: String },
    /// No source: `{{sms:…}}` fails with a clear message.
    Unavailable,
}

impl SmsSource {
    async fn newest_code(&self, phone: &str) -> Result<Option<String>, String> {
        let number = Phone::mainland(phone)
            .map_or_else(|_| phone.trim().to_owned(), |p| p.number().to_owned());
        match self {
            SmsSource::Core(service) => service
                .sms_outbox(Some(number))
                .await
                .map(|messages| messages.into_iter().find(|m| m.was_sent()).map(|m| m.code))
                .map_err(|e| e.to_string()),
            SmsSource::Admin { url, token } => {
                let address = format!(
                    "{}/admin/sms/outbox?phone={number}",
                    url.trim_end_matches('/')
                );
                let mut response = awc::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .finish()
                    .get(address)
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .send()
                    .await
                    .map_err(|e| format!("admin API unreachable: {e}"))?;
                if !response.status().is_success() {
                    return Err(format!("admin API answered HTTP {}", response.status()));
                }
                let body: Value = response
                    .json()
                    .await
                    .map_err(|e| format!("admin API: {e}"))?;
                // The newest code that went out (gateways before outcomes were kept list only
                // those).
                let sent = body["messages"].as_array().and_then(|messages| {
                    messages.iter().find(|m| {
                        m.get("outcome")
                            .is_none_or(|outcome| outcome.as_str() == Some("sent"))
                    })
                });
                Ok(sent.and_then(|m| m["code"].as_str()).map(str::to_owned))
            }
            SmsSource::Unavailable => {
                Err("no SMS source: give --admin-url and --admin-token".to_owned())
            }
        }
    }
}

/// A gateway to replay against.
#[derive(Clone)]
pub struct Target {
    /// The dialect's base URL, prefix included (`http://127.0.0.1:8085`).
    pub base_url: String,
    pub sms: SmsSource,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub keep_going: bool,
    /// Also judge every live answer by the dialect's OpenAPI document (documented status,
    /// Content-Type and body schema); each problem is a difference at `/openapi`.
    pub check_schema: bool,
    /// Keep the recorded gaps between exchanges (so throttles and expiries behave as they did).
    pub pace: Pace,
    /// The accepted-differences rules: what they accept does not fail an exchange.
    pub accept: Option<Arc<Rules>>,
    /// Recorded values whose live values are known beforehand (`--bind id:100023=5`), for
    /// recordings.
    pub binds: Vec<Bind>,
}

/// How fast exchanges follow one another.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pace {
    /// Each as soon as the one before is answered.
    #[default]
    Fast,
    /// After the gap the recording (or the HAR capture) shows before it.
    Recorded,
}

/// A recorded value and the live value it stands for (`--bind KIND:RECORDED=LIVE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub kind: BindKind,
    pub recorded: String,
    pub live: String,
}

/// What a bound value is: the kinds of value a dialect declares volatile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindKind {
    Id,
    Session,
    Timestamp,
}

impl std::str::FromStr for Bind {
    type Err = String;

    fn from_str(text: &str) -> Result<Bind, String> {
        let usage = || {
            format!(
                "`{text}`: expected KIND:RECORDED=LIVE with KIND id, session or timestamp (id:100023=5)"
            )
        };
        let (kind, rest) = text.split_once(':').ok_or_else(usage)?;
        let (recorded, live) = rest.split_once('=').ok_or_else(usage)?;
        let kind = match kind.trim() {
            "id" => BindKind::Id,
            "session" => BindKind::Session,
            "timestamp" => BindKind::Timestamp,
            _ => return Err(usage()),
        };
        if recorded.is_empty() || live.is_empty() {
            return Err(usage());
        }
        if matches!(kind, BindKind::Id | BindKind::Timestamp)
            && !(recorded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && live.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(format!(
                "`{text}`: an id or a timestamp is letters, digits and dashes"
            ));
        }
        Ok(Bind {
            kind,
            recorded: recorded.to_owned(),
            live: live.to_owned(),
        })
    }
}

struct Values {
    codes: HashMap<String, String>,
    now_ms: i64,
}

impl RequestValues for Values {
    fn sms_code(&self, phone: &str) -> Option<String> {
        self.codes.get(phone.trim()).cloned()
    }

    fn now_ms(&self) -> i64 {
        self.now_ms
    }
}

/// A live answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Runs one transcript.
pub async fn run(loaded: &Loaded, target: &Target, options: &Options) -> TranscriptReport {
    let transcript = &loaded.transcript;
    let spec = dialects::find(&transcript.dialect);
    let mut bindings = Bindings::default();
    let mut rebinder = match (transcript.rebind, spec) {
        (true, Some(spec)) => Some(Rebinder::for_dialect(spec)),
        _ => None,
    };
    if let Some(rebinder) = rebinder.as_mut() {
        for bind in &options.binds {
            rebinder.learn_text(&bind.recorded, &bind.live);
        }
    }
    let mut outcomes = Vec::with_capacity(transcript.exchanges.len());
    let mut stopped = false;
    // The recorded time and the live start of the exchange before, for the recorded pace.
    let mut previous: Option<(i64, Instant)> = None;
    for exchange in &transcript.exchanges {
        if stopped {
            outcomes.push(ExchangeOutcome {
                name: exchange.name.clone(),
                verdict: Verdict::Skipped,
                differences: Vec::new(),
                accepted: Vec::new(),
                error: None,
                elapsed: Duration::ZERO,
            });
            continue;
        }
        if options.pace == Pace::Recorded
            && let Some(recorded_at) = exchange.recorded_at
        {
            if let Some((before, sent)) = previous {
                let gap = Duration::from_millis(u64::try_from(recorded_at - before).unwrap_or(0));
                tokio::time::sleep_until((sent + gap).into()).await;
            }
            previous = Some((recorded_at, Instant::now()));
        }
        let started = Instant::now();
        let schema_of = spec.filter(|_| options.check_schema);
        let result = run_exchange(
            loaded,
            exchange,
            target,
            &mut bindings,
            rebinder.as_mut(),
            spec.and_then(|s| s.replay_fixup),
            schema_of,
        )
        .await;
        let (differences, accepted, error) = match (result, &options.accept) {
            (Ok(differences), Some(rules)) => {
                let sorted = rules.sort(
                    &transcript.dialect,
                    &exchange.request.method,
                    &exchange.request.path,
                    differences,
                );
                (sorted.unexpected, sorted.accepted, None)
            }
            (Ok(differences), None) => (differences, Vec::new(), None),
            (Err(error), _) => (Vec::new(), Vec::new(), Some(error)),
        };
        let verdict = if differences.is_empty() && error.is_none() {
            Verdict::Passed
        } else {
            Verdict::Failed
        };
        if verdict == Verdict::Failed && !options.keep_going {
            stopped = true;
        }
        outcomes.push(ExchangeOutcome {
            name: exchange.name.clone(),
            verdict,
            differences,
            accepted,
            error,
            elapsed: started.elapsed(),
        });
    }
    TranscriptReport {
        file: loaded.file.display().to_string(),
        title: transcript.title.clone(),
        exchanges: outcomes,
    }
}

async fn run_exchange(
    loaded: &Loaded,
    exchange: &super::transcript::Exchange,
    target: &Target,
    bindings: &mut Bindings,
    rebinder: Option<&mut Rebinder>,
    fixup: Option<fn(&mut ReplayRequest)>,
    schema_of: Option<&dialects::DialectSpec>,
) -> Result<Vec<Difference>, String> {
    let mut request = exchange.request.clone();
    if let Some(rebinder) = rebinder.as_deref() {
        rebinder.rewrite_request(&mut request);
    }
    let values = Values {
        codes: sms_codes(&request, rebinder.as_deref(), &target.sms).await?,
        now_ms: SystemClock.now_ms(),
    };
    let mut request = fill(&request, bindings, &values)?;
    if let Some(rebinder) = rebinder.as_deref() {
        replace_recorded_codes(&mut request, rebinder, &values);
    }
    if let Some(fixup) = fixup {
        apply_fixup(&mut request, fixup, values.now_ms);
    }
    let answer = send(&request, loaded, target).await?;

    let expected = &exchange.response;
    let mut comparison = Comparison {
        bindings,
        rebinder,
        now_ms: values.now_ms,
        differences: Vec::new(),
    };
    comparison.status(expected.status, answer.status);
    for (name, value) in &expected.headers.0 {
        let live: Vec<&str> = answer
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        comparison.header(name, value, &live);
    }
    if let Some(json) = &expected.json {
        match serde_json::from_slice::<Value>(&answer.body) {
            Ok(actual) => comparison.json("/body", "", json, Some(&actual)),
            Err(_) => comparison.differences.push(Difference {
                pointer: "/body".into(),
                expected: json.to_string(),
                actual: Value::from(String::from_utf8_lossy(&answer.body).into_owned()).to_string(),
            }),
        }
    } else if let Some(text) = &expected.text {
        comparison.text("/body", text, Some(&String::from_utf8_lossy(&answer.body)));
    }
    let mut differences = comparison.differences;
    if let Some(spec) = schema_of {
        differences.extend(schema_problems(spec, &request, &answer));
    }
    Ok(differences)
}

/// What the dialect's OpenAPI document says is wrong with a live answer.
fn schema_problems(
    spec: &dialects::DialectSpec,
    request: &Request,
    answer: &Answer,
) -> Vec<Difference> {
    let path = request.path.split('?').next().unwrap_or_default();
    let content_type = answer
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.as_str());
    openapi::check_answer(
        spec,
        &request.method,
        path,
        answer.status,
        content_type,
        &answer.body,
    )
    .into_iter()
    .map(|problem| Difference {
        pointer: "/openapi".into(),
        expected: "an answer the dialect's OpenAPI document allows".into(),
        actual: problem,
    })
    .collect()
}

/// Codes for every `{{sms:<phone>}}` of the request and every recorded code field.
async fn sms_codes(
    request: &Request,
    rebinder: Option<&Rebinder>,
    source: &SmsSource,
) -> Result<HashMap<String, String>, String> {
    let text = serde_json::to_string(request).map_err(|e| e.to_string())?;
    let mut phones: Vec<String> = SMS_PLACEHOLDER
        .captures_iter(&text)
        .map(|c| c[1].trim().to_owned())
        .collect();
    if let Some(rebinder) = rebinder {
        for (_, phone_field) in rebinder.sms_fields() {
            if let Some(phone) = field_text(request, phone_field) {
                phones.push(phone);
            }
        }
    }
    let mut codes = HashMap::new();
    for phone in phones {
        if let Some(code) = source.newest_code(&phone).await? {
            codes.insert(phone, code);
        }
    }
    Ok(codes)
}

/// A request field as text: a form field, or a JSON key — a dotted name (`tel.number`) reaches
/// into nested objects when no top-level key has that name.
fn field_text(request: &Request, name: &str) -> Option<String> {
    if let Some(json @ Value::Object(map)) = &request.json {
        let value = map.get(name).or_else(|| {
            name.split('.')
                .try_fold(json, |value, segment| value.as_object()?.get(segment))
        });
        return value.and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_number().map(ToString::to_string))
        });
    }
    request
        .form
        .as_ref()?
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// A raw recording's codes are replaced by the live code sent to the same phone.
fn replace_recorded_codes(request: &mut Request, rebinder: &Rebinder, values: &Values) {
    for (code_field, phone_field) in rebinder.sms_fields() {
        let Some(code) =
            field_text(request, phone_field).and_then(|phone| values.codes.get(&phone).cloned())
        else {
            continue;
        };
        if let Some(Value::Object(map)) = &mut request.json
            && map.contains_key(code_field)
        {
            map.insert(code_field.clone(), Value::String(code.clone()));
        }
        for (name, value) in request.form.iter_mut().flatten() {
            if name == code_field {
                value.clone_from(&code);
            }
        }
    }
}

fn fill(request: &Request, bindings: &Bindings, values: &Values) -> Result<Request, String> {
    let mut out = request.clone();
    out.path = bindings.fill_text(&request.path, values)?;
    for (_, value) in &mut out.headers.0 {
        *value = bindings.fill_text(value, values)?;
    }
    if let Some(json) = &request.json {
        out.json = Some(bindings.fill_json(json, values)?);
    }
    for (_, value) in out.form.iter_mut().flatten() {
        *value = bindings.fill_text(value, values)?;
    }
    if let Some(multipart) = &mut out.multipart {
        for (_, value) in &mut multipart.fields {
            *value = bindings.fill_text(value, values)?;
        }
    }
    if let Some(raw) = &request.raw {
        out.raw = Some(bindings.fill_text(raw, values)?);
    }
    Ok(out)
}

/// Lets the dialect recompute derived fields (form fields or top-level JSON keys).
fn apply_fixup(request: &mut Request, fixup: fn(&mut ReplayRequest), now_ms: i64) {
    let fields: Vec<(String, Value)> = match (&request.json, &request.form) {
        (Some(Value::Object(map)), _) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        (_, Some(form)) => form
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
        _ => Vec::new(),
    };
    let mut parts = ReplayRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        headers: request.headers.0.clone(),
        fields,
        now_ms,
    };
    fixup(&mut parts);
    request.method = parts.method;
    request.path = parts.path;
    request.headers.0 = parts.headers;
    if let Some(Value::Object(_)) = request.json {
        request.json = Some(Value::Object(parts.fields.into_iter().collect()));
    } else if request.form.is_some() {
        request.form = Some(
            parts
                .fields
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect(),
        );
    }
}

fn multipart_body(multipart: &Multipart, loaded: &Loaded) -> Result<(String, Vec<u8>), String> {
    let boundary = format!("rosetta-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, value) in &multipart.fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for file in &multipart.files {
        let bytes = match (&file.base64, &file.path) {
            (Some(encoded), _) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("file {}: {e}", file.filename))?,
            (None, Some(sidecar)) => {
                let path = sidecar_path(&loaded.file, sidecar);
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?
            }
            (None, None) => return Err(format!("file {} has no bytes", file.filename)),
        };
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                file.name, file.filename, file.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok((format!("multipart/form-data; boundary={boundary}"), body))
}

async fn send(request: &Request, loaded: &Loaded, target: &Target) -> Result<Answer, String> {
    let method = awc::http::Method::from_bytes(request.method.as_bytes())
        .map_err(|e| format!("method: {e}"))?;
    let url = format!("{}{}", target.base_url.trim_end_matches('/'), request.path);
    let client = crate::providers::https::client(
        Duration::from_secs(60),
        crate::providers::https::ClientOptions {
            default_headers: true,
            follow_redirects: false,
        },
    );
    let mut builder = client.request(method, url);
    let mut has_content_type = false;
    for (name, value) in &request.headers.0 {
        if name.eq_ignore_ascii_case("content-type") {
            has_content_type = true;
            if request.multipart.is_some() {
                continue;
            }
        }
        builder = builder.append_header((name.as_str(), value.as_str()));
    }
    let (content_type, body) = match request.body()? {
        Body::None => (None, Vec::new()),
        Body::Json(json) => (
            Some("application/json".to_owned()),
            serde_json::to_vec(&json).map_err(|e| e.to_string())?,
        ),
        Body::Form(pairs) => (
            Some("application/x-www-form-urlencoded".to_owned()),
            serde_urlencoded::to_string(&pairs)
                .map_err(|e| e.to_string())?
                .into_bytes(),
        ),
        Body::Multipart(multipart) => {
            let (content_type, body) = multipart_body(&multipart, loaded)?;
            has_content_type = false;
            (Some(content_type), body)
        }
        Body::Raw(bytes) => (None, bytes),
    };
    if let (Some(content_type), false) = (content_type, has_content_type) {
        builder = builder.insert_header(("Content-Type", content_type));
    }
    let mut response = builder
        .send_body(body)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let bytes = response
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(Answer {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::transcript::{FilePart, parse};

    /// A hook in the style of `code_sec`: a fresh `utime` and its checksum `sec`.
    fn checksum_fixup(request: &mut ReplayRequest) {
        let utime = request.now_ms / 1000;
        let phone: i64 = request
            .fields
            .iter()
            .find(|(k, _)| k == "phone")
            .and_then(|(_, v)| v.as_str()?.parse().ok())
            .unwrap_or(0);
        for (name, value) in &mut request.fields {
            match name.as_str() {
                "utime" => *value = Value::String(utime.to_string()),
                "sec" => *value = Value::String((phone - utime).rem_euclid(49_477).to_string()),
                _ => {}
            }
        }
    }

    #[test]
    fn the_dialect_fixup_recomputes_derived_fields() {
        let mut form = parse(r#"{"version":1,"dialect":"error_code","exchanges":[{"name":"x","request":{"method":"POST","path":"/user/sms",
            "form":[["phone","13390633695"],["utime","12345678"],["sec","12345"]]},"response":{"status":200}}]}"#)
        .unwrap()
        .exchanges
        .remove(0)
        .request;
        apply_fixup(&mut form, checksum_fixup, 1_500_000_000_000);
        assert_eq!(
            form.form,
            Some(vec![
                ("phone".into(), "13390633695".into()),
                ("utime".into(), "1500000000".into()),
                ("sec".into(), "24193".into())
            ]),
            "code_sec's worked example: (13390633695 − 1500000000) mod 49477 = 24193"
        );
        let mut json = Request {
            form: None,
            json: Some(serde_json::json!({"phone": "13390633695", "utime": "1", "sec": "0"})),
            ..form
        };
        apply_fixup(&mut json, checksum_fixup, 1_500_000_000_000);
        assert_eq!(json.json.unwrap()["sec"], Value::from("24193"));
    }

    #[test]
    fn multipart_bodies_carry_fields_and_files() {
        let dir = std::env::temp_dir().join(format!(
            "rosetta-multipart-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("avatar.png"), b"\x89PNG-sidecar").unwrap();
        let transcript = parse(r#"{"version":1,"dialect":"error_code","exchanges":[{"name":"x","request":{"method":"POST","path":"/"},"response":{"status":200}}]}"#).unwrap();
        let loaded = Loaded {
            file: dir.join("t.json"),
            transcript,
            skipped: Vec::new(),
        };
        let multipart = Multipart {
            fields: vec![("userVO.userId".into(), "100000".into())],
            files: vec![
                FilePart {
                    name: "userPhoto".into(),
                    filename: "a.jpg".into(),
                    content_type: "image/jpeg".into(),
                    base64: Some("/9j/".into()),
                    path: None,
                },
                FilePart {
                    name: "userPhoto".into(),
                    filename: "b.png".into(),
                    content_type: "image/png".into(),
                    base64: None,
                    path: Some("avatar.png".into()),
                },
            ],
        };
        let (content_type, body) = multipart_body(&multipart, &loaded).unwrap();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("name=\"userVO.userId\"\r\n\r\n100000\r\n"));
        assert!(
            body.windows(3).any(|w| w == [0xFF, 0xD8, 0xFF]),
            "inline base64 bytes"
        );
        assert!(text.contains("PNG-sidecar"), "sidecar bytes");
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        let missing = Multipart {
            fields: vec![],
            files: vec![FilePart {
                path: Some("nope.png".into()),
                base64: None,
                ..multipart.files[1].clone()
            }],
        };
        assert!(
            multipart_body(&missing, &loaded)
                .unwrap_err()
                .contains("nope.png")
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
