//! `rosetta traffic`: how much each dialect and each client app is still used, read from a
//! gateway's Prometheus metrics and printed as a table per dialect.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// Requests of one dialect and client, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: u64,
    pub ok: u64,
    /// Client and authentication errors: what the dialect refused.
    pub refused: u64,
    /// Busy and server errors: what the gateway failed to do.
    pub failed: u64,
}

impl Counts {
    fn add(&mut self, outcome: &str, count: u64) {
        self.total += count;
        match outcome {
            "ok" => self.ok += count,
            "client_error" | "auth_error" => self.refused += count,
            _ => self.failed += count,
        }
    }
}

/// Every dialect's clients with their counts.
pub type Summary = BTreeMap<String, BTreeMap<String, Counts>>;

/// Sums `rosetta_requests_total` by dialect and client (over endpoints). Other lines, comments
/// and samples that cannot be read are passed over.
pub fn summarise(metrics: &str) -> Summary {
    let mut summary = Summary::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix("rosetta_requests_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let Ok(count) = value.trim().parse::<f64>() else {
            continue;
        };
        let labels = parse_labels(labels);
        let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
        let client = match label("client") {
            client if client.is_empty() => crate::ops::clients::UNKNOWN.to_owned(),
            client => client,
        };
        summary
            .entry(label("dialect"))
            .or_default()
            .entry(client)
            .or_default()
            .add(&label("outcome"), count as u64);
    }
    summary
}

/// `name="value",…` with Prometheus escapes (`\\`, `\"`, `\n`).
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if name.is_empty() || chars.next() != Some('"') {
            break;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                other => value.push(other),
            }
        }
        labels.insert(name.trim().to_owned(), value);
        if chars.next() != Some(',') {
            break;
        }
    }
    labels
}

/// The summary as a table: per dialect its total, then its clients, busiest first, each with
/// its share of the dialect's requests.
pub fn render(summary: &Summary) -> String {
    let mut out = String::new();
    if summary.is_empty() {
        out.push_str("no requests counted yet\n");
        return out;
    }
    let all: u64 = summary
        .values()
        .flat_map(|c| c.values())
        .map(|c| c.total)
        .sum();
    let _ = writeln!(
        out,
        "{:<12} {:<24} {:>10} {:>7} {:>10} {:>8} {:>8}",
        "dialect", "client", "requests", "share", "ok", "refused", "failed"
    );
    for (dialect, clients) in summary {
        let mut total = Counts::default();
        for counts in clients.values() {
            total.total += counts.total;
            total.ok += counts.ok;
            total.refused += counts.refused;
            total.failed += counts.failed;
        }
        let mut row = |client: &str, counts: &Counts, of: u64| {
            let _ = writeln!(
                out,
                "{dialect:<12} {client:<24} {:>10} {:>6.1}% {:>10} {:>8} {:>8}",
                counts.total,
                share(counts.total, of),
                counts.ok,
                counts.refused,
                counts.failed
            );
        };
        row("(all clients)", &total, all);
        let mut busiest: Vec<_> = clients.iter().collect();
        busiest.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(b.0)));
        for (client, counts) in busiest {
            row(client, counts, total.total);
        }
    }
    let _ = writeln!(
        out,
        "share: of all requests for a dialect's line, of the dialect's requests for a client's"
    );
    out
}

fn share(part: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        part as f64 * 100.0 / of as f64
    }
}

/// Reads `/metrics` from the ops listener at `ops_url` (`http://host:port`).
pub async fn fetch(ops_url: &str) -> Result<String, String> {
    if !ops_url.starts_with("http://") {
        return Err(format!(
            "{ops_url}: must be the ops listener's http:// URL, such as http://127.0.0.1:8080"
        ));
    }
    let url = format!("{}/metrics", ops_url.trim_end_matches('/'));
    let mut response = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish()
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}; is the gateway running?"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered HTTP {}", response.status()));
    }
    let body = response
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    String::from_utf8(body.to_vec()).map_err(|_| format!("{url}: the answer is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const METRICS: &str = r#"# HELP rosetta_requests_total Requests answered.
# TYPE rosetta_requests_total counter
rosetta_requests_total{dialect="struts",endpoint="/user/user!login.action",outcome="ok",client="android"} 30
rosetta_requests_total{dialect="struts",endpoint="/user/user!readUser.action",outcome="auth_error",client="android"} 10
rosetta_requests_total{dialect="struts",endpoint="/user/user!login.action",outcome="ok",client="ios"} 50
rosetta_requests_total{dialect="rest",endpoint="/users/{id}",outcome="busy",client="we\"ird"} 5
rosetta_requests_in_flight{dialect="struts"} 1
"#;

    #[test]
    fn requests_are_summed_by_dialect_and_client() {
        let summary = summarise(METRICS);
        assert_eq!(
            summary["struts"]["android"],
            Counts {
                total: 40,
                ok: 30,
                refused: 10,
                failed: 0
            }
        );
        assert_eq!(summary["struts"]["ios"].total, 50);
        assert_eq!(summary["rest"]["we\"ird"].failed, 5);
        assert_eq!(summary.len(), 2);
    }

    #[test]
    fn the_table_lists_clients_busiest_first_with_their_share() {
        let table = render(&summarise(METRICS));
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("dialect"), "{table}");
        assert!(lines[1].starts_with("rest"), "{table}");
        let struts: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("struts"))
            .collect();
        assert!(
            struts[0].contains("(all clients)") && struts[0].contains("90"),
            "{table}"
        );
        assert!(struts[0].contains("94.7%"), "90 of 95 requests: {table}");
        assert!(
            struts[1].contains("ios") && struts[1].contains("55.6%"),
            "{table}"
        );
        assert!(
            struts[2].contains("android") && struts[2].contains("44.4%"),
            "{table}"
        );
        assert_eq!(render(&Summary::new()), "no requests counted yet\n");
    }
}
