//! A one-route HTTPS relay for the webhook tests: TLS with the certificate under
//! `tests/fixtures/tls`, HTTP/1.1 read by hand, every request kept, a fixed answer.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A request the relay received: its head and body.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub head: String,
    pub body: Vec<u8>,
}

pub struct TlsRelay {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Relayed>>>,
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

impl TlsRelay {
    /// Serves on a free loopback port; answers every request with `status` and the JSON `body`.
    pub fn start(status: u16, body: &'static str) -> TlsRelay {
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(fixture("localhost.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_file(fixture("localhost.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (config, kept) = (config.clone(), kept.clone());
                std::thread::spawn(move || {
                    let Ok(connection) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(connection, stream);
                    // A client that refuses the certificate ends here.
                    let Some(request) = read_request(&mut tls) else {
                        return;
                    };
                    kept.lock().unwrap().push(request);
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(reply.as_bytes());
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        TlsRelay { port, received }
    }

    pub fn received(&self) -> Vec<Relayed> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut impl Read) -> Option<Relayed> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Relayed { head, body })
}
