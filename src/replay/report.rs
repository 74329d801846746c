//! Reports: one line per exchange with its differences, the closing `N passed, M failed` line,
//! and JUnit XML.

use std::fmt::Write;
use std::time::Duration;

use super::accept::Accepted;
use super::compare::Difference;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// Not run: an earlier exchange of the transcript failed.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct ExchangeOutcome {
    pub name: String,
    pub verdict: Verdict,
    pub differences: Vec<Difference>,
    /// Differences the accepted-differences rules allow (with their reasons).
    pub accepted: Vec<Accepted>,
    /// Why the exchange could not be run (unreachable target, unbound placeholder, …).
    pub error: Option<String>,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct TranscriptReport {
    pub file: String,
    pub title: String,
    pub exchanges: Vec<ExchangeOutcome>,
}

impl TranscriptReport {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.exchanges
            .iter()
            .filter(|e| e.verdict == verdict)
            .count()
    }

    pub fn passed(&self) -> bool {
        self.count(Verdict::Failed) == 0 && self.count(Verdict::Skipped) == 0
    }

    /// The lines a person reads: one per exchange, differences indented under failures.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (index, outcome) in self.exchanges.iter().enumerate() {
            let word = match outcome.verdict {
                Verdict::Passed => "PASS",
                Verdict::Failed => "FAIL",
                Verdict::Skipped => "SKIP",
            };
            lines.push(format!(
                "{word} {} #{} {} ({} ms)",
                self.file,
                index + 1,
                outcome.name,
                outcome.elapsed.as_millis()
            ));
            if let Some(error) = &outcome.error {
                lines.push(format!("     {error}"));
            }
            for difference in &outcome.differences {
                lines.push(format!("     {difference}"));
            }
            for accepted in &outcome.accepted {
                lines.push(format!(
                    "     accepted {} ({})",
                    accepted.difference, accepted.reason
                ));
            }
        }
        lines
    }
}

/// `N passed, M failed` (and `, K skipped` when some were not run).
pub fn closing_line(reports: &[TranscriptReport]) -> String {
    let sum = |verdict| reports.iter().map(|r| r.count(verdict)).sum::<usize>();
    let (passed, failed, skipped) = (
        sum(Verdict::Passed),
        sum(Verdict::Failed),
        sum(Verdict::Skipped),
    );
    if skipped > 0 {
        format!("{passed} passed, {failed} failed, {skipped} skipped")
    } else {
        format!("{passed} passed, {failed} failed")
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a test suite per transcript, a test case per exchange.
pub fn junit(reports: &[TranscriptReport]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for report in reports {
        let time: f64 = report
            .exchanges
            .iter()
            .map(|e| e.elapsed.as_secs_f64())
            .sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{time:.3}\">",
            escape(&report.file),
            report.exchanges.len(),
            report.count(Verdict::Failed),
            report.count(Verdict::Skipped)
        );
        for outcome in &report.exchanges {
            let _ = write!(
                xml,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&report.file),
                escape(&outcome.name),
                outcome.elapsed.as_secs_f64()
            );
            match outcome.verdict {
                Verdict::Passed => xml.push_str("/>\n"),
                Verdict::Skipped => {
                    xml.push_str("><skipped message=\"an earlier exchange failed\"/></testcase>\n")
                }
                Verdict::Failed => {
                    let mut details: Vec<String> = outcome.error.iter().cloned().collect();
                    details.extend(outcome.differences.iter().map(ToString::to_string));
                    let message = details.first().cloned().unwrap_or_default();
                    let _ = writeln!(
                        xml,
                        "><failure message=\"{}\">{}</failure></testcase>",
                        escape(&message),
                        escape(&details.join("\n"))
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> TranscriptReport {
        TranscriptReport {
            file: "a&b.json".into(),
            title: String::new(),
            exchanges: vec![
                ExchangeOutcome {
                    name: "ok".into(),
                    verdict: Verdict::Passed,
                    differences: vec![],
                    accepted: Vec::new(),
                    error: None,
                    elapsed: Duration::from_millis(3),
                },
                ExchangeOutcome {
                    name: "bad <one>".into(),
                    verdict: Verdict::Failed,
                    differences: vec![Difference {
                        pointer: "/body/x".into(),
                        expected: "\"1\"".into(),
                        actual: "1".into(),
                    }],
                    accepted: Vec::new(),
                    error: None,
                    elapsed: Duration::from_millis(1),
                },
                ExchangeOutcome {
                    name: "later".into(),
                    verdict: Verdict::Skipped,
                    differences: vec![],
                    accepted: Vec::new(),
                    error: None,
                    elapsed: Duration::ZERO,
                },
            ],
        }
    }

    #[test]
    fn lines_and_closing_line() {
        let lines = report().lines();
        assert_eq!(lines[0], "PASS a&b.json #1 ok (3 ms)");
        assert_eq!(lines[2], "     /body/x: expected \"1\", actual 1");
        assert_eq!(closing_line(&[report()]), "1 passed, 1 failed, 1 skipped");
    }

    #[test]
    fn junit_is_well_formed_xml() {
        let xml = junit(&[report()]);
        let mut reader = quick_xml::Reader::from_str(&xml);
        let mut depth = 0i32;
        let mut failures = 0;
        loop {
            match reader.read_event().expect("well-formed XML") {
                quick_xml::events::Event::Start(e) => {
                    depth += 1;
                    if e.name().as_ref() == b"failure" {
                        failures += 1;
                    }
                }
                quick_xml::events::Event::End(_) => depth -= 1,
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!((depth, failures), (0, 1));
        assert!(xml.contains("a&amp;b.json") && xml.contains("bad &lt;one&gt;"));
    }
}
