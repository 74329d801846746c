//! The gateway's outgoing HTTP client: plain HTTP and HTTPS (rustls with the system's trusted
//! roots, which `SSL_CERT_FILE` / `SSL_CERT_DIR` can replace), one TLS setup per process.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::ClientConfig;

/// The TLS setup every outgoing HTTPS call shares: loading the system roots reads files, so it
/// happens once.
fn tls_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let loaded = rustls_native_certs::load_native_certs();
            for error in &loaded.errors {
                tracing::warn!(%error, "a trusted root certificate could not be read");
            }
            let mut roots = rustls::RootCertStore::empty();
            let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
            if added == 0 {
                tracing::warn!(
                    ignored,
                    "no trusted root certificates found: every HTTPS call will fail \
                     (install the system's CA certificates, or point SSL_CERT_FILE at a bundle)"
                );
            }
            Arc::new(tls_config_with(roots))
        })
        .clone()
}

/// Reads the trusted roots now (start-up, off the request path), so the first HTTPS call does not
/// wait on the files and a machine without roots is reported before anyone asks for a code.
pub fn preload() {
    tls_config();
}

/// A TLS setup (ring, the safe default protocol versions, HTTP/1.1) that trusts `roots`.
fn tls_config_with(roots: rustls::RootCertStore) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // The ring provider supports every default protocol version, so this cannot fail;
        // should it ever, the fallback below still verifies every certificate.
        .unwrap_or_else(|_| ClientConfig::builder())
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// How a client treats requests beyond TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Adds awc's own `User-Agent` (and friends) to every request.
    pub default_headers: bool,
    /// Follows redirects (at most 10).
    pub follow_redirects: bool,
}

impl ClientOptions {
    /// awc's defaults.
    pub const DEFAULT: ClientOptions = ClientOptions {
        default_headers: true,
        follow_redirects: true,
    };
    /// Requests carry exactly their own headers and a redirect is an answer like any other.
    pub const VERBATIM: ClientOptions = ClientOptions {
        default_headers: false,
        follow_redirects: false,
    };
}

/// A client for `http://` and `https://` URLs; `timeout` bounds connecting and each request
/// up to the answer's head.
pub fn client(timeout: Duration, options: ClientOptions) -> awc::Client {
    client_with(timeout, options, tls_config())
}

/// [`client`] over a given TLS setup.
fn client_with(timeout: Duration, options: ClientOptions, tls: Arc<ClientConfig>) -> awc::Client {
    let mut builder = awc::Client::builder().timeout(timeout);
    if !options.default_headers {
        builder = builder.no_default_headers();
    }
    if !options.follow_redirects {
        builder = builder.disable_redirects();
    }
    builder
        .connector(awc::Connector::new().rustls_0_23(tls).timeout(timeout))
        .finish()
}
