//! Shadow comparisons: a read answered by Rosetta is also answered by the legacy backend, off
//! the request path; the two answers are compared as a replay compares (the dialect's volatile
//! values by type), the accepted differences set aside, and the outcome counted per endpoint.
//! The newest differing exchanges are kept, redacted, for a person to look at.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;
use std::sync::Mutex;

use actix_web::web::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::dialects::{DialectSpec, Location, VolatileKind};
use crate::replay::accept::{Accepted, Rules};
use crate::replay::compare::{Comparison, Difference};
use crate::replay::rebind::Rebinder;
use crate::replay::recorder::{Captured, Redactor, shape};
use crate::replay::template::Bindings;
use crate::replay::transcript::{Request, Response};
use crate::service::{Clock, SystemClock};

/// An answer as both sides gave it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// The request both sides answered.
#[derive(Debug, Clone)]
pub struct Asked {
    pub method: String,
    /// Below the dialect's prefix, with the query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// How one comparison ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The answers agree (volatile values by type).
    Same,
    /// They differ only where the accepted-differences rules allow.
    Accepted,
    /// They differ where no rule allows.
    Different,
    /// The legacy backend gave no answer.
    Failed,
    /// Not compared: too many comparisons waiting, or a body too large to hold.
    Skipped,
}

impl Outcome {
    const ALL: [Outcome; 5] = [
        Outcome::Same,
        Outcome::Accepted,
        Outcome::Different,
        Outcome::Failed,
        Outcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Same => "same",
            Outcome::Accepted => "accepted",
            Outcome::Different => "different",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Comparisons of one endpoint, by result.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub same: u64,
    pub accepted: u64,
    pub different: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    fn add(&mut self, result: Outcome) {
        match result {
            Outcome::Same => self.same += 1,
            Outcome::Accepted => self.accepted += 1,
            Outcome::Different => self.different += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }

    fn of(&self, result: Outcome) -> u64 {
        match result {
            Outcome::Same => self.same,
            Outcome::Accepted => self.accepted,
            Outcome::Different => self.different,
            Outcome::Failed => self.failed,
            Outcome::Skipped => self.skipped,
        }
    }
}

/// One differing comparison, kept for inspection with its secrets redacted.
#[derive(Debug, Clone, Serialize)]
pub struct Kept {
    pub id: u64,
    pub at_ms: i64,
    pub dialect: String,
    pub endpoint: String,
    pub differences: Vec<Difference>,
    pub accepted: Vec<Accepted>,
    pub request: Request,
    pub legacy: Response,
    pub rosetta: Response,
}

/// An endpoint's counts, as the admin API lists them.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointCounts {
    pub dialect: String,
    pub endpoint: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Default)]
struct Inner {
    counts: BTreeMap<(String, String), Counts>,
    kept: VecDeque<Kept>,
    next_id: u64,
}

/// The shadow comparisons of this process.
pub struct ShadowLog {
    keep: usize,
    inner: Mutex<Inner>,
    redactor: Redactor,
}

impl ShadowLog {
    pub fn new(keep: usize) -> ShadowLog {
        ShadowLog {
            keep,
            inner: Mutex::default(),
            redactor: Redactor::new(),
        }
    }

    /// Counts a comparison that did not take place or found nothing to keep.
    pub fn count(&self, dialect: &str, endpoint: &str, result: Outcome) {
        if let Ok(mut inner) = self.inner.lock() {
            inner
                .counts
                .entry((dialect.to_owned(), endpoint.to_owned()))
                .or_default()
                .add(result);
        }
    }

    /// Compares the legacy answer with Rosetta's, counts the result and keeps the exchange
    /// when they differ.
    pub fn compare(
        &self,
        spec: &DialectSpec,
        endpoint: &str,
        rules: &Rules,
        asked: &Asked,
        legacy: &Answer,
        rosetta: &Answer,
    ) -> Outcome {
        let path = asked.path.split('?').next().unwrap_or_default();
        let sorted = rules.sort(
            spec.id,
            &asked.method,
            path,
            differences(spec, legacy, rosetta),
        );
        let result = if !sorted.unexpected.is_empty() {
            Outcome::Different
        } else if !sorted.accepted.is_empty() || sorted.ignored > 0 {
            Outcome::Accepted
        } else {
            Outcome::Same
        };
        if result != Outcome::Different {
            self.count(spec.id, endpoint, result);
            return result;
        }
        let at_ms = SystemClock.now_ms();
        let captured = |answer: &Answer| Captured {
            dialect: spec.id,
            at_ms,
            method: asked.method.clone(),
            path: asked.path.clone(),
            request_headers: asked.headers.clone(),
            request_body: Some(asked.body.clone()),
            status: answer.status,
            response_headers: answer.headers.clone(),
            response_body: Some(answer.body.clone()),
        };
        let mut with_legacy = shape(&captured(legacy));
        let mut with_rosetta = shape(&captured(rosetta));
        self.redactor.redact(spec, &mut with_legacy);
        self.redactor.redact(spec, &mut with_rosetta);
        let secret = secret_pointers(spec);
        let hide = |mut difference: Difference| {
            if secret
                .iter()
                .any(|pattern| pointer_matches(pattern, &difference.pointer))
            {
                difference.expected = "(redacted)".to_owned();
                difference.actual = "(redacted)".to_owned();
            }
            difference
        };
        let Ok(mut inner) = self.inner.lock() else {
            return result;
        };
        inner
            .counts
            .entry((spec.id.to_owned(), endpoint.to_owned()))
            .or_default()
            .add(result);
        inner.next_id += 1;
        let kept = Kept {
            id: inner.next_id,
            at_ms,
            dialect: spec.id.to_owned(),
            endpoint: endpoint.to_owned(),
            differences: sorted.unexpected.into_iter().map(&hide).collect(),
            accepted: sorted
                .accepted
                .into_iter()
                .map(|mut accepted| {
                    accepted.difference = hide(accepted.difference);
                    accepted
                })
                .collect(),
            request: with_legacy.request,
            legacy: with_legacy.response,
            rosetta: with_rosetta.response,
        };
        inner.kept.push_front(kept);
        while inner.kept.len() > self.keep {
            inner.kept.pop_back();
        }
        result
    }

    /// Every endpoint's counts.
    pub fn counts(&self) -> Vec<EndpointCounts> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        inner
            .counts
            .iter()
            .map(|((dialect, endpoint), counts)| EndpointCounts {
                dialect: dialect.clone(),
                endpoint: endpoint.clone(),
                counts: counts.clone(),
            })
            .collect()
    }

    /// The kept differences, newest first.
    pub fn kept(&self) -> Vec<Kept> {
        self.inner
            .lock()
            .map(|inner| inner.kept.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn find(&self, id: u64) -> Option<Kept> {
        let inner = self.inner.lock().ok()?;
        inner.kept.iter().find(|k| k.id == id).cloned()
    }

    /// `rosetta_shadow_comparisons_total{dialect,endpoint,result}` in Prometheus text.
    pub fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP rosetta_shadow_comparisons_total Reads also sent to the legacy backend in \
             shadow mode, by dialect, endpoint and result.\n",
        );
        out.push_str("# TYPE rosetta_shadow_comparisons_total counter\n");
        let Ok(inner) = self.inner.lock() else {
            return;
        };
        for ((dialect, endpoint), counts) in &inner.counts {
            for result in Outcome::ALL {
                let _ = writeln!(
                    out,
                    "rosetta_shadow_comparisons_total{{dialect=\"{}\",endpoint=\"{}\",result=\"{}\"}} {}",
                    crate::ops::metrics::escape(dialect),
                    crate::ops::metrics::escape(endpoint),
                    result.as_str(),
                    counts.of(result)
                );
            }
        }
    }
}

/// The differences between the legacy answer (the reference) and Rosetta's: the status, the
/// Content-Type and the dialect's volatile headers, and the body — JSON semantically with the
/// volatile values by type, text exactly, other bytes by length and content.
pub fn differences(spec: &DialectSpec, legacy: &Answer, rosetta: &Answer) -> Vec<Difference> {
    let mut bindings = Bindings::default();
    let mut rebinder = Rebinder::for_dialect(spec);
    let mut comparison = Comparison {
        bindings: &mut bindings,
        rebinder: Some(&mut rebinder),
        now_ms: SystemClock.now_ms(),
        differences: Vec::new(),
    };
    comparison.status(legacy.status, rosetta.status);
    let mut compared_headers = vec!["content-type".to_owned()];
    compared_headers.extend(spec.volatile.iter().filter_map(|v| match v.location {
        Location::ResponseHeader(name) => Some(name.to_ascii_lowercase()),
        _ => None,
    }));
    for name in &compared_headers {
        let of = |answer: &Answer| -> Vec<String> {
            answer
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .collect()
        };
        let (expected, actual) = (of(legacy), of(rosetta));
        if let Some(first) = expected.first() {
            let actual: Vec<&str> = actual.iter().map(String::as_str).collect();
            comparison.header(name, first, &actual);
        } else if let Some(extra) = actual.first() {
            comparison.differences.push(Difference {
                pointer: format!("/headers/{name}"),
                expected: crate::replay::compare::ABSENT.to_owned(),
                actual: Value::from(extra.as_str()).to_string(),
            });
        }
    }
    let legacy_json = serde_json::from_slice::<Value>(&legacy.body)
        .ok()
        .filter(|_| !legacy.body.is_empty());
    match (
        legacy_json,
        std::str::from_utf8(&legacy.body),
        std::str::from_utf8(&rosetta.body),
    ) {
        (Some(expected), _, _) => match serde_json::from_slice::<Value>(&rosetta.body) {
            Ok(actual) => comparison.json("/body", "", &expected, Some(&actual)),
            Err(_) => comparison.differences.push(Difference {
                pointer: "/body".into(),
                expected: expected.to_string(),
                actual: Value::from(String::from_utf8_lossy(&rosetta.body).into_owned())
                    .to_string(),
            }),
        },
        (None, Ok(expected), Ok(actual)) => {
            if expected != actual {
                comparison.differences.push(Difference {
                    pointer: "/body".into(),
                    expected: Value::from(expected).to_string(),
                    actual: Value::from(actual).to_string(),
                });
            }
        }
        _ => {
            if legacy.body != rosetta.body {
                comparison.differences.push(Difference {
                    pointer: "/body".into(),
                    expected: format!("{} bytes", legacy.body.len()),
                    actual: format!("{} other bytes", rosetta.body.len()),
                });
            }
        }
    }
    comparison.differences
}

/// Where the dialect's session credentials and codes sit in a comparison's pointers.
fn secret_pointers(spec: &DialectSpec) -> Vec<String> {
    spec.volatile
        .iter()
        .filter(|v| matches!(v.kind, VolatileKind::Session | VolatileKind::SmsCode { .. }))
        .filter_map(|v| match v.location {
            Location::JsonPointer(p) => Some(format!("/body{p}")),
            Location::ResponseHeader(h) => Some(format!("/headers/{}", h.to_ascii_lowercase())),
            Location::Cookie(c) => Some(format!("/headers/set-cookie/{c}")),
            _ => None,
        })
        .collect()
}

/// A pointer pattern (`*` = any one segment) against a pointer.
fn pointer_matches(pattern: &str, pointer: &str) -> bool {
    let (mut want, mut got) = (pattern.split('/'), pointer.split('/'));
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w == "*" || w == g => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, content_type: &str, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: Bytes::from(body.to_owned()),
        }
    }

    fn spec() -> &'static DialectSpec {
        crate::dialects::find("error_code").expect("error_code is built")
    }

    const JSON: &str = "application/json;charset=utf-8;";

    #[test]
    fn volatile_values_compare_by_type_and_the_rest_exactly() {
        let legacy = answer(
            200,
            JSON,
            r#"{"error_code":0,"error_msg":"请求成功","data":{"token_id":"aaaa","userid":"7"}}"#,
        );
        let ours = answer(
            200,
            JSON,
            r#"{"error_code":0,"error_msg":"success","data":{"token_id":"bbbb","userid":"100000"}}"#,
        );
        let found = differences(spec(), &legacy, &ours);
        assert_eq!(
            found,
            vec![Difference {
                pointer: "/body/error_msg".into(),
                expected: "\"请求成功\"".into(),
                actual: "\"success\"".into()
            }]
        );
        let text = differences(
            spec(),
            &answer(404, "text/html", "gone"),
            &answer(200, JSON, "{}"),
        );
        let pointers: Vec<&str> = text.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/status", "/headers/content-type", "/body"]);
        let binary = differences(
            spec(),
            &Answer {
                body: Bytes::from_static(b"\x89PNG\xff"),
                ..answer(200, "image/png", "")
            },
            &Answer {
                body: Bytes::from_static(b"\x89PNG\xfe"),
                ..answer(200, "image/png", "")
            },
        );
        assert_eq!(binary[0].expected, "5 bytes");
    }

    #[test]
    fn differences_are_counted_kept_redacted_and_bounded() {
        let log = ShadowLog::new(2);
        let rules = Rules::parse(
            "[[rule]]\npointer = \"/error_msg\"\nexpected = \"请求成功\"\nactual = \"success\"\nreason = \"English\"\n",
            "rules.toml",
        )
        .unwrap();
        let asked = Asked {
            method: "POST".into(),
            path: "/api/user/login".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from_static(br#"{"username":"a@b.c","password":"secret1"}"#),
        };
        let legacy = answer(
            200,
            JSON,
            r#"{"error_code":0,"error_msg":"请求成功","data":{"token_id":"aaaa"}}"#,
        );
        let same = answer(
            200,
            JSON,
            r#"{"error_code":0,"error_msg":"请求成功","data":{"token_id":"bbbb"}}"#,
        );
        let english = answer(
            200,
            JSON,
            r#"{"error_code":0,"error_msg":"success","data":{"token_id":"cccc"}}"#,
        );
        let broken = answer(
            200,
            JSON,
            r#"{"error_code":1,"error_msg":"success","data":{"token_id":7}}"#,
        );
        let endpoint = "/api/user/login";
        assert_eq!(
            log.compare(spec(), endpoint, &rules, &asked, &legacy, &same),
            Outcome::Same
        );
        assert_eq!(
            log.compare(spec(), endpoint, &rules, &asked, &legacy, &english),
            Outcome::Accepted
        );
        for _ in 0..3 {
            assert_eq!(
                log.compare(spec(), endpoint, &rules, &asked, &legacy, &broken),
                Outcome::Different
            );
        }
        log.count("error_code", endpoint, Outcome::Skipped);
        let counts = log.counts();
        assert_eq!(
            counts[0].counts,
            Counts {
                same: 1,
                accepted: 1,
                different: 3,
                failed: 0,
                skipped: 1
            }
        );
        let kept = log.kept();
        assert_eq!(kept.len(), 2, "only the newest are kept");
        assert_eq!((kept[0].id, kept[1].id), (3, 2), "numbered as kept");
        let one = log.find(3).unwrap();
        let pointers: Vec<&str> = one.differences.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(pointers, ["/body/error_code", "/body/data/token_id"]);
        assert_eq!(one.differences[1].actual, "(redacted)", "a session value");
        assert_eq!(one.accepted[0].reason, "English");
        let request = serde_json::to_string(&one.request).unwrap();
        assert!(!request.contains("secret1"), "{request}");
        let legacy_body = serde_json::to_string(&one.legacy).unwrap();
        assert!(!legacy_body.contains("aaaa"), "{legacy_body}");
        assert!(log.find(1).is_none());

        let mut text = String::new();
        log.render(&mut text);
        assert!(text.contains(
            "rosetta_shadow_comparisons_total{dialect=\"error_code\",endpoint=\"/api/user/login\",result=\"different\"} 3"
        ), "{text}");
    }
}
