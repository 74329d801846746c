//! Placeholders in transcripts: matchers (`{{any}}`, `{{int}}`, `{{re:…}}`, …), captures
//! (`{{name:type}}` binds, `{{name}}` refers), and request values (`{{sms:<phone>}}`,
//! `{{now_s}}`, `{{now_ms}}`). A string that is one placeholder matches any JSON type the
//! placeholder names; placeholders inside a longer string match text.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        .expect("static regex")
});
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{(.+?)\}\}").expect("static regex"));
static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*$").expect("static regex"));

/// The value kinds a matcher or a capture checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Any,
    String,
    Int,
    Number,
    Bool,
    Uuid,
    Digits,
    Regex(String),
}

/// One `{{…}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placeholder {
    Match(Kind),
    Absent,
    Capture { name: String, kind: Kind },
    Reference(String),
    Sms(String),
    NowSeconds,
    NowMillis,
}

fn kind(text: &str) -> Option<Kind> {
    Some(match text {
        "any" => Kind::Any,
        "string" => Kind::String,
        "int" => Kind::Int,
        "number" => Kind::Number,
        "bool" => Kind::Bool,
        "uuid" => Kind::Uuid,
        "digits" => Kind::Digits,
        _ => {
            return text
                .strip_prefix("re:")
                .map(|re| Kind::Regex(re.to_owned()));
        }
    })
}

impl Placeholder {
    pub fn parse(inner: &str) -> Result<Placeholder, String> {
        let inner = inner.trim();
        if inner == "absent" {
            return Ok(Placeholder::Absent);
        }
        if inner == "now_s" {
            return Ok(Placeholder::NowSeconds);
        }
        if inner == "now_ms" {
            return Ok(Placeholder::NowMillis);
        }
        if let Some(phone) = inner.strip_prefix("sms:") {
            return Ok(Placeholder::Sms(phone.trim().to_owned()));
        }
        if let Some(kind) = kind(inner) {
            if let Kind::Regex(re) = &kind {
                Regex::new(re).map_err(|e| format!("{{{{{inner}}}}}: bad regex: {e}"))?;
            }
            return Ok(Placeholder::Match(kind));
        }
        if let Some((name, kind_text)) = inner.split_once(':')
            && NAME.is_match(name)
        {
            let kind = kind(kind_text)
                .ok_or_else(|| format!("{{{{{inner}}}}}: unknown type `{kind_text}`"))?;
            return Ok(Placeholder::Capture {
                name: name.to_owned(),
                kind,
            });
        }
        if NAME.is_match(inner) {
            return Ok(Placeholder::Reference(inner.to_owned()));
        }
        Err(format!("{{{{{inner}}}}} is not a placeholder"))
    }

    /// The whole string, when it is exactly one placeholder.
    pub fn whole(text: &str) -> Option<Result<Placeholder, String>> {
        let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
        if inner.contains("{{") || inner.contains("}}") {
            return None;
        }
        Some(Placeholder::parse(inner))
    }
}

pub fn has_placeholder(text: &str) -> bool {
    PLACEHOLDER.is_match(text)
}

/// Checks a JSON value against a kind.
pub fn kind_matches(kind: &Kind, value: &Value) -> bool {
    match kind {
        Kind::Any => true,
        Kind::String => value.is_string(),
        Kind::Int => value.is_i64() || value.is_u64(),
        Kind::Number => value.is_number(),
        Kind::Bool => value.is_boolean(),
        Kind::Uuid => value.as_str().is_some_and(|s| UUID.is_match(s)),
        Kind::Digits => value
            .as_str()
            .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())),
        Kind::Regex(re) => value
            .as_str()
            .is_some_and(|s| Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(s))),
    }
}

fn kind_regex(kind: &Kind) -> String {
    match kind {
        Kind::Any | Kind::String => ".*?".to_owned(),
        Kind::Int => "-?[0-9]+".to_owned(),
        Kind::Number => "-?[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?".to_owned(),
        Kind::Bool => "true|false".to_owned(),
        Kind::Uuid => {
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}".to_owned()
        }
        Kind::Digits => "[0-9]+".to_owned(),
        Kind::Regex(re) => re.clone(),
    }
}

/// Values bound by captures during one transcript.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings(pub BTreeMap<String, Value>);

impl Bindings {
    fn text_of(value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// Matches `actual` against an expected text with placeholders inside it; binds captures
    /// on success. `Err` says why it does not match.
    pub fn match_text(&mut self, expected: &str, actual: &str) -> Result<(), String> {
        let mut pattern = String::from("^");
        let mut captures = Vec::new();
        let mut last = 0;
        for found in PLACEHOLDER.captures_iter(expected) {
            let whole = found.get(0).expect("match");
            pattern.push_str(&regex::escape(&expected[last..whole.start()]));
            last = whole.end();
            match Placeholder::parse(&found[1])? {
                Placeholder::Match(kind) => pattern.push_str(&format!("(?:{})", kind_regex(&kind))),
                Placeholder::Capture { name, kind } => match self.0.get(&name) {
                    Some(bound) => pattern.push_str(&regex::escape(&Self::text_of(bound))),
                    None => {
                        pattern.push_str(&format!("({})", kind_regex(&kind)));
                        captures.push(name);
                    }
                },
                Placeholder::Reference(name) => {
                    let bound = self
                        .0
                        .get(&name)
                        .ok_or_else(|| format!("{{{{{name}}}}} is not bound yet"))?;
                    pattern.push_str(&regex::escape(&Self::text_of(bound)));
                }
                Placeholder::NowSeconds | Placeholder::NowMillis => pattern.push_str("[0-9]+"),
                Placeholder::Absent | Placeholder::Sms(_) => {
                    return Err(format!(
                        "{} cannot stand inside a longer text",
                        whole.as_str()
                    ));
                }
            }
        }
        pattern.push_str(&regex::escape(&expected[last..]));
        pattern.push('$');
        let regex = Regex::new(&pattern).map_err(|e| format!("bad pattern: {e}"))?;
        let found = regex
            .captures(actual)
            .ok_or_else(|| "does not match".to_owned())?;
        for (index, name) in captures.into_iter().enumerate() {
            let text = found.get(index + 1).map_or("", |m| m.as_str());
            self.0.insert(name, Value::String(text.to_owned()));
        }
        Ok(())
    }

    /// Substitutes placeholders in a request text (always as text).
    pub fn fill_text(&self, text: &str, env: &dyn RequestValues) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in PLACEHOLDER.captures_iter(text) {
            let whole = found.get(0).expect("match");
            out.push_str(&text[last..whole.start()]);
            last = whole.end();
            let value = self.request_value(&Placeholder::parse(&found[1])?, env)?;
            out.push_str(&Self::text_of(&value));
        }
        out.push_str(&text[last..]);
        Ok(out)
    }

    /// Substitutes placeholders in a request JSON value; a string that is one placeholder
    /// takes the bound value's own type.
    pub fn fill_json(&self, value: &Value, env: &dyn RequestValues) -> Result<Value, String> {
        Ok(match value {
            Value::String(text) => match Placeholder::whole(text) {
                Some(placeholder) => self.request_value(&placeholder?, env)?,
                None if has_placeholder(text) => Value::String(self.fill_text(text, env)?),
                None => value.clone(),
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.fill_json(v, env))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.fill_json(v, env)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    fn request_value(
        &self,
        placeholder: &Placeholder,
        env: &dyn RequestValues,
    ) -> Result<Value, String> {
        match placeholder {
            Placeholder::Reference(name) | Placeholder::Capture { name, .. } => self
                .0
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{{{{{name}}}}} is not bound yet")),
            Placeholder::Sms(phone) => env
                .sms_code(phone)
                .map(Value::String)
                .ok_or_else(|| format!("no SMS code was sent to {phone}")),
            Placeholder::NowSeconds => Ok(Value::from(env.now_ms() / 1000)),
            Placeholder::NowMillis => Ok(Value::from(env.now_ms())),
            Placeholder::Match(_) | Placeholder::Absent => {
                Err("matchers belong in expected responses, not in requests".to_owned())
            }
        }
    }
}

/// What a request's placeholders are filled from.
pub trait RequestValues {
    /// The newest code sent to a phone.
    fn sms_code(&self, phone: &str) -> Option<String>;
    fn now_ms(&self) -> i64;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Env;
    impl RequestValues for Env {
        fn sms_code(&self, phone: &str) -> Option<String> {
            (phone == "13912345678").then(|| "123456".to_owned())
        }
        fn now_ms(&self) -> i64 {
            1_700_000_000_123
        }
    }

    #[test]
    fn parses_every_placeholder() {
        assert_eq!(Placeholder::parse("any"), Ok(Placeholder::Match(Kind::Any)));
        assert_eq!(
            Placeholder::parse("re:^a+$"),
            Ok(Placeholder::Match(Kind::Regex("^a+$".into())))
        );
        assert_eq!(Placeholder::parse("absent"), Ok(Placeholder::Absent));
        assert_eq!(
            Placeholder::parse("uid:string"),
            Ok(Placeholder::Capture {
                name: "uid".into(),
                kind: Kind::String
            })
        );
        assert_eq!(
            Placeholder::parse("uid"),
            Ok(Placeholder::Reference("uid".into()))
        );
        assert_eq!(
            Placeholder::parse("sms:13912345678"),
            Ok(Placeholder::Sms("13912345678".into()))
        );
        assert!(Placeholder::parse("uid:colour").is_err());
        assert!(Placeholder::parse("re:(").is_err());
        assert!(Placeholder::parse("two words").is_err());
        assert!(Placeholder::whole("{{int}}").is_some());
        assert!(Placeholder::whole("/u/{{int}}").is_none());
    }

    #[test]
    fn kinds_check_json_types_exactly() {
        assert!(kind_matches(&Kind::Int, &Value::from(200)));
        assert!(
            !kind_matches(&Kind::Int, &Value::from("200")),
            "\"200\" is not 200"
        );
        assert!(!kind_matches(&Kind::Int, &Value::from(1.5)));
        assert!(kind_matches(&Kind::Number, &Value::from(1.5)));
        assert!(kind_matches(&Kind::Digits, &Value::from("0042")));
        assert!(!kind_matches(&Kind::Digits, &Value::from(42)));
        assert!(kind_matches(
            &Kind::Uuid,
            &Value::from("00320d40-89f8-4b28-d18e-fe12abefcf47")
        ));
        assert!(!kind_matches(&Kind::Uuid, &Value::from("00320d40")));
        assert!(kind_matches(
            &Kind::Regex("[a-z]+".into()),
            &Value::from("abc")
        ));
        assert!(
            !kind_matches(&Kind::Regex("[a-z]+".into()), &Value::from("abc1")),
            "whole match"
        );
        assert!(kind_matches(&Kind::Bool, &Value::from(false)));
    }

    #[test]
    fn text_patterns_capture_and_refer() {
        let mut b = Bindings::default();
        b.match_text(
            "请求失败，{{who:string}} is already taken.",
            "请求失败，zhang is already taken.",
        )
        .unwrap();
        assert_eq!(b.0["who"], Value::from("zhang"));
        b.match_text("{{who}} again", "zhang again").unwrap();
        assert!(b.match_text("{{who}} again", "li again").is_err());
        assert!(
            b.match_text("a.b", "axb").is_err(),
            "literal parts are literal"
        );
        b.match_text("/api/user/{{id:digits}}/edit", "/api/user/100000/edit")
            .unwrap();
        assert_eq!(b.0["id"], Value::from("100000"));
        assert!(b.match_text("{{nobody}}", "x").is_err());
    }

    #[test]
    fn requests_are_filled_with_typed_values() {
        let mut b = Bindings::default();
        b.0.insert("id".into(), Value::from(100000));
        b.0.insert("token".into(), Value::from("t-1"));
        let filled = b
            .fill_json(&serde_json::json!({"id": "{{id}}", "path": "/u/{{id}}", "code": "{{sms:13912345678}}", "t": "{{now_s}}"}), &Env)
            .unwrap();
        assert_eq!(
            filled,
            serde_json::json!({"id": 100000, "path": "/u/100000", "code": "123456", "t": 1_700_000_000})
        );
        assert_eq!(b.fill_text("Bearer {{token}}", &Env).unwrap(), "Bearer t-1");
        assert!(
            b.fill_text("{{sms:13800000000}}", &Env)
                .unwrap_err()
                .contains("13800000000")
        );
        assert!(b.fill_text("{{missing}}", &Env).is_err());
        assert!(b.fill_json(&Value::from("{{int}}"), &Env).is_err());
    }
}
