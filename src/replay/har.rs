//! HAR 1.2 import (what browsers, Charles, Fiddler and mitmproxy export): the entries of one
//! host and path prefix become a transcript whose recorded values are rebound at replay.

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::transcript::{Exchange, FORMAT_VERSION, Headers, Request, Response, Transcript};

/// Which entries to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `host` or `host:port`; every host when `None`.
    pub host: Option<String>,
    /// A path prefix, removed from the kept paths (the dialect's mount point).
    pub prefix: Option<String>,
}

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    #[serde(default)]
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    /// When the request started (RFC 3339), for `--pace recorded`.
    #[serde(default)]
    started_date_time: Option<String>,
    request: HarRequest,
    response: HarResponse,
}

#[derive(Deserialize)]
struct NameValue {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    post_data: Option<PostData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostData {
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    params: Vec<NameValue>,
}

#[derive(Deserialize)]
struct HarResponse {
    status: u16,
    #[serde(default)]
    headers: Vec<NameValue>,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    #[serde(default)]
    size: i64,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// Request headers a replay must not copy: the client sets them, or they are HTTP/2 pseudo
/// headers, or they would ask for a compressed answer.
const SKIPPED_REQUEST_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "connection",
    "accept-encoding",
    "transfer-encoding",
    "x-request-id",
];

/// `(host, path with query)` of an absolute URL.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.split_once("://")?.1;
    Some(match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => match rest.find('?') {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        },
    })
}

fn host_matches(filter: &str, host: &str) -> bool {
    host.eq_ignore_ascii_case(filter)
        || host
            .split(':')
            .next()
            .is_some_and(|h| h.eq_ignore_ascii_case(filter))
}

/// Converts HAR text to a transcript of `dialect`.
pub fn to_transcript(text: &str, dialect: &str, filter: &Filter) -> Result<Transcript, String> {
    let har: Har = serde_json::from_str(text).map_err(|e| format!("not a HAR 1.2 file: {e}"))?;
    let mut exchanges = Vec::new();
    for (index, entry) in har.log.entries.into_iter().enumerate() {
        let Some((host, path)) = split_url(&entry.request.url) else {
            return Err(format!(
                "entry {}: request.url `{}` is not absolute",
                index + 1,
                entry.request.url
            ));
        };
        if filter
            .host
            .as_deref()
            .is_some_and(|h| !host_matches(h, host))
        {
            continue;
        }
        let path = match filter.prefix.as_deref().map(|p| p.trim_end_matches('/')) {
            Some(prefix) if !prefix.is_empty() => match path.strip_prefix(prefix) {
                Some("") => "/".to_owned(),
                Some(rest) if rest.starts_with('/') || rest.starts_with('?') => rest.to_owned(),
                _ => continue,
            },
            _ => path.to_owned(),
        };
        let exchange = convert(entry, path).map_err(|e| format!("entry {}: {e}", index + 1))?;
        exchanges.push(exchange);
    }
    if exchanges.is_empty() {
        return Err("no entry of the HAR file matches the host and prefix".into());
    }
    Ok(Transcript {
        version: FORMAT_VERSION,
        dialect: dialect.to_owned(),
        title: "HAR capture".to_owned(),
        source: "HAR 1.2 capture".to_owned(),
        rebind: true,
        settings: Default::default(),
        exchanges,
    })
}

fn convert(entry: Entry, path: String) -> Result<Exchange, String> {
    let started_at = entry
        .started_date_time
        .as_deref()
        .and_then(crate::domain::dates::parse_rfc3339_millis);
    let request = entry.request;
    let headers = Headers(
        request
            .headers
            .into_iter()
            .filter(|h| {
                !h.name.starts_with(':')
                    && !SKIPPED_REQUEST_HEADERS.contains(&h.name.to_ascii_lowercase().as_str())
            })
            .map(|h| (h.name, h.value))
            .collect(),
    );
    let mut replay = Request::new(request.method.to_ascii_uppercase(), path, headers);
    if let Some(post) = request.post_data {
        match post.text {
            // The text is what was sent, byte for byte: keep it (JSON as JSON when it says so).
            Some(text) if post.mime_type.starts_with("application/json") => {
                match serde_json::from_str::<Value>(&text) {
                    Ok(json) => replay.json = Some(json),
                    Err(_) => replay.raw = Some(text),
                }
            }
            Some(text) => replay.raw = Some(text),
            None if !post.params.is_empty() => {
                replay.form = Some(post.params.into_iter().map(|p| (p.name, p.value)).collect());
            }
            None => {}
        }
    }
    let name = format!("{} {}", replay.method, replay.path);
    let response = entry.response;
    let content_type = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-type"))
        .map(|h| h.value.clone());
    let body = match response.content {
        Some(Content {
            text: Some(text),
            encoding,
            ..
        }) => Some(if encoding.as_deref() == Some("base64") {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| format!("response.content.text is not base64: {e}"))?;
            String::from_utf8(bytes).map_err(|_| "response.content is not text".to_owned())?
        } else {
            text
        }),
        Some(Content { size: 0, .. }) => Some(String::new()),
        _ => None,
    };
    let (json, text) = match body {
        Some(body) => match serde_json::from_str::<Value>(&body) {
            Ok(json) if !body.trim().is_empty() => (Some(json), None),
            _ => (None, Some(body)),
        },
        None => (None, None),
    };
    let mut headers = Headers::default();
    if let Some(content_type) = content_type {
        headers.set("Content-Type", content_type);
    }
    // Session cookies the server set: under rebinding they map the recorded cookie to the live
    // one, so later requests carry the live session (SealTalk's `rong_im_auth`).
    headers.0.extend(
        response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("set-cookie"))
            .map(|h| ("Set-Cookie".to_owned(), h.value.clone())),
    );
    Ok(Exchange {
        name,
        source: Some("HAR capture".to_owned()),
        recorded_at: started_at,
        request: replay,
        response: Response {
            status: response.status,
            headers,
            json,
            text,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROMIUM: &str = r#"{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},
      "pages":[],"entries":[
      {"_initiator":{"type":"other"},"_priority":"High","_resourceType":"fetch","cache":{},"connection":"1234",
       "request":{"method":"POST","url":"http://gw.example:8085/blueu/api/user/login","httpVersion":"HTTP/1.1",
         "headers":[{"name":"Host","value":"gw.example:8085"},{"name":"Content-Type","value":"application/x-www-form-urlencoded"},
                    {"name":"Accept-Encoding","value":"gzip"},{"name":":authority","value":"gw"}],
         "queryString":[],"cookies":[],"headersSize":-1,"bodySize":40,
         "postData":{"mimeType":"application/x-www-form-urlencoded","text":"{\"username\":\"u\",\"password\":\"p\"}",
                     "params":[{"name":"{\"username\":\"u\",\"password\":\"p\"}","value":""}]}},
       "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1",
         "headers":[{"name":"Content-Type","value":"application/json;charset=utf-8;"},{"name":"Date","value":"x"}],
         "cookies":[],"content":{"size":57,"mimeType":"application/json","compression":0,
           "text":"eyJlcnJvcl9jb2RlIjowLCJlcnJvcl9tc2ciOiJzdWNjZXNzIn0=","encoding":"base64"},
         "redirectURL":"","headersSize":-1,"bodySize":-1,"_transferSize":120,"_error":null},
       "serverIPAddress":"127.0.0.1","startedDateTime":"2026-11-21T00:00:00.000Z","time":3.2,"timings":{"wait":1}},
      {"request":{"method":"GET","url":"http://other.example/x","headers":[]},"response":{"status":404,"headers":[],"content":{"size":0}}}
    ]}}"#;

    #[test]
    fn chromium_exports_become_transcripts() {
        let filter = Filter {
            host: Some("gw.example".into()),
            prefix: Some("/blueu".into()),
        };
        let t = to_transcript(CHROMIUM, "error_code", &filter).unwrap();
        assert!(t.rebind);
        assert_eq!(t.exchanges.len(), 1, "other hosts are left out");
        let e = &t.exchanges[0];
        assert_eq!(
            (e.request.method.as_str(), e.request.path.as_str()),
            ("POST", "/api/user/login")
        );
        assert_eq!(
            e.recorded_at,
            Some(1_795_219_200_000),
            "startedDateTime, for --pace recorded"
        );
        assert_eq!(
            e.request.raw.as_deref(),
            Some(r#"{"username":"u","password":"p"}"#),
            "the text, byte for byte"
        );
        assert_eq!(
            e.request.headers.0,
            vec![(
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned()
            )]
        );
        assert_eq!(
            e.response.json,
            Some(serde_json::json!({"error_code": 0, "error_msg": "success"}))
        );
        assert_eq!(
            e.response.headers.get("content-type"),
            Some("application/json;charset=utf-8;")
        );
    }

    #[test]
    fn params_without_text_become_a_form() {
        let har = r#"{"log":{"entries":[{"request":{"method":"post","url":"http://h/p?q=1","headers":[],
            "postData":{"mimeType":"application/x-www-form-urlencoded","params":[{"name":"a","value":"1"}]}},
            "response":{"status":200,"headers":[],"content":{"size":2,"text":"ok"}}}]}}"#;
        let t = to_transcript(har, "error_code", &Filter::default()).unwrap();
        let e = &t.exchanges[0];
        assert_eq!(e.request.method, "POST");
        assert_eq!(e.request.path, "/p?q=1");
        assert_eq!(e.request.form, Some(vec![("a".into(), "1".into())]));
        assert_eq!(e.response.text.as_deref(), Some("ok"));
    }

    #[test]
    fn refusals_say_why() {
        assert!(
            to_transcript("[]", "error_code", &Filter::default())
                .unwrap_err()
                .contains("HAR")
        );
        let filter = Filter {
            host: Some("nowhere".into()),
            prefix: None,
        };
        assert!(
            to_transcript(CHROMIUM, "error_code", &filter)
                .unwrap_err()
                .contains("no entry")
        );
    }
}
