//! The client label of a request's metrics: which app flavour sent it, from what the dialect
//! knows (a client header, a device id's prefix) or else the User-Agent's first product, folded
//! to a short lower-case word so that Prometheus gets a small, bounded label set.

use actix_web::HttpMessage;
use actix_web::HttpRequest;

/// The longest label kept; longer words are cut.
const MAX_LABEL_LEN: usize = 32;
/// The label of a request that says nothing about its client.
pub const UNKNOWN: &str = "unknown";
/// The label of every client beyond the configured number of distinct ones.
pub const OTHER: &str = "other";

/// A client named by the dialect's handler while reading the request (a field of its body),
/// which the metrics middleware prefers to any header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHint(pub String);

/// Names the client of `req` from a value the dialect read (code_sec's `xid`): its prefix.
pub fn hint(req: &HttpRequest, value: &str) {
    if let Some(label) = family(value) {
        req.extensions_mut().insert(ClientHint(label));
    }
}

/// The first word of `text` (up to a character other than a letter or digit), lower case and at
/// most 32 characters; `None` when there is no such word. `"Android 9"` and `"android-7f3a…"`
/// are both `android`, `"okhttp/4.9.0"` is `okhttp`.
pub fn family(text: &str) -> Option<String> {
    let word: String = text
        .trim()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .take(MAX_LABEL_LEN)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The label of a request: the dialect's hint, else the dialect's client header, else the
/// User-Agent's first product, else [`UNKNOWN`].
pub fn label(req: &HttpRequest, client_header: Option<&str>) -> String {
    if let Some(ClientHint(label)) = req.extensions().get::<ClientHint>() {
        return label.clone();
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(family)
    };
    client_header
        .and_then(header)
        .or_else(|| header("user-agent"))
        .unwrap_or_else(|| UNKNOWN.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn families_are_the_first_word_folded() {
        assert_eq!(family("Android 9").as_deref(), Some("android"));
        assert_eq!(family("android-7f3a9c0e-1d2b").as_deref(), Some("android"));
        assert_eq!(family("okhttp/4.9.0").as_deref(), Some("okhttp"));
        assert_eq!(
            family("Mozilla/5.0 (iPhone; CPU iPhone OS 12_1)").as_deref(),
            Some("mozilla")
        );
        assert_eq!(family("  ").as_deref(), None);
        assert_eq!(family("/x").as_deref(), None);
        assert_eq!(
            family("客户端").as_deref(),
            None,
            "only ASCII words are labels"
        );
        assert_eq!(family(&"a".repeat(100)).map(|l| l.len()), Some(32));
    }

    #[test]
    fn the_hint_wins_then_the_header_then_the_user_agent() {
        let req = TestRequest::default()
            .insert_header(("client", "iOS"))
            .insert_header(("user-agent", "okhttp/3.12"))
            .to_http_request();
        assert_eq!(label(&req, Some("client")), "ios");
        assert_eq!(label(&req, None), "okhttp");
        hint(&req, "harmony_1234");
        assert_eq!(label(&req, Some("client")), "harmony");
        let bare = TestRequest::default().to_http_request();
        assert_eq!(label(&bare, Some("client")), UNKNOWN);
    }
}
