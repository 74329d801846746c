//! Rebinding of raw recordings: the dialect's volatile locations are compared by type only,
//! what each recorded value became is remembered, and every later request is rewritten with
//! the live values (headers, cookies, query, form, JSON strings and numbers, path segments).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::dialects::{DialectSpec, Location, VolatileKind};

/// Recorded values shorter than this are rewritten only where they stand whole, never inside a
/// longer text, so that `1` does not turn every `1` into something else.
const MIN_EMBEDDED_LEN: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct Rebinder {
    pointers: Vec<String>,
    response_headers: Vec<String>,
    cookies: Vec<String>,
    /// `(code field, phone field)` of SMS codes in requests.
    sms_fields: Vec<(String, String)>,
    /// Recorded value (as text) → live value (as text).
    map: BTreeMap<String, String>,
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Rebinder {
    pub fn for_dialect(spec: &DialectSpec) -> Rebinder {
        let mut rebinder = Rebinder::default();
        for volatile in spec.volatile {
            match volatile.location {
                Location::JsonPointer(p) => rebinder.pointers.push(p.to_owned()),
                Location::ResponseHeader(h) => {
                    rebinder.response_headers.push(h.to_ascii_lowercase())
                }
                Location::Cookie(c) => rebinder.cookies.push(c.to_owned()),
                Location::Field(field) => {
                    if let VolatileKind::SmsCode { phone_field } = volatile.kind {
                        rebinder
                            .sms_fields
                            .push((field.to_owned(), phone_field.to_owned()));
                    }
                }
                Location::RequestHeader(_) | Location::PathSegment { .. } => {}
            }
        }
        rebinder
    }

    /// `(code field, phone field)` pairs whose codes are replaced by the live ones.
    pub fn sms_fields(&self) -> &[(String, String)] {
        &self.sms_fields
    }

    /// Rewrites every recorded value in a request to its live value.
    pub fn rewrite_request(&self, request: &mut super::transcript::Request) {
        request.path = self.rewrite_path(&request.path);
        for (_, value) in &mut request.headers.0 {
            *value = self.rewrite_text(value);
        }
        if let Some(json) = &request.json {
            request.json = Some(self.rewrite_value(json));
        }
        for (_, value) in request.form.iter_mut().flatten() {
            *value = self.rewrite_text(value);
        }
        if let Some(multipart) = &mut request.multipart {
            for (_, value) in &mut multipart.fields {
                *value = self.rewrite_text(value);
            }
        }
        if let Some(raw) = &request.raw {
            request.raw = Some(self.rewrite_text(raw));
        }
    }

    /// True when a body pointer is one of the dialect's volatile locations (`*` matches any one
    /// segment).
    pub fn is_volatile_pointer(&self, pointer: &str) -> bool {
        let segments: Vec<&str> = pointer.split('/').collect();
        self.pointers.iter().any(|pattern| {
            let want: Vec<&str> = pattern.split('/').collect();
            want.len() == segments.len()
                && want.iter().zip(&segments).all(|(w, s)| *w == "*" || w == s)
        })
    }

    pub fn is_volatile_header(&self, name: &str) -> bool {
        self.response_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
    }

    pub fn volatile_cookies(&self) -> &[String] {
        &self.cookies
    }

    /// Remembers that a recorded value became a live one.
    pub fn learn(&mut self, recorded: &Value, live: &Value) {
        if let (Some(recorded), Some(live)) = (text_of(recorded), text_of(live))
            && !recorded.is_empty()
            && recorded != live
        {
            self.map.insert(recorded, live);
        }
    }

    pub fn learn_text(&mut self, recorded: &str, live: &str) {
        self.learn(&Value::from(recorded), &Value::from(live));
    }

    pub fn live_for(&self, recorded: &str) -> Option<&str> {
        self.map.get(recorded).map(String::as_str)
    }

    /// A path whose segments and query values are replaced when they equal a recorded value,
    /// whatever their length (a legacy id `4` in `/api/user/4/edit`), then as any text.
    pub fn rewrite_path(&self, path: &str) -> String {
        let (path, query) = match path.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path, None),
        };
        let segments: Vec<String> = path
            .split('/')
            .map(|segment| {
                self.map
                    .get(segment)
                    .cloned()
                    .unwrap_or_else(|| self.rewrite_text(segment))
            })
            .collect();
        let mut out = segments.join("/");
        if let Some(query) = query {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, value)) => {
                        let live = self
                            .map
                            .get(value)
                            .cloned()
                            .unwrap_or_else(|| self.rewrite_text(value));
                        format!("{name}={live}")
                    }
                    None => pair.to_owned(),
                })
                .collect();
            out.push('?');
            out.push_str(&pairs.join("&"));
        }
        out
    }

    /// A value with every recorded value replaced by its live value, keeping JSON types.
    pub fn rewrite_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.rewrite_text(s)),
            Value::Number(n) => match self.map.get(&n.to_string()) {
                Some(live) => live
                    .parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| live.parse::<f64>().map(Value::from))
                    .unwrap_or_else(|_| Value::String(live.clone())),
                None => value.clone(),
            },
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.rewrite_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.rewrite_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A text with recorded values replaced: whole, or inside it for values long enough to be
    /// unambiguous (tokens, ids), longest first.
    pub fn rewrite_text(&self, text: &str) -> String {
        if let Some(live) = self.map.get(text) {
            return live.clone();
        }
        let mut out = text.to_owned();
        let mut recorded: Vec<&String> = self
            .map
            .keys()
            .filter(|k| k.len() >= MIN_EMBEDDED_LEN)
            .collect();
        recorded.sort_by_key(|k| std::cmp::Reverse(k.len()));
        for key in recorded {
            if out.contains(key.as_str()) {
                out = replace_whole_tokens(&out, key, &self.map[key]);
            }
        }
        out
    }
}

/// Replaces `from` where it is not part of a longer run of letters and digits, so the id
/// `100001` inside `1000012` stays.
fn replace_whole_tokens(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        out.push_str(&rest[..at]);
        if glued(before) || glued(after) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// The value of one cookie in a `Set-Cookie` or `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .map(str::trim)
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rewrites_keep_types_and_word_boundaries() {
        let mut r = Rebinder::default();
        r.learn(&json!("100003"), &json!("100000"));
        r.learn(&json!("recorded-token-aaaa"), &json!("live-token-bbbb"));
        r.learn(&json!(1), &json!(2));
        assert_eq!(
            r.rewrite_text("/api/user/100003/edit"),
            "/api/user/100000/edit"
        );
        assert_eq!(
            r.rewrite_text("/api/user/1000031"),
            "/api/user/1000031",
            "not inside a longer number"
        );
        assert_eq!(
            r.rewrite_text("Bearer recorded-token-aaaa"),
            "Bearer live-token-bbbb"
        );
        assert_eq!(r.rewrite_text("1"), "2", "short values only whole");
        assert_eq!(r.rewrite_text("a1b"), "a1b");
        assert_eq!(
            r.rewrite_value(&json!({"id": 100003, "s": "100003", "n": [1, "x"]})),
            json!({"id": 100000, "s": "100000", "n": [2, "x"]})
        );
    }

    #[test]
    fn short_ids_are_rewritten_as_whole_path_segments() {
        let mut r = Rebinder::default();
        r.learn(&json!("4"), &json!("100000"));
        assert_eq!(r.rewrite_path("/api/user/4/edit"), "/api/user/100000/edit");
        assert_eq!(r.rewrite_path("/api/user/44/edit"), "/api/user/44/edit");
        assert_eq!(
            r.rewrite_path("/user/batch?id=4&id=5"),
            "/user/batch?id=100000&id=5"
        );
    }

    #[test]
    fn volatile_pointers_allow_wildcards() {
        let r = Rebinder {
            pointers: vec!["/data/token_id".into(), "/result/*/id".into()],
            ..Rebinder::default()
        };
        assert!(r.is_volatile_pointer("/data/token_id"));
        assert!(r.is_volatile_pointer("/result/3/id"));
        assert!(!r.is_volatile_pointer("/result/3/name"));
        assert!(!r.is_volatile_pointer("/data"));
    }

    #[test]
    fn cookies() {
        assert_eq!(
            cookie_value("rong_im_auth=abc; Path=/; HttpOnly", "rong_im_auth"),
            Some("abc")
        );
        assert_eq!(cookie_value("a=1; b=2", "b"), Some("2"));
        assert_eq!(cookie_value("a=1", "b"), None);
    }
}
