//! Prometheus metrics of this process: requests by dialect, endpoint, outcome and client, and a
//! latency histogram. Per process by design: Prometheus scrapes and sums every gateway process.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{HttpResponse, web};

use super::OpsState;

/// How a request ended, as the dialect judged it (many dialects answer errors with HTTP 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    ClientError,
    AuthError,
    Busy,
    ServerError,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ClientError => "client_error",
            Outcome::AuthError => "auth_error",
            Outcome::Busy => "busy",
            Outcome::ServerError => "server_error",
        }
    }

    /// For answers a dialect did not label: judged by the HTTP status.
    pub fn from_status(status: u16) -> Outcome {
        match status {
            200..=399 => Outcome::Ok,
            401 | 403 => Outcome::AuthError,
            400..=499 => Outcome::ClientError,
            503 => Outcome::Busy,
            _ => Outcome::ServerError,
        }
    }
}

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// A request's labels in `rosetta_requests_total`: dialect, endpoint, outcome, client.
type RequestKey = (String, String, Outcome, String);

#[derive(Default)]
struct Tables {
    requests: BTreeMap<RequestKey, u64>,
    latency: BTreeMap<(String, String), Histogram>,
    /// The client labels each dialect has given out so far.
    clients: BTreeMap<String, BTreeSet<String>>,
    /// Requests per dialect and client in each recent time slot, oldest first.
    history: VecDeque<Slot>,
}

/// The length of one slot of the traffic history.
pub const SLOT_SECONDS: i64 = 10;
/// How many slots are kept: one hour.
const SLOTS_KEPT: usize = 360;
/// How many slots the history shows at least: a quarter of an hour.
const SLOTS_SHOWN_AT_LEAST: i64 = 90;

/// Requests by dialect and client in one slot.
struct Slot {
    /// The slot's start, epoch seconds.
    start: i64,
    counts: BTreeMap<(String, String), u64>,
}

/// One dialect's and client's requests over time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Series {
    pub dialect: String,
    pub client: String,
    /// `[slot start in epoch milliseconds, requests]`, one for each kept slot (zeros included).
    pub points: Vec<(i64, u64)>,
}

/// How many distinct client labels a dialect gets when the settings do not say.
pub const DEFAULT_CLIENT_LABELS: usize = 20;

pub struct Metrics {
    tables: Mutex<Tables>,
    /// One counter per dialect, made at start-up: requests touch only the atomic.
    in_flight: Mutex<BTreeMap<&'static str, Arc<AtomicI64>>>,
    /// Distinct client labels per dialect; later clients are counted as `other`.
    client_labels: usize,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(DEFAULT_CLIENT_LABELS)
    }
}

/// Counts a request as in flight until it is dropped (answered or abandoned).
pub struct InFlight(Arc<AtomicI64>);

impl InFlight {
    pub fn enter(counter: Arc<AtomicI64>) -> InFlight {
        counter.fetch_add(1, Ordering::Relaxed);
        InFlight(counter)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Metrics that give each dialect at most `client_labels` distinct client labels.
    pub fn new(client_labels: usize) -> Metrics {
        Metrics {
            tables: Mutex::default(),
            in_flight: Mutex::default(),
            client_labels,
        }
    }

    /// The in-flight counter of `dialect` (operators watch it drain at shutdown); taken once
    /// per listener when the server is built.
    pub fn in_flight_counter(&self, dialect: &'static str) -> Arc<AtomicI64> {
        match self.in_flight.lock() {
            Ok(mut counters) => counters.entry(dialect).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    pub fn record(
        &self,
        dialect: &str,
        endpoint: &str,
        outcome: Outcome,
        client: &str,
        elapsed: Duration,
    ) {
        let seconds = elapsed.as_secs_f64();
        let Ok(mut tables) = self.tables.lock() else {
            return;
        };
        let known = tables.clients.entry(dialect.to_owned()).or_default();
        let client = if known.contains(client) {
            client.to_owned()
        } else if known.len() < self.client_labels {
            known.insert(client.to_owned());
            client.to_owned()
        } else {
            super::clients::OTHER.to_owned()
        };
        let slot_start = now_seconds() / SLOT_SECONDS * SLOT_SECONDS;
        if tables
            .history
            .back()
            .is_none_or(|slot| slot.start != slot_start)
        {
            tables.history.push_back(Slot {
                start: slot_start,
                counts: BTreeMap::new(),
            });
            while tables.history.len() > SLOTS_KEPT {
                tables.history.pop_front();
            }
        }
        if let Some(slot) = tables.history.back_mut() {
            *slot
                .counts
                .entry((dialect.to_owned(), client.clone()))
                .or_insert(0) += 1;
        }
        *tables
            .requests
            .entry((dialect.to_owned(), endpoint.to_owned(), outcome, client))
            .or_insert(0) += 1;
        let histogram = tables
            .latency
            .entry((dialect.to_owned(), endpoint.to_owned()))
            .or_default();
        for (bucket, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bucket {
                *count += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// Requests per dialect and client over the last hour, in slots of [`SLOT_SECONDS`] up to
    /// now (slots without requests count zero).
    pub fn history(&self) -> Vec<Series> {
        let Ok(tables) = self.tables.lock() else {
            return Vec::new();
        };
        let now = now_seconds() / SLOT_SECONDS * SLOT_SECONDS;
        // At least the last quarter of an hour, so that a young process still draws a line.
        let first = tables
            .history
            .front()
            .map_or(now, |slot| slot.start)
            .min(now - SLOT_SECONDS * (SLOTS_SHOWN_AT_LEAST - 1))
            .max(now - SLOT_SECONDS * (SLOTS_KEPT as i64 - 1));
        let mut series: BTreeMap<(String, String), BTreeMap<i64, u64>> = BTreeMap::new();
        for slot in tables.history.iter().filter(|slot| slot.start >= first) {
            for (key, count) in &slot.counts {
                series
                    .entry(key.clone())
                    .or_default()
                    .insert(slot.start, *count);
            }
        }
        series
            .into_iter()
            .map(|((dialect, client), counts)| Series {
                dialect,
                client,
                points: (first..=now)
                    .step_by(SLOT_SECONDS as usize)
                    .map(|start| (start * 1000, counts.get(&start).copied().unwrap_or(0)))
                    .collect(),
            })
            .collect()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(tables) = self.tables.lock() else {
            return out;
        };
        out.push_str(
            "# HELP rosetta_requests_total Requests answered, by dialect, endpoint, outcome and \
             client (a bounded label: the rest are `other`).\n",
        );
        out.push_str("# TYPE rosetta_requests_total counter\n");
        for ((dialect, endpoint, outcome, client), count) in &tables.requests {
            let _ = writeln!(
                out,
                "rosetta_requests_total{{dialect=\"{}\",endpoint=\"{}\",outcome=\"{}\",client=\"{}\"}} {count}",
                escape(dialect),
                escape(endpoint),
                outcome.as_str(),
                escape(client)
            );
        }
        out.push_str(
            "# HELP rosetta_requests_in_flight Requests received and not yet answered, by dialect.\n",
        );
        out.push_str("# TYPE rosetta_requests_in_flight gauge\n");
        if let Ok(in_flight) = self.in_flight.lock() {
            for (dialect, count) in in_flight.iter() {
                let _ = writeln!(
                    out,
                    "rosetta_requests_in_flight{{dialect=\"{}\"}} {}",
                    escape(dialect),
                    count.load(Ordering::Relaxed)
                );
            }
        }
        out.push_str(
            "# HELP rosetta_http_client_errors_total Requests refused by the HTTP layer before \
             any dialect saw them (malformed requests, broken streams).\n",
        );
        out.push_str("# TYPE rosetta_http_client_errors_total counter\n");
        let _ = writeln!(
            out,
            "rosetta_http_client_errors_total {}",
            crate::telemetry::http_client_errors()
        );
        out.push_str("# HELP rosetta_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE rosetta_request_duration_seconds histogram\n");
        for ((dialect, endpoint), h) in &tables.latency {
            let labels = format!(
                "dialect=\"{}\",endpoint=\"{}\"",
                escape(dialect),
                escape(endpoint)
            );
            for (bucket, count) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    out,
                    "rosetta_request_duration_seconds_bucket{{{labels},le=\"{bucket}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "rosetta_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "rosetta_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "rosetta_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out
    }
}

fn now_seconds() -> i64 {
    use crate::service::Clock;
    crate::service::SystemClock.now_ms() / 1000
}

/// A label value in Prometheus text: backslash, quote and newline escaped.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn render(state: web::Data<OpsState>) -> HttpResponse {
    let mut text = state.metrics.render();
    state.cutover.shadow.render(&mut text);
    render_sms(state.service.sms_stats(), &mut text);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// The SMS providers' calls and alerts.
fn render_sms(stats: &crate::service::sms_stats::SmsStats, out: &mut String) {
    out.push_str(
        "# HELP rosetta_sms_calls_total Calls to SMS providers (each delivery attempt), by provider \
         and outcome (sent, rate_limited, invalid_phone, failed).\n",
    );
    out.push_str("# TYPE rosetta_sms_calls_total counter\n");
    for ((provider, outcome), calls) in stats.calls() {
        out.push_str(&format!(
            "rosetta_sms_calls_total{{provider=\"{provider}\",outcome=\"{outcome}\"}} {calls}\n"
        ));
    }
    out.push_str(
        "# HELP rosetta_sms_alerts_total Provider answers that need an operator (credentials, \
         account, balance, template, signature, clock), by provider.\n",
    );
    out.push_str("# TYPE rosetta_sms_alerts_total counter\n");
    for (provider, alerts) in stats.alerts() {
        out.push_str(&format!(
            "rosetta_sms_alerts_total{{provider=\"{provider}\"}} {alerts}\n"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.record(
            "error_code",
            "/api/user/login",
            Outcome::Ok,
            "okhttp",
            Duration::from_millis(3),
        );
        m.record(
            "error_code",
            "/api/user/login",
            Outcome::Ok,
            "okhttp",
            Duration::from_millis(30),
        );
        m.record(
            "error_code",
            "/api/user/login",
            Outcome::AuthError,
            "okhttp",
            Duration::from_millis(1),
        );
        let text = m.render();
        assert!(text.contains(
            "rosetta_requests_total{dialect=\"error_code\",endpoint=\"/api/user/login\",outcome=\"ok\",client=\"okhttp\"} 2"
        ));
        assert!(text.contains("outcome=\"auth_error\",client=\"okhttp\"} 1"));
        assert!(text.contains(
            "rosetta_request_duration_seconds_bucket{dialect=\"error_code\",endpoint=\"/api/user/login\",le=\"0.005\"} 2"
        ));
        assert!(text.contains("rosetta_request_duration_seconds_count{dialect=\"error_code\",endpoint=\"/api/user/login\"} 3"));
    }

    #[test]
    fn each_dialect_gets_a_bounded_number_of_client_labels() {
        let m = Metrics::new(2);
        for client in ["android", "ios", "harmony", "android", "web"] {
            m.record("struts", "/x", Outcome::Ok, client, Duration::ZERO);
        }
        m.record("rest", "/y", Outcome::Ok, "web", Duration::ZERO);
        let text = m.render();
        for line in [
            "dialect=\"struts\",endpoint=\"/x\",outcome=\"ok\",client=\"android\"} 2",
            "dialect=\"struts\",endpoint=\"/x\",outcome=\"ok\",client=\"ios\"} 1",
            "dialect=\"struts\",endpoint=\"/x\",outcome=\"ok\",client=\"other\"} 2",
            "dialect=\"rest\",endpoint=\"/y\",outcome=\"ok\",client=\"web\"} 1",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("harmony"), "{text}");
    }

    #[test]
    fn the_history_counts_requests_per_slot_up_to_now() {
        let m = Metrics::default();
        for client in ["android", "android", "ios"] {
            m.record("struts", "/x", Outcome::Ok, client, Duration::ZERO);
        }
        let history = m.history();
        assert_eq!(history.len(), 2);
        assert_eq!(
            (history[0].client.as_str(), history[1].client.as_str()),
            ("android", "ios")
        );
        let android: u64 = history[0].points.iter().map(|p| p.1).sum();
        assert_eq!(android, 2, "{history:?}");
        assert!(
            history[0]
                .points
                .iter()
                .all(|p| p.0 % (SLOT_SECONDS * 1000) == 0)
        );
        assert_eq!(history[0].points.len(), 90, "a quarter of an hour at least");
        assert!(Metrics::default().history().is_empty());
    }

    #[test]
    fn in_flight_requests_are_counted_until_dropped() {
        let m = Metrics::default();
        let first = InFlight::enter(m.in_flight_counter("error_code"));
        let second = InFlight::enter(m.in_flight_counter("error_code"));
        assert!(
            m.render()
                .contains("rosetta_requests_in_flight{dialect=\"error_code\"} 2")
        );
        drop(first);
        drop(second);
        assert!(
            m.render()
                .contains("rosetta_requests_in_flight{dialect=\"error_code\"} 0")
        );
    }

    #[test]
    fn unlabelled_answers_are_judged_by_status() {
        assert_eq!(Outcome::from_status(200), Outcome::Ok);
        assert_eq!(Outcome::from_status(403), Outcome::AuthError);
        assert_eq!(Outcome::from_status(404), Outcome::ClientError);
        assert_eq!(Outcome::from_status(503), Outcome::Busy);
        assert_eq!(Outcome::from_status(500), Outcome::ServerError);
    }
}
