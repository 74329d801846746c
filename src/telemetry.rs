//! The tracing subscriber: human-readable lines, filtered by `RUST_LOG` (default `info`), with
//! HTTP-level client errors (malformed requests the HTTP layer refuses before any dialect sees
//! them) counted for `/metrics` and summarised at most once a minute instead of logged each.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter::Targets};

/// Where actix's HTTP/1 connection handling reports what clients did wrong (unparsable
/// requests, broken streams) — at ERROR, which clients must not be able to fill.
const HTTP_LAYER_TARGET: &str = "actix_http::h1";

/// How often the summary line of HTTP-level client errors may be written.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// HTTP-level client errors since the process started (malformed requests answered 400 by the
/// HTTP layer, connections broken mid-request).
static HTTP_CLIENT_ERRORS: AtomicU64 = AtomicU64::new(0);

/// The count for `/metrics`.
pub fn http_client_errors() -> u64 {
    HTTP_CLIENT_ERRORS.load(Ordering::Relaxed)
}

/// Logs at `default_level` unless `RUST_LOG` says otherwise.
pub fn init(default_level: &str) {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // The HTTP layer's own lines are replaced by the counter and the summary.
    if let Ok(silenced) = format!("{HTTP_LAYER_TARGET}=off").parse() {
        filter = filter.add_directive(silenced);
    }
    let lines = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .with_filter(filter);
    let counted = HttpClientErrors::default()
        .with_filter(Targets::new().with_target(HTTP_LAYER_TARGET, Level::ERROR));
    // A second call (tests that start several gateways) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(counted)
        .try_init();
}

/// Counts the HTTP layer's error events and writes one summary line a minute at most.
#[derive(Default)]
struct HttpClientErrors {
    last_summary: Mutex<Option<(Instant, u64)>>,
}

impl<S: Subscriber> Layer<S> for HttpClientErrors {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let total = HTTP_CLIENT_ERRORS.fetch_add(1, Ordering::Relaxed) + 1;
        let Ok(mut last) = self.last_summary.lock() else {
            return;
        };
        let now = Instant::now();
        let since = match *last {
            Some((at, _)) if now.duration_since(at) < SUMMARY_INTERVAL => return,
            Some((_, count)) => count,
            None => 0,
        };
        *last = Some((now, total));
        drop(last);
        let mut message = MessageText::default();
        event.record(&mut message);
        tracing::info!(
            target: "rosetta::http",
            count = total - since,
            last = %message.0,
            "HTTP-level client errors (malformed requests refused by the HTTP layer, broken \
             streams); counted in /metrics, summarised at most once a minute"
        );
    }
}

#[derive(Default)]
struct MessageText(String);

impl Visit for MessageText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}
