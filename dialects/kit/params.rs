//! Request parameters, one typed way for every source the five documents use: a strict JSON
//! body, BlueU's "JSON whatever the Content-Type, else a form", forms, the query string, query
//! and body merged (Struts, PHP `$_REQUEST`), repeated keys and nested objects. Each read
//! answers a [`ParamError`] that the dialect renders in its own words.

use serde_json::{Map, Value};

use super::failure::{FrameworkError, RequestPart};

/// Which value a single-valued read takes when a name was sent more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pick {
    /// Servlet `getParameter` and Struts: the first value (query before body).
    First,
    /// PHP and JSON objects: the last value wins.
    #[default]
    Last,
}

/// Which source wins when query and body both carry a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    /// Struts: query parameters come first in the merged map and a `String` property takes the
    /// first value, so the query string wins.
    Query,
    /// PHP `$_REQUEST` with the default `request_order = "GP"`: POST overwrites GET.
    Body,
}

/// Why a parameter could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamErrorKind {
    /// Not sent at all.
    Missing,
    /// Sent as JSON `null`.
    Null,
    /// Sent empty (or blank, for [`Params::non_blank`]).
    Empty,
    /// An object or array where a single value was expected (or a scalar where an object was).
    NotScalar,
    /// A value of the wrong form (not a number where one is needed).
    Malformed,
}

/// A parameter that could not be read, named as the client sent it (`tel.number` when nested).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub name: String,
    pub kind: ParamErrorKind,
}

/// Request parameters by name, in the order the client sent them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    entries: Vec<(String, Value)>,
    pick: Pick,
    /// `tel.` for the fields of a nested object, so errors name the whole path.
    prefix: String,
}

impl Params {
    fn from_entries(entries: Vec<(String, Value)>, pick: Pick) -> Params {
        Params {
            entries,
            pick,
            prefix: String::new(),
        }
    }

    fn from_object(map: Map<String, Value>, prefix: String) -> Params {
        Params {
            entries: map.into_iter().collect(),
            pick: Pick::Last,
            prefix,
        }
    }

    /// The body as strict JSON (`rest`, `code_result`): an empty body has no parameters; a
    /// body that is not JSON, or JSON that is not an object, is malformed.
    pub fn json(body: &[u8]) -> Result<Params, FrameworkError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Params::from_object(map, String::new())),
            Ok(_) => Err(FrameworkError::Malformed {
                part: RequestPart::Json,
                detail: "the body is not a JSON object".to_owned(),
            }),
            Err(err) => Err(FrameworkError::Malformed {
                part: RequestPart::Json,
                detail: err.to_string(),
            }),
        }
    }

    /// BlueU's reading (`error_code` only): the body as JSON when it is a JSON object, whatever
    /// the Content-Type says; otherwise as form fields when it is text shaped like `a=1&b=2`.
    /// Anything else gives no parameters, so every required field is "not set".
    pub fn json_else_form(body: &[u8]) -> Params {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Params::from_object(map, String::new()),
            Ok(_) => Params::default(),
            Err(_) => match std::str::from_utf8(body) {
                Ok(text) if text.contains('=') => Params::form(body),
                _ => Params::default(),
            },
        }
    }

    /// [`Params::json_else_form`] for an action that requires no field, where a body that
    /// cannot be read would otherwise pass for an empty one and "succeed" changing nothing: a
    /// body that is neither empty, a JSON object nor a form is refused as malformed.
    pub fn json_object_or_form(body: &[u8]) -> Result<Params, FrameworkError> {
        let unreadable = |detail: &str| FrameworkError::Malformed {
            part: RequestPart::Body,
            detail: detail.to_owned(),
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params::default());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Params::from_object(map, String::new())),
            Ok(_) => Err(unreadable("a JSON object was expected")),
            Err(_) => match std::str::from_utf8(body) {
                Ok(text) if text.contains('=') => Ok(Params::form(body)),
                _ => Err(unreadable("neither a JSON object nor a form")),
            },
        }
    }

    /// The body read by its Content-Type, for APIs that take JSON and forms alike (`code_sec`,
    /// PHP-style): a JSON type is strict JSON (malformed bodies are reported), anything else is
    /// a form. Multipart bodies are read with [`super::multipart::read_multipart`] instead.
    pub fn by_content_type(
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Params, FrameworkError> {
        let essence = content_type
            .and_then(|value| value.split(';').next())
            .map(|essence| essence.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if essence == "application/json" || essence.ends_with("+json") {
            Params::json(body)
        } else if essence.starts_with("multipart/") {
            Err(FrameworkError::Malformed {
                part: RequestPart::Multipart,
                detail: "a multipart body where fields were expected".to_owned(),
            })
        } else {
            Ok(Params::form(body))
        }
    }

    /// Form-urlencoded fields (`a=1&b=2`); a repeated name keeps every value, and a
    /// single-valued read takes the last one (PHP). Undecodable input gives no parameters.
    pub fn form(body: &[u8]) -> Params {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        Params::from_entries(
            pairs
                .into_iter()
                .filter(|(key, _)| !key.is_empty())
                .map(|(key, value)| (key, Value::String(value)))
                .collect(),
            Pick::Last,
        )
    }

    /// The query string, with repeated names kept (`batch?id=a&id=b`).
    pub fn query(query_string: &str) -> Params {
        Params::form(query_string.as_bytes())
    }

    /// Query and body in one map, as Struts and PHP's `$_REQUEST` see them.
    pub fn merged(query: Params, body: Params, winner: Winner) -> Params {
        let mut entries = query.entries;
        entries.extend(body.entries);
        let pick = match winner {
            Winner::Query => Pick::First,
            Winner::Body => Pick::Last,
        };
        Params::from_entries(entries, pick)
    }

    /// Builds parameters from pairs (multipart text fields).
    pub fn from_pairs(pairs: Vec<(String, String)>, pick: Pick) -> Params {
        Params::from_entries(
            pairs
                .into_iter()
                .map(|(key, value)| (key, Value::String(value)))
                .collect(),
            pick,
        )
    }

    fn error(&self, name: &str, kind: ParamErrorKind) -> ParamError {
        ParamError {
            name: format!("{}{name}", self.prefix),
            kind,
        }
    }

    /// The value a single-valued read sees.
    pub fn value(&self, name: &str) -> Option<&Value> {
        let mut matching = self.entries.iter().filter(|(key, _)| key == name);
        match self.pick {
            Pick::First => matching.next(),
            Pick::Last => matching.next_back(),
        }
        .map(|(_, value)| value)
    }

    /// A parameter that must be sent, as text: numbers as written, booleans as `true`/`false`.
    /// `""` is a value here; see [`Params::non_empty`].
    pub fn required(&self, name: &str) -> Result<String, ParamError> {
        match self.value(name) {
            None => Err(self.error(name, ParamErrorKind::Missing)),
            Some(Value::Null) => Err(self.error(name, ParamErrorKind::Null)),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(Value::Number(number)) => Ok(number.to_string()),
            Some(Value::Bool(flag)) => Ok(flag.to_string()),
            Some(Value::Array(_) | Value::Object(_)) => {
                Err(self.error(name, ParamErrorKind::NotScalar))
            }
        }
    }

    /// A parameter that may be left out or sent as `null`.
    pub fn optional(&self, name: &str) -> Result<Option<String>, ParamError> {
        match self.required(name) {
            Ok(text) => Ok(Some(text)),
            Err(ParamError {
                kind: ParamErrorKind::Missing | ParamErrorKind::Null,
                ..
            }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// A parameter that must be sent and must not be `""`.
    pub fn non_empty(&self, name: &str) -> Result<String, ParamError> {
        let text = self.required(name)?;
        if text.is_empty() {
            return Err(self.error(name, ParamErrorKind::Empty));
        }
        Ok(text)
    }

    /// A parameter that must hold more than white space.
    pub fn non_blank(&self, name: &str) -> Result<String, ParamError> {
        let text = self.required(name)?;
        if text.trim().is_empty() {
            return Err(self.error(name, ParamErrorKind::Empty));
        }
        Ok(text)
    }

    /// A required parameter parsed as `T` (a number sent as a JSON number or as text).
    pub fn parsed<T: std::str::FromStr>(&self, name: &str) -> Result<T, ParamError> {
        self.required(name)?
            .trim()
            .parse()
            .map_err(|_| self.error(name, ParamErrorKind::Malformed))
    }

    /// Every value sent under a repeated name, in order (`id=a&id=b`, or a JSON array of
    /// scalars); objects and nulls are left out.
    pub fn all(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (_, value) in self.entries.iter().filter(|(key, _)| key == name) {
            match value {
                Value::Array(items) => out.extend(items.iter().filter_map(scalar_text)),
                other => out.extend(scalar_text(other)),
            }
        }
        out
    }

    /// A nested JSON object (`tel{dialCode, number}`); errors inside it name `tel.<field>`.
    pub fn object(&self, name: &str) -> Result<Params, ParamError> {
        match self.value(name) {
            None => Err(self.error(name, ParamErrorKind::Missing)),
            Some(Value::Null) => Err(self.error(name, ParamErrorKind::Null)),
            Some(Value::Object(map)) => Ok(Params::from_object(
                map.clone(),
                format!("{}{name}.", self.prefix),
            )),
            Some(_) => Err(self.error(name, ParamErrorKind::NotScalar)),
        }
    }

    /// A parameter that must hold more than white space, trimmed (legacy samples carry stray
    /// spaces).
    pub fn trimmed(&self, name: &str) -> Result<String, ParamError> {
        self.non_blank(name).map(|value| value.trim().to_owned())
    }

    /// A parameter that may be left out, trimmed; blank counts as left out.
    pub fn trimmed_optional(&self, name: &str) -> Result<Option<String>, ParamError> {
        Ok(self
            .optional(name)?
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty()))
    }

    /// The same parameters with `name` holding `value` instead (a dialect's preprocessing, such
    /// as ids decoded from their wire form); a name not sent is added.
    pub fn with_value(mut self, name: &str, value: Value) -> Params {
        let mut value = Some(value);
        self.entries.retain_mut(|(key, slot)| {
            if key != name {
                return true;
            }
            match value.take() {
                Some(new) => {
                    *slot = new;
                    true
                }
                None => false,
            }
        });
        if let Some(value) = value {
            self.entries.push((name.to_owned(), value));
        }
        self
    }

    /// The distinct names sent, in the order they first appeared.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let mut seen = std::collections::HashSet::new();
        self.entries
            .iter()
            .map(|(key, _)| key.as_str())
            .filter(move |key| seen.insert(*key))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParamErrorKind::*;

    fn kind(result: Result<impl std::fmt::Debug, ParamError>) -> ParamErrorKind {
        result.expect_err("an error").kind
    }

    #[test]
    fn scalars_are_text_and_every_failure_has_a_kind() {
        let p =
            Params::json(br#"{"username":"a","n":12,"b":true,"z":null,"o":{},"e":""}"#).unwrap();
        assert_eq!(p.required("username").unwrap(), "a");
        assert_eq!(p.required("n").unwrap(), "12");
        assert_eq!(p.required("b").unwrap(), "true");
        assert_eq!(kind(p.required("z")), Null);
        assert_eq!(kind(p.required("o")), NotScalar);
        assert_eq!(kind(p.required("nope")), Missing);
        assert_eq!(p.optional("z").unwrap(), None);
        assert_eq!(p.optional("nope").unwrap(), None);
        assert_eq!(kind(p.optional("o")), NotScalar);
        assert_eq!(p.required("e").unwrap(), "");
        assert_eq!(kind(p.non_empty("e")), Empty);
        assert_eq!(p.parsed::<u32>("n").unwrap(), 12);
        assert_eq!(kind(p.parsed::<u32>("username")), Malformed);
    }

    #[test]
    fn blank_is_empty_only_for_non_blank() {
        let p = Params::form(b"name=%20%20");
        assert_eq!(p.non_empty("name").unwrap(), "  ");
        assert_eq!(kind(p.non_blank("name")), Empty);
    }

    #[test]
    fn strict_json_reports_malformed_bodies() {
        assert!(Params::json(b"").unwrap().is_empty());
        assert!(Params::json(b"  \n").unwrap().is_empty());
        for bad in [&b"{"[..], b"[1,2]", b"\"text\"", b"a=1", b"\xff"] {
            assert!(
                matches!(
                    Params::json(bad),
                    Err(FrameworkError::Malformed {
                        part: RequestPart::Json,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn json_whatever_the_content_type_then_form() {
        let p = Params::json_else_form(br#"{"username":"a"}"#);
        assert_eq!(p.required("username").unwrap(), "a");
        let f = Params::json_else_form(b"username=%E5%BC%A0&password=x");
        assert_eq!(f.required("username").unwrap(), "张");
        assert!(Params::json_else_form(b"[1,2]").is_empty());
        assert!(Params::json_else_form(b"\xff\xfe=1").is_empty());
        assert!(Params::json_else_form(b"not json").is_empty());
        assert!(Params::json_else_form(b"").is_empty());
    }

    #[test]
    fn bodies_are_read_by_their_content_type() {
        let json = Params::by_content_type(
            Some("application/json; charset=utf-8"),
            br#"{"phone":"13912345678"}"#,
        )
        .unwrap();
        assert_eq!(json.required("phone").unwrap(), "13912345678");
        assert!(matches!(
            Params::by_content_type(Some("Application/JSON"), b"phone=1"),
            Err(FrameworkError::Malformed {
                part: RequestPart::Json,
                ..
            })
        ));
        for content_type in [
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            None,
        ] {
            let form = Params::by_content_type(content_type, b"phone=1&utime=2").unwrap();
            assert_eq!(form.required("utime").unwrap(), "2", "{content_type:?}");
        }
        assert!(Params::by_content_type(Some("multipart/form-data; boundary=x"), b"").is_err());
    }

    #[test]
    fn repeated_keys_keep_every_value() {
        let q = Params::query("id=a&id=b&x=1&id=c");
        assert_eq!(q.all("id"), ["a", "b", "c"]);
        assert_eq!(q.required("id").unwrap(), "c");
        assert!(q.all("none").is_empty());
        let j = Params::json(br#"{"id":["a",2,null,{}]}"#).unwrap();
        assert_eq!(j.all("id"), ["a", "2"]);
        assert_eq!(q.names().collect::<Vec<_>>(), ["id", "x"]);
    }

    #[test]
    fn merged_sources_follow_the_documented_winner() {
        let query = || Params::query("phone=1&only_query=q");
        let body = || Params::form(b"phone=2&only_body=b");
        let struts = Params::merged(query(), body(), Winner::Query);
        assert_eq!(struts.required("phone").unwrap(), "1");
        assert_eq!(struts.required("only_body").unwrap(), "b");
        let php = Params::merged(query(), body(), Winner::Body);
        assert_eq!(php.required("phone").unwrap(), "2");
        assert_eq!(php.required("only_query").unwrap(), "q");
    }

    #[test]
    fn nested_objects_name_their_fields_with_the_path() {
        let p = Params::json(br#"{"tel":{"dialCode":86,"number":"13912345678"},"s":"x"}"#).unwrap();
        let tel = p.object("tel").unwrap();
        assert_eq!(tel.parsed::<u16>("dialCode").unwrap(), 86);
        assert_eq!(tel.required("number").unwrap(), "13912345678");
        assert_eq!(
            tel.required("missing").unwrap_err(),
            ParamError {
                name: "tel.missing".into(),
                kind: Missing
            }
        );
        assert_eq!(kind(p.object("s")), NotScalar);
        assert_eq!(kind(p.object("none")), Missing);
    }

    #[test]
    fn a_preprocessed_value_replaces_the_sent_one_in_place() {
        let p = Params::json(br#"{"friendId":"abc","nickname":"x"}"#)
            .unwrap()
            .with_value("friendId", Value::from(100_000))
            .with_value("added", Value::from(true));
        assert_eq!(
            p.names().collect::<Vec<_>>(),
            ["friendId", "nickname", "added"]
        );
        assert_eq!(p.value("friendId"), Some(&Value::from(100_000)));
        assert_eq!(p.required("added").unwrap(), "true");
        let repeated = Params::form(b"id=a&id=b").with_value("id", Value::from("c"));
        assert_eq!(repeated.all("id"), ["c"]);
    }
}
