//! Requests to a legacy backend: the client's request passed on (method, path below the
//! dialect's prefix, query, end-to-end headers, body) and its answer read back.

use crate::providers::https;
use std::cell::RefCell;
use std::time::Duration;

use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::web::Bytes;
use futures_util::{Stream, StreamExt};

/// Headers that belong to one connection, not to the request or answer (RFC 9110 §7.6.1), and
/// those the client library sets itself.
pub const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// Whether a header passes from one side to the other.
pub fn end_to_end(name: &HeaderName) -> bool {
    !HOP_BY_HOP.contains(&name.as_str())
}

thread_local! {
    /// One client per worker thread, so connections to a legacy backend are kept alive and
    /// reused (the client is not `Send`).
    static CLIENT: RefCell<Option<awc::Client>> = const { RefCell::new(None) };
}

fn client() -> awc::Client {
    CLIENT.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| {
                // Requests carry the client's own headers only (no User-Agent of ours).
                https::client(Duration::from_secs(300), https::ClientOptions::VERBATIM)
            })
            .clone()
    })
}

/// A request on its way to a legacy backend.
pub struct Outgoing<'a> {
    pub method: &'a actix_web::http::Method,
    /// `http://host:port[/legacy prefix]`.
    pub base_url: &'a str,
    /// The path below the dialect's prefix, with its query.
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    /// Who asked, for `X-Forwarded-For`.
    pub peer: Option<String>,
    pub timeout: Duration,
}

impl Outgoing<'_> {
    fn request(&self) -> awc::ClientRequest {
        let url = format!("{}{}", self.base_url, self.path_and_query);
        let mut request = client()
            .request(self.method.clone(), url)
            .timeout(self.timeout);
        let mut forwarded_for: Option<String> = None;
        for (name, value) in self.headers {
            if !end_to_end(name) {
                continue;
            }
            if name.as_str() == "x-forwarded-for" {
                forwarded_for = value.to_str().ok().map(str::to_owned);
                continue;
            }
            request = request.append_header((name.clone(), value.clone()));
        }
        let forwarded_for = match (forwarded_for, &self.peer) {
            (Some(before), Some(peer)) => Some(format!("{before}, {peer}")),
            (before, peer) => before.or_else(|| peer.clone()),
        };
        if let Some(value) = forwarded_for {
            request = request.insert_header(("x-forwarded-for", value));
        }
        request
    }

    /// Sends the request with a body already in memory.
    pub async fn send(&self, body: Bytes) -> Result<LegacyAnswer, String> {
        let response = self
            .request()
            .send_body(body)
            .await
            .map_err(|e| format!("{}: {e}", self.base_url))?;
        Ok(LegacyAnswer { response })
    }

    /// Sends the request with a body still arriving.
    pub async fn send_stream<S, E>(&self, body: S) -> Result<LegacyAnswer, String>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + 'static,
        E: Into<Box<dyn std::error::Error>> + 'static,
    {
        let response = self
            .request()
            .send_stream(body)
            .await
            .map_err(|e| format!("{}: {e}", self.base_url))?;
        Ok(LegacyAnswer { response })
    }
}

/// A legacy backend's answer, its body not yet read.
pub struct LegacyAnswer {
    pub response: awc::ClientResponse,
}

/// A stream read up to a limit: whole, or what was read with the rest still to come (more
/// than the limit, or not in time).
pub enum Gathered<S> {
    Whole(Bytes),
    Partial { read: Vec<Bytes>, rest: S },
}

impl<S, E> Gathered<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin + 'static,
    E: 'static,
{
    /// The whole stream again, as it came: what was read, then the rest.
    pub fn replayed(self) -> futures_util::stream::LocalBoxStream<'static, Result<Bytes, E>> {
        match self {
            Gathered::Whole(bytes) => futures_util::stream::once(async { Ok(bytes) }).boxed_local(),
            Gathered::Partial { read, rest } => {
                futures_util::stream::iter(read.into_iter().map(Ok))
                    .chain(rest)
                    .boxed_local()
            }
        }
    }
}

/// Reads `stream` until it ends, more than `limit` bytes came, or `deadline` passed; what was
/// read is never lost.
pub async fn gather<S, E>(
    mut stream: S,
    limit: usize,
    deadline: tokio::time::Instant,
) -> Result<Gathered<S>, E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut read = Vec::new();
    let mut length = 0;
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, stream.next()).await else {
            return Ok(Gathered::Partial { read, rest: stream });
        };
        let Some(chunk) = next else {
            break;
        };
        let chunk = chunk?;
        length += chunk.len();
        read.push(chunk);
        if length > limit {
            return Ok(Gathered::Partial { read, rest: stream });
        }
    }
    let mut whole = actix_web::web::BytesMut::with_capacity(length);
    for chunk in read {
        whole.extend_from_slice(&chunk);
    }
    Ok(Gathered::Whole(whole.freeze()))
}

/// The path below `prefix` with the query, as the legacy backend gets it.
pub fn below_prefix(path_and_query: &str, prefix: &str) -> String {
    let rest = path_and_query
        .strip_prefix(prefix)
        .unwrap_or(path_and_query);
    if rest.is_empty() || rest.starts_with('?') {
        format!("/{rest}")
    } else {
        rest.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_lose_the_dialect_prefix_only() {
        assert_eq!(
            below_prefix("/blueu/api/user/1?x=1", "/blueu"),
            "/api/user/1?x=1"
        );
        assert_eq!(below_prefix("/blueu", "/blueu"), "/");
        assert_eq!(below_prefix("/blueu?x", "/blueu"), "/?x");
        assert_eq!(below_prefix("/api/user/1", ""), "/api/user/1");
    }

    #[test]
    fn connection_headers_stay_behind() {
        for name in [
            "connection",
            "transfer-encoding",
            "host",
            "content-length",
            "upgrade",
        ] {
            assert!(!end_to_end(&HeaderName::from_static(name)), "{name}");
        }
        for name in [
            "content-type",
            "cookie",
            "x-auth-token",
            "client",
            "user-agent",
        ] {
            assert!(end_to_end(&HeaderName::from_static(name)), "{name}");
        }
    }

    #[actix_web::test]
    async fn gathering_stops_past_the_limit_and_keeps_the_rest() {
        let chunks = || {
            futures_util::stream::iter(
                ["abc", "def", "gh"]
                    .map(|c| Ok::<_, std::convert::Infallible>(Bytes::from_static(c.as_bytes()))),
            )
        };
        let later = || tokio::time::Instant::now() + Duration::from_secs(10);
        match gather(chunks(), 100, later()).await.unwrap() {
            Gathered::Whole(bytes) => assert_eq!(bytes, "abcdefgh"),
            Gathered::Partial { .. } => panic!("under the limit"),
        }
        match gather(chunks(), 4, later()).await.unwrap() {
            Gathered::Partial { read, rest } => {
                assert_eq!(read, vec![Bytes::from("abc"), Bytes::from("def")]);
                assert_eq!(rest.collect::<Vec<_>>().await.len(), 1);
            }
            Gathered::Whole(_) => panic!("over the limit"),
        }
        let again: Vec<Bytes> = match gather(chunks(), 4, later()).await.unwrap() {
            partial @ Gathered::Partial { .. } => {
                partial.replayed().map(Result::unwrap).collect().await
            }
            Gathered::Whole(_) => panic!("over the limit"),
        };
        assert_eq!(again.concat(), b"abcdefgh", "nothing read is lost");
        // A stream that stalls: what came before the deadline is kept.
        let stalled = chunks().chain(futures_util::stream::pending());
        match gather(
            Box::pin(stalled),
            100,
            tokio::time::Instant::now() + Duration::from_millis(50),
        )
        .await
        .unwrap()
        {
            Gathered::Partial { read, .. } => assert_eq!(read.concat(), b"abcdefgh"),
            Gathered::Whole(_) => panic!("it never ended"),
        }
    }
}
