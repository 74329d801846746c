//! Wire helpers every dialect uses: bounded body reading, lenient parameters, the client address.

use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Broken(String),
}

/// Reads the whole body, refusing more than `limit` bytes (checked against Content-Length first).
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, BodyError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Broken(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Request parameters by name, in the order the client sent them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(Map<String, Value>);

/// A parameter as a dialect sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// Not sent.
    Missing,
    /// Sent as JSON `null`.
    Null,
    /// A string, or a number or boolean turned into its text.
    Text(String),
    /// An object or array where a scalar was expected.
    Unusable,
}

impl Params {
    /// The body as JSON when it is JSON, whatever the Content-Type says (only an object has
    /// fields); otherwise the body as form fields when it is text shaped like `a=1&b=2`.
    /// Anything else gives no parameters.
    pub fn json_or_form(body: &[u8]) -> Params {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Params(map),
            Ok(_) => Params::default(),
            Err(_) => match std::str::from_utf8(body) {
                Ok(text) if text.contains('=') => Params::form(body),
                _ => Params::default(),
            },
        }
    }

    /// Form-urlencoded fields (`a=1&b=2`); later duplicates win, as in PHP and Struts.
    pub fn form(body: &[u8]) -> Params {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut map = Map::new();
        for (key, value) in pairs {
            if !key.is_empty() {
                map.insert(key, Value::String(value));
            }
        }
        Params(map)
    }

    pub fn field(&self, name: &str) -> Field {
        match self.0.get(name) {
            None => Field::Missing,
            Some(Value::Null) => Field::Null,
            Some(Value::String(s)) => Field::Text(s.clone()),
            Some(Value::Number(n)) => Field::Text(n.to_string()),
            Some(Value::Bool(b)) => Field::Text(if *b { "1" } else { "0" }.to_owned()),
            Some(Value::Array(_) | Value::Object(_)) => Field::Unusable,
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The peer address of the connection. Forwarding headers are not trusted: a client could
/// forge them to dodge the per-address limits.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|addr| addr.ip().to_string())
}

/// A request header as text, `None` when absent, empty or not valid text.
pub fn header_text<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_whatever_the_content_type_then_form() {
        let p = Params::json_or_form(br#"{"username":"a","n":12,"b":true,"z":null,"o":{}}"#);
        assert_eq!(p.field("username"), Field::Text("a".into()));
        assert_eq!(p.field("n"), Field::Text("12".into()));
        assert_eq!(p.field("b"), Field::Text("1".into()));
        assert_eq!(p.field("z"), Field::Null);
        assert_eq!(p.field("o"), Field::Unusable);
        assert_eq!(p.field("nope"), Field::Missing);
        let f = Params::json_or_form(b"username=%E5%BC%A0&password=x");
        assert_eq!(f.field("username"), Field::Text("张".into()));
        assert!(Params::json_or_form(b"[1,2]").is_empty());
        assert!(Params::json_or_form(b"\xff\xfe=1").is_empty());
        assert!(Params::json_or_form(b"not json").is_empty());
        assert!(Params::json_or_form(b"").is_empty());
    }
}
