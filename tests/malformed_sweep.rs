//! The malformed-input sweep: for every route of every dialect, requests generated from its
//! golden transcripts and its route table and then broken on purpose — garbage and invalid
//! UTF-8 bodies, truncated and deeply nested JSON, a wrong type for each field, huge strings and
//! numbers, duplicate keys, broken forms and multiparts, absent / wrong / huge Content-Length,
//! wrong methods, unknown paths, odd ids in paths, empty / huge / non-ASCII tokens and cookies.
//! Deterministic (a fixed seed), bounded (a fixed count per dialect: `ROSETTA_SWEEP_REQUESTS`,
//! default 2,000). Every answer must come, be no 5xx, and be in the dialect's own envelope (an
//! HTTP-level refusal of a request that is not valid HTTP excepted) — and, for a request that
//! reached a route, be an answer the dialect's OpenAPI document allows; the process stays alive.

mod support;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use rosetta::dialects::kit::openapi;
use rosetta::replay::transcript::{self, Body};
use serde_json::{Map, Value, json};
use support::{TestApp, raw_http};

const DEFAULT_REQUESTS_PER_DIALECT: usize = 2_000;
const SEED: u64 = 0x005e_ed0f_2026_1201;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// A request to break: method, path (with query), headers and body.
#[derive(Clone, Debug)]
struct Seed {
    method: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Body,
}

/// Placeholders of golden transcripts (`{{…}}`) become a plausible id.
fn fill(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                out.push_str("100000");
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

fn fill_value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(fill(s)),
        Value::Array(items) => Value::Array(items.iter().map(fill_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every request of the dialect's golden transcripts, and every route of its table with each
/// of its methods and no body.
fn seeds(dialect: &str) -> Vec<Seed> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("dialects")
        .join(dialect)
        .join("transcripts");
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = transcript::parse(&text).unwrap();
        for exchange in parsed.exchanges {
            let request = exchange.request;
            let body = match request.body().unwrap() {
                Body::Json(json) => Body::Json(fill_value(&json)),
                Body::Form(pairs) => {
                    Body::Form(pairs.into_iter().map(|(k, v)| (k, fill(&v))).collect())
                }
                Body::Raw(raw) => Body::Raw(fill(&String::from_utf8_lossy(&raw)).into_bytes()),
                other => other,
            };
            seeds.push(Seed {
                method: request.method,
                path: fill(&request.path),
                headers: request
                    .headers
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone(), fill(v).into_bytes()))
                    .collect(),
                body,
            });
        }
    }
    let spec = rosetta::dialects::find(dialect).unwrap();
    for route in spec.routes {
        for method in route.methods {
            seeds.push(Seed {
                method: (*method).to_owned(),
                path: route.example_path(),
                headers: Vec::new(),
                body: Body::None,
            });
        }
    }
    seeds
}

/// The headers and cookies through which the dialects carry sessions.
const SESSION_HEADERS: &[&str] = &[
    "X-Auth-Token",
    "X-Auth-Username",
    "X-Auth-Password",
    "uid",
    "accessToken",
    "client",
    "Cookie",
];
const COOKIE_NAMES: &[&str] = &["rong_im_auth", "SESSION"];

/// A value of the wrong kind, or an extreme one of the right kind.
fn odd_value(rng: &mut Rng) -> Value {
    match rng.below(16) {
        0 => json!(null),
        1 => json!(true),
        2 => json!([]),
        3 => json!({"nested": {"deeper": [1, 2, 3]}}),
        4 => json!(-1),
        5 => json!(0),
        6 => json!(1.5e300),
        7 => json!(u64::MAX),
        8 => json!(i64::MIN),
        9 => json!(""),
        10 => json!("   "),
        11 => json!("x".repeat(100_000)),
        12 => json!("名字🙂\u{0}\u{202e}"),
        13 => json!("99999999999999999999999999999999"),
        14 => json!(["a", 1, null]),
        _ => json!("<script>alert(1)</script>"),
    }
}

fn odd_text(rng: &mut Rng) -> String {
    match odd_value(rng) {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn odd_path_segment(rng: &mut Rng) -> String {
    rng.pick(&[
        "-1",
        "0",
        "99999999999999999999999",
        "abc",
        "%00",
        "..",
        "%2e%2e%2f",
        "%F0%9F%99%82",
        "1e9",
        "%20",
        "%zz",
        "_",
    ])
    .to_string()
}

/// Replaces id-like segments of a path (numbers, N3D-style ids) with odd ones.
fn odd_ids(rng: &mut Rng, path: &str) -> String {
    let (path, query) = path
        .split_once('?')
        .map_or((path, None), |(p, q)| (p, Some(q)));
    let segments: Vec<String> = path
        .split('/')
        .enumerate()
        .map(|(i, segment)| {
            let id_like = i > 1
                && !segment.is_empty()
                && (segment.bytes().all(|b| b.is_ascii_digit()) || segment.len() == 9);
            if id_like || (i > 0 && rng.chance(6)) {
                odd_path_segment(rng)
            } else {
                segment.to_owned()
            }
        })
        .collect();
    let mut out = segments.join("/");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The mutation kinds; each request applies one (sometimes two).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    GarbageBody,
    InvalidUtf8,
    TruncatedJson,
    DeepJson,
    WrongType,
    DuplicateKeys,
    BrokenForm,
    BrokenMultipart,
    NoContentLength,
    WrongContentLength,
    HugeContentLength,
    WrongMethod,
    UnknownPath,
    OddIds,
    OddSession,
    OddQuery,
}

const KINDS: &[Kind] = &[
    Kind::GarbageBody,
    Kind::InvalidUtf8,
    Kind::TruncatedJson,
    Kind::DeepJson,
    Kind::WrongType,
    Kind::WrongType,
    Kind::WrongType,
    Kind::DuplicateKeys,
    Kind::BrokenForm,
    Kind::BrokenMultipart,
    Kind::NoContentLength,
    Kind::WrongContentLength,
    Kind::HugeContentLength,
    Kind::WrongMethod,
    Kind::UnknownPath,
    Kind::OddIds,
    Kind::OddIds,
    Kind::OddSession,
    Kind::OddSession,
    Kind::OddQuery,
];

/// A request as bytes on the wire, and whether it is still valid HTTP (a request that is not
/// may be refused by the HTTP layer, outside any dialect's envelope).
struct Wire {
    bytes: Vec<u8>,
    valid_http: bool,
    head_only: bool,
    kind: Kind,
}

fn json_text(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

fn form_text(pairs: &[(String, String)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

fn multipart_body(
    boundary: &str,
    fields: &[(String, String)],
    files: &[(String, Vec<u8>)],
) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in files {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// The seed's body as bytes and its Content-Type.
fn seed_body(seed: &Seed) -> (Vec<u8>, Option<String>) {
    match &seed.body {
        Body::None => (Vec::new(), None),
        Body::Json(value) => (json_text(value), Some("application/json".into())),
        Body::Form(pairs) => (
            form_text(pairs),
            Some("application/x-www-form-urlencoded".into()),
        ),
        Body::Multipart(multipart) => {
            let files: Vec<(String, Vec<u8>)> = multipart
                .files
                .iter()
                .map(|f| (f.name.clone(), b"\x89PNG\r\n\x1a\n....".to_vec()))
                .collect();
            (
                multipart_body("sweepboundary", &multipart.fields, &files),
                Some("multipart/form-data; boundary=sweepboundary".into()),
            )
        }
        Body::Raw(raw) => (raw.clone(), None),
    }
}

fn mutate(rng: &mut Rng, seed: &Seed) -> Wire {
    let kind = *rng.pick(KINDS);
    let mut method = seed.method.clone();
    let mut path = seed.path.clone();
    let mut headers = seed.headers.clone();
    let (mut body, mut content_type) = seed_body(seed);
    let mut content_length = Some(String::new());
    let mut valid_http = true;
    match kind {
        Kind::GarbageBody => {
            let n = rng.below(4096);
            body = rng.bytes(n);
        }
        Kind::InvalidUtf8 => {
            let choices: [&[u8]; 4] = [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"];
            let bad: &&[u8] = rng.pick(&choices);
            body = match &seed.body {
                Body::Json(Value::Object(map)) if !map.is_empty() => {
                    let key = map.keys().next().unwrap().clone();
                    let mut text = format!("{{\"{key}\":\"").into_bytes();
                    text.extend_from_slice(bad);
                    text.extend_from_slice(b"\"}");
                    text
                }
                _ => {
                    let mut text = b"userVO.userName=".to_vec();
                    text.extend_from_slice(bad);
                    text
                }
            };
        }
        Kind::TruncatedJson => {
            let whole = match &seed.body {
                Body::Json(value) => json_text(value),
                _ => json_text(&json!({"username": "13900000000", "password": "123456"})),
            };
            let cut = rng.below(whole.len().max(1));
            body = whole[..cut].to_vec();
            content_type = Some("application/json".into());
        }
        Kind::DeepJson => {
            let depth = 1 + rng.below(20_000);
            let (open, close) = if rng.chance(2) {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            let mut text = open.repeat(depth);
            text.push('1');
            text.push_str(&close.repeat(depth));
            body = text.into_bytes();
            content_type = Some("application/json".into());
        }
        Kind::WrongType => match &seed.body {
            Body::Json(Value::Object(map)) if !map.is_empty() => {
                let mut map: Map<String, Value> = map.clone();
                let keys: Vec<String> = map.keys().cloned().collect();
                let key = rng.pick(&keys).clone();
                map.insert(key, odd_value(rng));
                body = json_text(&Value::Object(map));
            }
            Body::Form(pairs) if !pairs.is_empty() => {
                let mut pairs = pairs.clone();
                let i = rng.below(pairs.len());
                pairs[i].1 = odd_text(rng);
                body = form_text(&pairs);
            }
            _ => {
                body = json_text(
                    &json!({"username": odd_value(rng), "password": odd_value(rng), "phone": odd_value(rng)}),
                );
                content_type = Some("application/json".into());
            }
        },
        Kind::DuplicateKeys => {
            body = match &seed.body {
                Body::Form(pairs) if !pairs.is_empty() => {
                    let mut pairs = pairs.clone();
                    pairs.push((pairs[0].0.clone(), odd_text(rng)));
                    form_text(&pairs)
                }
                Body::Json(Value::Object(map)) if !map.is_empty() => {
                    let key = map.keys().next().unwrap();
                    let mut text = json_text(&Value::Object(map.clone()));
                    text.pop();
                    text.extend_from_slice(format!(",\"{key}\":{}}}", odd_value(rng)).as_bytes());
                    text
                }
                _ => b"{\"phone\":\"13900000000\",\"phone\":[1]}".to_vec(),
            };
        }
        Kind::BrokenForm => {
            let choices: [&[u8]; 6] = [
                b"%zz=%",
                b"&&&=&",
                b"a=b=c&=&userVO.userName",
                b"phone=%E4%B8&pwd=%",
                b"userVO.userName[]=1&userVO.userName[x]=2",
                b"=",
            ];
            body = rng.pick(&choices).to_vec();
            content_type = Some("application/x-www-form-urlencoded".into());
        }
        Kind::BrokenMultipart => {
            let fields = vec![("userVO.userId".to_owned(), "100000".to_owned())];
            let files = vec![("userPhoto".to_owned(), rng.bytes(64))];
            let whole = multipart_body("sweep", &fields, &files);
            match rng.below(5) {
                0 => {
                    body = whole[..whole.len() / 2].to_vec();
                    content_type = Some("multipart/form-data; boundary=sweep".into());
                }
                1 => {
                    body = whole;
                    content_type = Some("multipart/form-data; boundary=other".into());
                }
                2 => {
                    body = whole;
                    content_type = Some("multipart/form-data".into());
                }
                3 => {
                    body = b"--sweep\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n--sweep--\r\n"
                        .to_vec();
                    content_type = Some("multipart/form-data; boundary=sweep".into());
                }
                _ => {
                    body = rng.bytes(512);
                    content_type = Some("multipart/form-data; boundary=sweep".into());
                }
            }
        }
        Kind::NoContentLength => {
            // Without a length the body runs until the connection closes, which the client
            // does after writing it (a half-close); actix refuses bodies it cannot delimit.
            content_length = None;
            valid_http = false;
        }
        Kind::WrongContentLength => {
            content_length = Some(
                rng.pick(&["abc", "-1", "1.5", "0x10", "", " 3 ", "1, 2"])
                    .to_string(),
            );
            valid_http = false;
        }
        Kind::HugeContentLength => {
            // Declared far beyond any limit: refused before any body is read.
            content_length = Some(
                rng.pick(&["999999999999", "18446744073709551615", "4294967296"])
                    .to_string(),
            );
            valid_http = content_length.as_deref() != Some("18446744073709551615");
        }
        Kind::WrongMethod => {
            method = rng
                .pick(&[
                    "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO",
                    "post",
                ])
                .to_string();
        }
        Kind::UnknownPath => {
            path = match rng.below(5) {
                0 => format!("/{}", "a/".repeat(rng.below(200))),
                1 => format!("/no-such-route/{}", odd_path_segment(rng)),
                2 => format!("{}/extra", seed.path.split('?').next().unwrap_or("")),
                3 => "/%2e%2e/%2e%2e/etc/passwd".to_owned(),
                _ => format!("/{}", "x".repeat(4000)),
            };
        }
        Kind::OddIds => path = odd_ids(rng, &path),
        Kind::OddSession => {
            let name = *rng.pick(SESSION_HEADERS);
            let value: Vec<u8> = match rng.below(6) {
                0 => Vec::new(),
                1 => "a".repeat(7000).into_bytes(),
                2 => "令牌🙂".as_bytes().to_vec(),
                3 => b"\xff\xfe\x80".to_vec(),
                4 => b"   ".to_vec(),
                _ => b"00000000-0000-0000-0000-000000000000".to_vec(),
            };
            let value = if name == "Cookie" {
                let cookie = *rng.pick(COOKIE_NAMES);
                let mut text = format!("{cookie}=").into_bytes();
                text.extend_from_slice(&value);
                text
            } else {
                value
            };
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), value));
        }
        Kind::OddQuery => {
            let junk = rng.pick(&[
                "?%zz",
                "?a=%E4%B8",
                "?phone[]=1&phone[x]=2",
                "?utime=99999999999999999999&sec=-1",
                "?userVO.userName=&userVO.password=",
                "?&&&==",
            ]);
            path = format!("{}{junk}", path.split('?').next().unwrap_or(""));
        }
    }
    let head_only = method == "HEAD";
    let mut wire =
        format!("{method} {path} HTTP/1.1\r\nHost: sweep\r\nConnection: close\r\n").into_bytes();
    for (name, value) in &headers {
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("connection") {
            continue;
        }
        if name.eq_ignore_ascii_case("content-type") && content_type.is_some() {
            continue;
        }
        wire.extend_from_slice(name.as_bytes());
        wire.extend_from_slice(b": ");
        wire.extend_from_slice(value);
        wire.extend_from_slice(b"\r\n");
    }
    if let Some(content_type) = &content_type {
        wire.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
    }
    match content_length {
        Some(declared) if declared.is_empty() => {
            wire.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        Some(declared) => {
            wire.extend_from_slice(format!("Content-Length: {declared}\r\n").as_bytes());
        }
        None => {}
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(&body);
    Wire {
        bytes: wire,
        valid_http,
        head_only,
        kind,
    }
}

/// One answer: status, Content-Type and body (`None` when the server closed without one).
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn exchange(address: SocketAddr, wire: &Wire) -> Result<Option<Answer>, String> {
    match raw_http::send(address, &wire.bytes, Duration::from_secs(10), true) {
        Ok(bytes) if bytes.is_empty() => Ok(None),
        Ok(bytes) => raw_http::parse_answer(&bytes).map(|answer| {
            Some(Answer {
                status: answer.status,
                content_type: answer.header("content-type").unwrap_or_default().to_owned(),
                body: answer.body,
            })
        }),
        Err(err) => match err.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => Err("no answer within 10 s".to_owned()),
            ErrorKind::ConnectionRefused => Err(format!("connect: {err}")),
            // Reset by the server after refusing the request (HTTP layer): no answer.
            _ => Ok(None),
        },
    }
}

/// Whether an answer is in the dialect's own shape (its envelope, or one of the documented
/// non-JSON answers of its framework).
fn in_envelope(dialect: &str, answer: &Answer) -> bool {
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let object = json.as_ref().and_then(Value::as_object);
    let image = answer.content_type.starts_with("image/");
    match dialect {
        "error_code" => object.is_some_and(|o| {
            o.get("error_code").is_some_and(Value::is_u64)
                && o.get("error_msg").is_some_and(Value::is_string)
        }),
        "struts" => {
            image
                || object.is_some_and(|o| {
                    o.get("success").is_some_and(Value::is_boolean)
                        && o.get("info").is_some_and(Value::is_string)
                })
        }
        "code_sec" => object.is_some_and(|o| o.get("code").is_some_and(Value::is_string)),
        "rest" => match object {
            Some(o) if answer.status != 200 => {
                o.get("timestamp").is_some_and(Value::is_u64)
                    && o.get("code").and_then(Value::as_u64) == Some(u64::from(answer.status))
                    && o.get("error").is_some_and(Value::is_string)
            }
            Some(_) => true,
            None => false,
        },
        "code_result" => match answer.status {
            200 => image || object.is_some_and(|o| o.get("code").is_some_and(Value::is_u64)),
            // Express's own answers: 204 to OPTIONS, text for the rest.
            204 => answer.body.is_empty(),
            400 | 403 | 404 | 413 | 500 => {
                answer.content_type.starts_with("text/") && !answer.body.is_empty()
            }
            _ => false,
        },
        _ => false,
    }
}

/// The method and path (without the query) of a request's first line.
fn request_line(bytes: &[u8]) -> Option<(String, String)> {
    let end = bytes.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut parts = line.split(' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?;
    let path = target.split('?').next()?.to_owned();
    Some((method, path))
}

fn requests_per_dialect() -> usize {
    std::env::var("ROSETTA_SWEEP_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_REQUESTS_PER_DIALECT)
}

#[actix_web::test]
async fn every_dialect_answers_malformed_requests_in_its_envelope_without_5xx() {
    let app = TestApp::spawn(
        "[http]\nbody_timeout_seconds = 1\nheader_timeout_seconds = 2\n\
         [security]\nlogin_attempts_per_ip_per_minute = 0\n",
    )
    .await;
    let count = requests_per_dialect();
    let mut report = Vec::new();
    for spec in rosetta::dialects::registry() {
        let address = app.address(spec.id).unwrap();
        let seeds = seeds(spec.id);
        let mut rng = Rng(SEED ^ spec.default_port as u64);
        let (mut failures, mut refused_by_http, mut schema_checked) = (Vec::new(), 0usize, 0usize);
        let started = std::time::Instant::now();
        for n in 0..count {
            let seed = rng.pick(&seeds).clone();
            let wire = mutate(&mut rng, &seed);
            let answer = tokio::task::spawn_blocking({
                let bytes = wire.bytes.clone();
                let wire = Wire { bytes, ..wire };
                move || exchange(address, &wire).map(|a| (a, wire))
            })
            .await
            .unwrap();
            let (answer, wire) = match answer {
                Ok(pair) => pair,
                Err(problem) => {
                    failures.push(format!("#{n} {problem}"));
                    continue;
                }
            };
            let describe = || {
                format!(
                    "#{n} {:?}: {}",
                    wire.kind,
                    String::from_utf8_lossy(&wire.bytes[..wire.bytes.len().min(300)])
                )
            };
            let Some(answer) = answer else {
                if wire.valid_http {
                    failures.push(format!("{} → closed without an answer", describe()));
                }
                refused_by_http += 1;
                continue;
            };
            if answer.status >= 500 {
                failures.push(format!(
                    "{} → {} {}",
                    describe(),
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                ));
                continue;
            }
            let http_layer_refusal = !wire.valid_http
                && matches!(answer.status, 400 | 413 | 431)
                && answer.body.is_empty();
            if http_layer_refusal {
                refused_by_http += 1;
                continue;
            }
            if !wire.head_only && !in_envelope(spec.id, &answer) {
                failures.push(format!(
                    "{} → {} {} {}",
                    describe(),
                    answer.status,
                    answer.content_type,
                    String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
                ));
                continue;
            }
            // A request that reached a route gets an answer its OpenAPI document allows.
            if let Some((method, path)) = request_line(&wire.bytes).filter(|_| !wire.head_only)
                && openapi::route_for(spec, &path)
                    .is_some_and(|route| route.methods.contains(&method.as_str()))
            {
                schema_checked += 1;
                let problems = openapi::check_answer(
                    spec,
                    &method,
                    &path,
                    answer.status,
                    Some(&answer.content_type),
                    &answer.body,
                );
                if !problems.is_empty() {
                    failures.push(format!(
                        "{} → outside its OpenAPI document: {}",
                        describe(),
                        problems.join("; ")
                    ));
                }
            }
        }
        // Still alive and serving.
        let health = app.send("ops", "GET", "/healthz", &[], b"").await;
        assert_eq!(health.status, 200, "{} left the process unhealthy", spec.id);
        report.push(format!(
            "{}: {count} requests in {:.1} s, {refused_by_http} refused by the HTTP layer, \
             {schema_checked} answers of a route checked against its OpenAPI document, {} failures",
            spec.id,
            started.elapsed().as_secs_f64(),
            failures.len()
        ));
        assert!(
            failures.is_empty(),
            "{}: {} of {count} malformed requests answered wrongly, e.g.:\n{}",
            spec.id,
            failures.len(),
            failures
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    println!("{}", report.join("\n"));
}
