//! Raw HTTP/1.1 over a TCP socket, for tests that send what no client library would (broken
//! heads, lying lengths, trickled bodies) or that must not share the gateway's runtime (a
//! gateway killed with SIGKILL, a load running beside an outage).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// One answer read off the wire.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    /// The status line and the header lines.
    pub head: String,
    /// The body, de-chunked, cut at its Content-Length.
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// A header's value (the first, by case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Parses the first answer in `bytes`; bytes after its body (the answer to a second request)
/// are left out.
pub fn parse_answer(bytes: &[u8]) -> Result<RawAnswer, String> {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no answer head in {:?}", String::from_utf8_lossy(bytes)))?;
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let mut answer = RawAnswer {
        status,
        head,
        body: bytes[head_end + 4..].to_vec(),
    };
    let chunked = answer
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        answer.body = dechunk(&answer.body);
    } else if let Some(length) = answer
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        answer.body.truncate(length);
    }
    Ok(answer)
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&body[..line_end])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(body.len());
        out.extend_from_slice(&body[start..end]);
        body = &body[(end + 2).min(body.len())..];
    }
    out
}

/// A connection whose reads give up after `timeout`.
pub fn connect(address: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(timeout))?;
    Ok(stream)
}

/// Sends `request` and reads until the server closes the connection (send `Connection: close`,
/// or `close_write` to end the request's stream after it). A failed write is not an error: a
/// server may answer and close before the whole request is in. The bytes read, and the read
/// error that ended the reading when nothing came.
pub fn send(
    address: SocketAddr,
    request: &[u8],
    timeout: Duration,
    close_write: bool,
) -> Result<Vec<u8>, std::io::Error> {
    let mut stream = connect(address, timeout)?;
    let _ = stream.write_all(request);
    if close_write {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes) {
        Err(err) if bytes.is_empty() => Err(err),
        _ => Ok(bytes),
    }
}

/// One request with `Connection: close` already in it; its parsed answer, or `None` when no
/// whole answer came (the connection refused, reset or closed early).
pub fn exchange(address: SocketAddr, request: &[u8], timeout: Duration) -> Option<RawAnswer> {
    let bytes = send(address, request, timeout, false).ok()?;
    parse_answer(&bytes).ok()
}

/// Reads one answer from a connection that stays open: until the head and its declared body
/// are in, or the server closes. The answer's text; panics when the read fails first.
pub fn read_answer(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            Err(err) => panic!(
                "no answer: {err} after {:?}",
                String::from_utf8_lossy(&bytes)
            ),
        }
        if let Ok(answer) = parse_answer(&bytes) {
            let declared = answer
                .header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if answer.body.len() >= declared {
                break;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The status of an answer's text; panics when it has no status line.
pub fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}
