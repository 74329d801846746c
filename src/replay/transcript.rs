//! The transcript format (version 1): `{version, dialect, title, source, rebind, exchanges}`,
//! loaded and checked with the file, exchange and field named in every error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const FORMAT_VERSION: u64 = 1;

/// A whole transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub version: u64,
    pub dialect: String,
    #[serde(default)]
    pub title: String,
    /// Where the exchanges come from (a document section, a recording, a capture).
    #[serde(default)]
    pub source: String,
    /// Raw recordings (no placeholders): compare the dialect's volatile locations by type and
    /// rewrite recorded values to live ones.
    #[serde(default, skip_serializing_if = "is_false")]
    pub rebind: bool,
    /// Gateway settings the exchanges need, by dotted key
    /// (`{"dialects.error_code.success_message": "请求成功"}`): applied to the in-process
    /// gateway; a running `--target` must already run with them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, Value>,
    pub exchanges: Vec<Exchange>,
}

impl Transcript {
    /// The transcript's settings as a TOML layer over the gateway's own.
    pub fn settings_toml(&self) -> String {
        let mut sections: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (key, value) in &self.settings {
            let (section, name) = key.rsplit_once('.').unwrap_or(("", key));
            sections
                .entry(section)
                .or_default()
                .push(format!("{name} = {value}"));
        }
        let mut toml = String::new();
        for (section, lines) in sections {
            toml.push_str(&format!("[{section}]\n"));
            for line in lines {
                toml.push_str(&line);
                toml.push('\n');
            }
        }
        toml
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    pub name: String,
    /// The document section (or capture) this exchange comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// When the exchange was recorded (epoch milliseconds), for `--pace recorded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<i64>,
    pub request: Request,
    pub response: Response,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub method: String,
    /// Path with query, relative to the dialect's prefix.
    pub path: String,
    #[serde(default, skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Vec<(String, String)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<Multipart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_base64: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multipart {
    #[serde(default)]
    pub fields: Vec<(String, String)>,
    #[serde(default)]
    pub files: Vec<FilePart>,
}

/// A file part: its bytes inline as base64, or in a sidecar file next to the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePart {
    pub name: String,
    pub filename: String,
    #[serde(default = "octet_stream")]
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn octet_stream() -> String {
    "application/octet-stream".to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    pub status: u16,
    /// Only the headers listed are compared (names without case).
    #[serde(default, skip_serializing_if = "Headers::is_empty")]
    pub headers: Headers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Headers in order; written as an object, or as `[name, value]` pairs when a name repeats.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, name: &str, value: String) {
        match self
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => *v = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }
}

impl Serialize for Headers {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<String> = self.0.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
        names.sort();
        names.dedup();
        if names.len() == self.0.len() {
            let map: Map<String, Value> = self
                .0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            map.serialize(serializer)
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Headers, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Map(Map<String, Value>),
            Pairs(Vec<(String, String)>),
        }
        match Form::deserialize(deserializer)? {
            Form::Pairs(pairs) => Ok(Headers(pairs)),
            Form::Map(map) => map
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    other => Err(serde::de::Error::custom(format!(
                        "header `{k}` must be a string, not {other}"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Headers),
        }
    }
}

/// A request body ready to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    Multipart(Multipart),
    Raw(Vec<u8>),
}

impl Request {
    /// A request without a body.
    pub fn new(method: impl Into<String>, path: impl Into<String>, headers: Headers) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            headers,
            json: None,
            form: None,
            multipart: None,
            raw: None,
            raw_base64: None,
        }
    }

    /// The one body form the request has.
    pub fn body(&self) -> Result<Body, String> {
        let forms = [
            self.json.is_some(),
            self.form.is_some(),
            self.multipart.is_some(),
            self.raw.is_some(),
            self.raw_base64.is_some(),
        ];
        if forms.iter().filter(|f| **f).count() > 1 {
            return Err("has more than one body (json, form, multipart, raw, raw_base64)".into());
        }
        if let Some(json) = &self.json {
            return Ok(Body::Json(json.clone()));
        }
        if let Some(form) = &self.form {
            return Ok(Body::Form(form.clone()));
        }
        if let Some(multipart) = &self.multipart {
            return Ok(Body::Multipart(multipart.clone()));
        }
        if let Some(raw) = &self.raw {
            return Ok(Body::Raw(raw.clone().into_bytes()));
        }
        if let Some(encoded) = &self.raw_base64 {
            return base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(Body::Raw)
                .map_err(|e| format!("raw_base64 is not base64: {e}"));
        }
        Ok(Body::None)
    }
}

/// Parses transcript JSON, naming the exchange and field of a mistake.
pub fn parse(text: &str) -> Result<Transcript, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object().ok_or("a transcript is a JSON object")?;
    match object.get("version").and_then(Value::as_u64) {
        Some(FORMAT_VERSION) => {}
        Some(other) => {
            return Err(format!(
                "version {other} is not supported (this reader knows version {FORMAT_VERSION})"
            ));
        }
        None => return Err("field `version` is missing (the format version, 1)".into()),
    }
    if let Some(Value::Array(exchanges)) = object.get("exchanges") {
        for (index, exchange) in exchanges.iter().enumerate() {
            let name = exchange.get("name").and_then(Value::as_str).unwrap_or("?");
            serde_path_to_error::deserialize::<_, Exchange>(exchange.clone()).map_err(|e| {
                format!(
                    "exchange {} ({name}): field `{}`: {}",
                    index + 1,
                    e.path(),
                    e.inner()
                )
            })?;
        }
    }
    serde_path_to_error::deserialize(value)
        .map_err(|e| format!("field `{}`: {}", e.path(), e.inner()))
}

/// The checks serde cannot make: one body form, known dialect, sidecar files present.
pub fn validate(transcript: &Transcript, path: &Path) -> Result<(), String> {
    if crate::dialects::find(&transcript.dialect).is_none() {
        let known: Vec<&str> = crate::dialects::registry().iter().map(|s| s.id).collect();
        return Err(format!(
            "field `dialect`: `{}` is not a dialect of this build ({})",
            transcript.dialect,
            known.join(", ")
        ));
    }
    if transcript.exchanges.is_empty() {
        return Err("field `exchanges` is empty".into());
    }
    for (key, value) in &transcript.settings {
        let bare = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !key.contains('.') || !key.split('.').all(bare) {
            return Err(format!(
                "field `settings`: `{key}` is not a dotted key like dialects.error_code.success_message"
            ));
        }
        // JSON strings, numbers and booleans are written the same way in TOML.
        if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
            return Err(format!(
                "field `settings`: `{key}` must be a string, a number or a boolean"
            ));
        }
    }
    for (index, exchange) in transcript.exchanges.iter().enumerate() {
        check_exchange(exchange, path)
            .map_err(|message| format!("exchange {} ({}): {message}", index + 1, exchange.name))?;
    }
    Ok(())
}

/// The checks of one exchange that serde cannot make; the message names the field. The
/// recorder writes only exchanges that pass them, so that a recording always replays.
pub fn check_exchange(exchange: &Exchange, path: &Path) -> Result<(), String> {
    let at = |field: &str, message: &str| format!("field `{field}` {message}");
    let request = &exchange.request;
    if !is_method_token(&request.method) {
        return Err(at("request.method", "must be an HTTP method"));
    }
    if !request.path.starts_with('/') {
        return Err(at("request.path", "must start with /"));
    }
    request.body().map_err(|message| at("request", &message))?;
    if let Some(multipart) = &request.multipart {
        for file in &multipart.files {
            match (&file.base64, &file.path) {
                (Some(_), None) => {}
                (None, Some(sidecar)) => {
                    let full = sidecar_path(path, sidecar);
                    if !full.exists() {
                        return Err(at(
                            "request.multipart.files.path",
                            &format!("names {} which does not exist", full.display()),
                        ));
                    }
                }
                _ => {
                    return Err(at(
                        "request.multipart.files",
                        "needs exactly one of base64 and path",
                    ));
                }
            }
        }
    }
    if !(100..=599).contains(&exchange.response.status) {
        return Err(at("response.status", "must be an HTTP status"));
    }
    if exchange.response.json.is_some() && exchange.response.text.is_some() {
        return Err(at("response", "has both json and text"));
    }
    Ok(())
}

/// An HTTP method as the protocol allows it: a token, case-sensitive (`Post` is a method of its
/// own, which a gateway answers as an unknown one — worth replaying as recorded).
fn is_method_token(method: &str) -> bool {
    !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A sidecar file is named relative to the transcript's folder.
pub fn sidecar_path(transcript: &Path, sidecar: &str) -> PathBuf {
    transcript.parent().unwrap_or(Path::new(".")).join(sidecar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_a_toml_layer() {
        let transcript = parse(
            r#"{"version":1,"dialect":"error_code","settings":{"dialects.error_code.success_message":"请求成功","dialects.error_code.token_ttl_seconds":60,"testing.enabled":true},"exchanges":[]}"#,
        )
        .unwrap();
        assert_eq!(
            transcript.settings_toml(),
            "[dialects.error_code]\nsuccess_message = \"请求成功\"\ntoken_ttl_seconds = 60\n[testing]\nenabled = true\n"
        );
    }

    const MINIMAL: &str = r#"{"version":1,"dialect":"error_code","exchanges":[
        {"name":"detail","request":{"method":"GET","path":"/api/user/1"},"response":{"status":200}}]}"#;

    #[test]
    fn parses_and_round_trips() {
        let t = parse(MINIMAL).unwrap();
        assert_eq!(t.exchanges[0].request.body().unwrap(), Body::None);
        let again = parse(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(t, again);
    }

    #[test]
    fn errors_name_the_exchange_and_field() {
        let bad = MINIMAL.replace(r#""status":200"#, r#""status":"200""#);
        let err = parse(&bad).unwrap_err();
        assert!(
            err.contains("exchange 1 (detail)") && err.contains("status"),
            "{err}"
        );
        let err = parse(&MINIMAL.replace(r#""version":1"#, r#""version":7"#)).unwrap_err();
        assert!(err.contains("version 7"), "{err}");
        let two = MINIMAL.replace(
            r#""path":"/api/user/1""#,
            r#""path":"/api/user/1","json":{},"raw":"x""#,
        );
        let err = validate(&parse(&two).unwrap(), Path::new("t.json")).unwrap_err();
        assert!(
            err.contains("exchange 1 (detail)") && err.contains("more than one body"),
            "{err}"
        );
        let unknown = MINIMAL.replace("error_code", "klingon");
        assert!(
            validate(&parse(&unknown).unwrap(), Path::new("t.json"))
                .unwrap_err()
                .contains("`dialect`")
        );
        let typo = MINIMAL.replace(r#""method":"GET""#, r#""method":"GET","bdoy":{}"#);
        assert!(parse(&typo).unwrap_err().contains("bdoy"));
    }

    #[test]
    fn headers_are_an_object_or_pairs() {
        let h: Headers = serde_json::from_str(r#"{"X-A":"1","x-b":"2"}"#).unwrap();
        assert_eq!(h.get("x-a"), Some("1"));
        let pairs: Headers =
            serde_json::from_str(r#"[["Cookie","a=1"],["Cookie","b=2"]]"#).unwrap();
        assert_eq!(pairs.0.len(), 2);
        assert_eq!(
            serde_json::to_string(&pairs).unwrap(),
            r#"[["Cookie","a=1"],["Cookie","b=2"]]"#
        );
        assert!(serde_json::from_str::<Headers>(r#"{"X-A":1}"#).is_err());
    }
}
