//! Comparison of a live answer with the expected one: JSON compared semantically (key order
//! ignored, `"1"` ≠ `1`, missing ≠ null), listed headers by name without case, text exactly.
//! Each difference is a JSON pointer with the expected and the actual value.

use serde_json::Value;

use super::rebind::{Rebinder, cookie_value};
use super::template::{Bindings, Placeholder, has_placeholder, kind_matches};

/// How far `{{now_s}}` / `{{now_ms}}` may be from the replayer's clock.
const NOW_TOLERANCE_MS: i64 = 300_000;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// `/status`, `/headers/content-type`, or `/body` followed by the JSON pointer.
    pub pointer: String,
    pub expected: String,
    pub actual: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, actual {}",
            self.pointer, self.expected, self.actual
        )
    }
}

pub const ABSENT: &str = "(absent)";

/// Escapes one JSON pointer segment (RFC 6901).
pub fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| ABSENT.to_owned(), Value::to_string)
}

/// One comparison: its captures, its rebinding, its differences.
pub struct Comparison<'a> {
    pub bindings: &'a mut Bindings,
    pub rebinder: Option<&'a mut Rebinder>,
    pub now_ms: i64,
    pub differences: Vec<Difference>,
}

impl Comparison<'_> {
    fn differ(&mut self, pointer: &str, expected: String, actual: String) {
        self.differences.push(Difference {
            pointer: pointer.to_owned(),
            expected,
            actual,
        });
    }

    /// Compares a JSON body; `prefix` is where it sits (`/body`), `pointer` is within the body.
    pub fn json(&mut self, prefix: &str, pointer: &str, expected: &Value, actual: Option<&Value>) {
        let at = format!("{prefix}{pointer}");
        if let Value::String(text) = expected {
            if let Some(placeholder) = Placeholder::whole(text) {
                return self.placeholder(&at, text, placeholder, actual);
            }
            if has_placeholder(text) {
                return match actual {
                    Some(Value::String(live)) => {
                        if let Err(why) = self.bindings.match_text(text, live) {
                            self.differ(&at, format!("{} ({why})", expected), show(actual));
                        }
                    }
                    _ => self.differ(&at, expected.to_string(), show(actual)),
                };
            }
        }
        if let Some(rebinder) = self.rebinder.as_deref_mut()
            && rebinder.is_volatile_pointer(pointer)
            && !matches!(expected, Value::Object(_) | Value::Array(_))
        {
            // A volatile value: same type is enough; remember what it became.
            match actual {
                Some(live) if same_type(expected, live) => rebinder.learn(expected, live),
                _ => self.differ(
                    &at,
                    format!("a {} (volatile)", type_name(expected)),
                    show(actual),
                ),
            }
            return;
        }
        let Some(actual) = actual else {
            return self.differ(&at, expected.to_string(), ABSENT.to_owned());
        };
        match (expected, actual) {
            (Value::Object(want), Value::Object(got)) => {
                for (key, value) in want {
                    let child = format!("{pointer}/{}", pointer_segment(key));
                    self.json(prefix, &child, value, got.get(key));
                }
                for (key, value) in got {
                    if !want.contains_key(key) {
                        let child = format!("{prefix}{pointer}/{}", pointer_segment(key));
                        self.differ(&child, ABSENT.to_owned(), value.to_string());
                    }
                }
            }
            (Value::Array(want), Value::Array(got)) if want.len() == got.len() => {
                for (index, (w, g)) in want.iter().zip(got).enumerate() {
                    self.json(prefix, &format!("{pointer}/{index}"), w, Some(g));
                }
            }
            _ => {
                let expected = match self.rebinder.as_deref() {
                    Some(rebinder) => rebinder.rewrite_value(expected),
                    None => expected.clone(),
                };
                if &expected != actual {
                    self.differ(&at, expected.to_string(), actual.to_string());
                }
            }
        }
    }

    fn placeholder(
        &mut self,
        at: &str,
        text: &str,
        placeholder: Result<Placeholder, String>,
        actual: Option<&Value>,
    ) {
        let placeholder = match placeholder {
            Ok(p) => p,
            Err(why) => return self.differ(at, format!("{text} ({why})"), show(actual)),
        };
        let ok = match (&placeholder, actual) {
            (Placeholder::Absent, None) => true,
            (Placeholder::Absent, Some(_)) | (_, None) => false,
            (Placeholder::Match(kind), Some(v)) => kind_matches(kind, v),
            (Placeholder::Capture { name, kind }, Some(v)) => match self.bindings.0.get(name) {
                Some(bound) => bound == v,
                None if kind_matches(kind, v) => {
                    self.bindings.0.insert(name.clone(), v.clone());
                    true
                }
                None => false,
            },
            (Placeholder::Reference(name), Some(v)) => self.bindings.0.get(name) == Some(v),
            (Placeholder::NowSeconds, Some(v)) => v
                .as_i64()
                .is_some_and(|s| (s * 1000 - self.now_ms).abs() <= NOW_TOLERANCE_MS),
            (Placeholder::NowMillis, Some(v)) => v
                .as_i64()
                .is_some_and(|ms| (ms - self.now_ms).abs() <= NOW_TOLERANCE_MS),
            (Placeholder::Sms(_), Some(_)) => false,
        };
        if !ok {
            let expected = match &placeholder {
                Placeholder::Reference(name) | Placeholder::Capture { name, .. }
                    if self.bindings.0.contains_key(name) =>
                {
                    format!("{text} = {}", self.bindings.0[name])
                }
                _ => text.to_owned(),
            };
            self.differ(at, expected, show(actual));
        }
    }

    /// Compares a text body or a header value (placeholders allowed).
    pub fn text(&mut self, at: &str, expected: &str, actual: Option<&str>) {
        if expected.trim() == "{{absent}}" {
            if let Some(live) = actual {
                self.differ(at, ABSENT.to_owned(), Value::from(live).to_string());
            }
            return;
        }
        let Some(live) = actual else {
            return self.differ(at, Value::from(expected).to_string(), ABSENT.to_owned());
        };
        let expected = match self.rebinder.as_deref() {
            Some(rebinder) => rebinder.rewrite_text(expected),
            None => expected.to_owned(),
        };
        let result = if has_placeholder(&expected) {
            self.bindings.match_text(&expected, live)
        } else if expected == live {
            Ok(())
        } else {
            Err(String::new())
        };
        if let Err(why) = result {
            let shown = if why.is_empty() || why == "does not match" {
                Value::from(expected.as_str()).to_string()
            } else {
                format!("{} ({why})", Value::from(expected.as_str()))
            };
            self.differ(at, shown, Value::from(live).to_string());
        }
    }

    /// Compares one header the transcript lists, against every value the answer has for it.
    /// Under rebinding, the dialect's volatile headers and session cookies only need to be
    /// there, and what they became is remembered.
    pub fn header(&mut self, name: &str, expected: &str, live: &[&str]) {
        let at = format!("/headers/{}", name.to_ascii_lowercase());
        let Some(rebinder) = self.rebinder.as_deref_mut() else {
            return self.text(&at, expected, live.first().copied());
        };
        let mut missing: Vec<(String, &str)> = Vec::new();
        if rebinder.is_volatile_header(name) {
            match live.first() {
                Some(value) => rebinder.learn_text(expected, value),
                None => missing.push((at, "a value (volatile)")),
            }
        } else if name.eq_ignore_ascii_case("set-cookie") && !rebinder.volatile_cookies().is_empty()
        {
            for cookie in rebinder.volatile_cookies().to_vec() {
                let Some(recorded) = cookie_value(expected, &cookie) else {
                    continue;
                };
                match live.iter().find_map(|value| cookie_value(value, &cookie)) {
                    Some(value) => rebinder.learn_text(recorded, value),
                    None => missing.push((format!("{at}/{cookie}"), "a cookie (volatile)")),
                }
            }
        } else {
            return self.text(&at, expected, live.first().copied());
        }
        for (pointer, what) in missing {
            self.differ(&pointer, what.to_owned(), ABSENT.to_owned());
        }
    }

    pub fn status(&mut self, expected: u16, actual: u16) {
        if expected != actual {
            self.differ("/status", expected.to_string(), actual.to_string());
        }
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn compare(expected: Value, actual: Value) -> Vec<String> {
        let mut bindings = Bindings::default();
        let mut c = Comparison {
            bindings: &mut bindings,
            rebinder: None,
            now_ms: 1_700_000_000_000,
            differences: Vec::new(),
        };
        c.json("/body", "", &expected, Some(&actual));
        c.differences.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn json_is_compared_semantically_and_strictly() {
        assert!(
            compare(
                json!({"a": 1, "b": [1, "2"]}),
                json!({"b": [1, "2"], "a": 1})
            )
            .is_empty(),
            "key order ignored"
        );
        assert_eq!(
            compare(json!({"code": "200"}), json!({"code": 200})),
            ["/body/code: expected \"200\", actual 200"]
        );
        assert_eq!(
            compare(json!({"data": null}), json!({})),
            ["/body/data: expected null, actual (absent)"]
        );
        assert_eq!(
            compare(json!({}), json!({"data": null})),
            ["/body/data: expected (absent), actual null"]
        );
        assert_eq!(
            compare(json!({"a/b": {"c~d": 1}}), json!({"a/b": {"c~d": 2}})),
            ["/body/a~1b/c~0d: expected 1, actual 2"]
        );
        assert_eq!(
            compare(json!([1, 2]), json!([1])),
            ["/body: expected [1,2], actual [1]"]
        );
        assert_eq!(
            compare(json!({"l": [{"x": 1}]}), json!({"l": [{"x": 3}]})),
            ["/body/l/0/x: expected 1, actual 3"]
        );
    }

    #[test]
    fn matchers_and_captures() {
        assert!(
            compare(
                json!({"id": "{{int}}", "t": "{{uuid}}", "n": "{{absent}}"}),
                json!({"id": 5, "t": "00320d40-89f8-4b28-d18e-fe12abefcf47"})
            )
            .is_empty()
        );
        assert_eq!(
            compare(json!({"id": "{{int}}"}), json!({"id": "5"})),
            ["/body/id: expected {{int}}, actual \"5\""]
        );
        assert_eq!(
            compare(json!({"n": "{{absent}}"}), json!({"n": 1})),
            ["/body/n: expected {{absent}}, actual 1"]
        );
        assert_eq!(
            compare(
                json!({"a": "{{x:int}}", "b": "{{x}}"}),
                json!({"a": 1, "b": 2})
            ),
            ["/body/b: expected {{x}} = 1, actual 2"]
        );
        assert!(
            compare(
                json!({"a": "{{x:int}}", "b": "{{x}}"}),
                json!({"a": 1, "b": 1})
            )
            .is_empty()
        );
        assert!(
            compare(
                json!({"msg": "请求失败，{{any}} is already taken."}),
                json!({"msg": "请求失败，u is already taken."})
            )
            .is_empty()
        );
        assert!(
            compare(
                json!({"t": "{{now_ms}}"}),
                json!({"t": 1_700_000_100_000i64})
            )
            .is_empty()
        );
        assert_eq!(compare(json!({"t": "{{now_s}}"}), json!({"t": 1})).len(), 1);
    }

    #[test]
    fn volatile_headers_and_session_cookies_are_rebound() {
        let spec = crate::dialects::DialectSpec {
            volatile: &[
                crate::dialects::Volatile {
                    location: crate::dialects::Location::ResponseHeader("accessToken"),
                    kind: crate::dialects::VolatileKind::Session,
                },
                crate::dialects::Volatile {
                    location: crate::dialects::Location::Cookie("rong_im_auth"),
                    kind: crate::dialects::VolatileKind::Session,
                },
            ],
            ..*crate::dialects::find("error_code").unwrap()
        };
        let mut rebinder = Rebinder::for_dialect(&spec);
        let mut bindings = Bindings::default();
        let mut c = Comparison {
            bindings: &mut bindings,
            rebinder: Some(&mut rebinder),
            now_ms: 0,
            differences: Vec::new(),
        };
        c.header("accessToken", "recorded-token", &["live-token"]);
        c.header(
            "Set-Cookie",
            "rong_im_auth=recorded-cookie; Path=/",
            &["other=1", "rong_im_auth=live-cookie; Path=/; HttpOnly"],
        );
        c.header("Content-Type", "application/json", &["application/json"]);
        c.header("accessToken", "x", &[]);
        let found: Vec<String> = c.differences.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            ["/headers/accesstoken: expected a value (volatile), actual (absent)"]
        );
        assert_eq!(rebinder.live_for("recorded-token"), Some("live-token"));
        assert_eq!(rebinder.live_for("recorded-cookie"), Some("live-cookie"));
    }

    #[test]
    fn text_and_headers() {
        let mut bindings = Bindings::default();
        let mut c = Comparison {
            bindings: &mut bindings,
            rebinder: None,
            now_ms: 0,
            differences: Vec::new(),
        };
        c.text(
            "/headers/content-type",
            "application/json;charset=utf-8;",
            Some("application/json;charset=utf-8;"),
        );
        c.text("/headers/set-cookie", "{{absent}}", None);
        c.text("/headers/x", "a", None);
        c.text("/body", "Not loged in.", Some("Not logged in."));
        c.status(200, 404);
        let found: Vec<String> = c.differences.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "/headers/x: expected \"a\", actual (absent)",
                "/body: expected \"Not loged in.\", actual \"Not logged in.\"",
                "/status: expected 200, actual 404"
            ]
        );
    }
}
