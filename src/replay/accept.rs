//! Accepted differences: a team's rules for the deviations it has decided to keep (a message in
//! another language, a legacy bug fixed), so that a replay or a shadow comparison reports only
//! the unexpected ones, and which rules matched how often.
//!
//! A rules file is TOML, one `[[rule]]` table per rule:
//!
//! ```toml
//! [[rule]]
//! name = "success message"            # shown in reports; "rule N" when left out
//! dialect = "error_code"              # optional: every dialect when left out
//! routes = ["POST /api/user/login", "GET /api/user/{id}"]   # optional: every route
//! pointer = "/message"                # where: a JSON pointer into the body (`*` = any one
//!                                     # segment, a last `**` = anything below), or
//!                                     # header = "content-type", or status = true
//! expected = "请求成功"                # what to accept: the legacy value and ours …
//! actual = "success"
//! reason = "we answer in English"     # … or any difference there, for this reason
//! # ignore = true                     # … or any difference there, not even listed
//! ```

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;

use super::compare::Difference;

/// One rule as the file gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    dialect: Option<String>,
    #[serde(default)]
    routes: Vec<String>,
    pointer: Option<String>,
    header: Option<String>,
    #[serde(default)]
    status: bool,
    expected: Option<toml::Value>,
    actual: Option<toml::Value>,
    reason: Option<String>,
    #[serde(default)]
    ignore: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

/// Where in an answer a rule applies.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A pattern of difference pointers under `/body`, by segment.
    Body(Vec<String>),
    /// A header, by lower-case name (its cookies included).
    Header(String),
    Status,
}

/// A `METHOD /path` pattern: `*` for any method, `{name}` or `*` for any one segment, a last
/// `**` for any rest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    methods: Option<BTreeSet<String>>,
    segments: Vec<String>,
}

impl Route {
    fn parse(text: &str) -> Result<Route, String> {
        let (method, path) = text.trim().split_once(' ').ok_or_else(|| {
            format!("route `{text}` must be a method and a path: `GET /users/{{id}}`")
        })?;
        let path = path.trim();
        if !path.starts_with('/') {
            return Err(format!("route `{text}`: the path must start with /"));
        }
        let methods = match method.trim() {
            "*" => None,
            list => Some(
                list.split('|')
                    .map(|m| m.trim().to_ascii_uppercase())
                    .collect(),
            ),
        };
        Ok(Route {
            methods,
            segments: segments(path.split('?').next().unwrap_or(path)),
        })
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if let Some(methods) = &self.methods
            && !methods.contains(&method.to_ascii_uppercase())
        {
            return false;
        }
        let path = path.split('?').next().unwrap_or(path);
        segments_match(&self.segments, &segments(path))
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `pattern` against `actual`, segment by segment: `*` and `{…}` match one, a last `**` the rest.
fn segments_match(pattern: &[String], actual: &[String]) -> bool {
    match (pattern.first(), actual.first()) {
        (Some(last), _) if last == "**" && pattern.len() == 1 => true,
        (None, None) => true,
        (Some(want), Some(got)) => {
            let one = want == "*" || (want.starts_with('{') && want.ends_with('}')) || want == got;
            one && segments_match(&pattern[1..], &actual[1..])
        }
        _ => false,
    }
}

/// What a matching rule does with the difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Dropped without a word.
    Ignored,
    /// Kept in the report as accepted, with the rule's reason.
    Accepted(String),
}

/// One rule, checked.
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    dialect: Option<String>,
    routes: Vec<Route>,
    place: Place,
    /// The differences' expected and actual values as they are printed (JSON text).
    expected: Option<String>,
    actual: Option<String>,
    reason: Option<String>,
    ignore: bool,
    hits: AtomicU64,
}

impl Rule {
    fn from_raw(index: usize, raw: RawRule) -> Result<Rule, String> {
        let name = raw
            .name
            .clone()
            .unwrap_or_else(|| format!("rule {}", index + 1));
        let at = |problem: String| format!("[[rule]] {} ({name}): {problem}", index + 1);
        let place = match (&raw.pointer, &raw.header, raw.status) {
            (Some(pointer), None, false) => {
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    return Err(at(format!("pointer `{pointer}` must start with /")));
                }
                Place::Body(pointer.split('/').skip(1).map(str::to_owned).collect())
            }
            (None, Some(header), false) => Place::Header(header.trim().to_ascii_lowercase()),
            (None, None, true) => Place::Status,
            _ => {
                return Err(at(
                    "needs exactly one of pointer = \"/json/pointer\", header = \"name\" or \
                     status = true"
                        .to_owned(),
                ));
            }
        };
        if !raw.ignore && raw.expected.is_none() && raw.actual.is_none() && raw.reason.is_none() {
            return Err(at(
                "says nothing to accept: give ignore = true, expected and actual values, or a \
                 reason"
                    .to_owned(),
            ));
        }
        if raw.ignore && (raw.expected.is_some() || raw.actual.is_some()) {
            return Err(at(
                "ignore = true accepts any value: leave out expected and actual, or ignore"
                    .to_owned(),
            ));
        }
        let routes = raw
            .routes
            .iter()
            .map(|r| Route::parse(r))
            .collect::<Result<_, _>>()
            .map_err(at)?;
        let shown = |value: Option<toml::Value>| -> Result<Option<String>, String> {
            value
                .map(|v| {
                    serde_json::to_value(&v)
                        .map(|json| json.to_string())
                        .map_err(|e| at(e.to_string()))
                })
                .transpose()
        };
        Ok(Rule {
            dialect: raw.dialect,
            routes,
            place,
            expected: shown(raw.expected)?,
            actual: shown(raw.actual)?,
            reason: raw.reason,
            ignore: raw.ignore,
            hits: AtomicU64::new(0),
            name,
        })
    }

    fn applies(&self, dialect: &str, method: &str, path: &str, difference: &Difference) -> bool {
        if self.dialect.as_deref().is_some_and(|d| d != dialect) {
            return false;
        }
        if !self.routes.is_empty() && !self.routes.iter().any(|r| r.matches(method, path)) {
            return false;
        }
        let place = match &self.place {
            Place::Status => difference.pointer == "/status",
            Place::Header(name) => difference
                .pointer
                .strip_prefix("/headers/")
                .is_some_and(|rest| rest == name || rest.starts_with(&format!("{name}/"))),
            Place::Body(pattern) => difference
                .pointer
                .strip_prefix("/body")
                .is_some_and(|rest| {
                    let actual: Vec<String> = rest.split('/').skip(1).map(str::to_owned).collect();
                    pointer_match(pattern, &actual)
                }),
        };
        place
            && self
                .expected
                .as_ref()
                .is_none_or(|want| *want == difference.expected)
            && self
                .actual
                .as_ref()
                .is_none_or(|want| *want == difference.actual)
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn verdict(&self) -> Verdict {
        if self.ignore {
            Verdict::Ignored
        } else {
            // Without a reason of its own, the rule's name says why.
            Verdict::Accepted(self.reason.clone().unwrap_or_else(|| self.name.clone()))
        }
    }
}

/// JSON pointer segments: `*` matches one segment, a last `**` any rest (even none).
fn pointer_match(pattern: &[String], actual: &[String]) -> bool {
    match (pattern.first(), actual.first()) {
        (Some(last), _) if last == "**" && pattern.len() == 1 => true,
        (None, None) => true,
        (Some(want), Some(got)) => {
            (want == "*" || want == got) && pointer_match(&pattern[1..], &actual[1..])
        }
        _ => false,
    }
}

/// A difference a rule accepted, with the rule's reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Accepted {
    pub difference: Difference,
    pub rule: String,
    pub reason: String,
}

/// What is left of an exchange's differences once the rules have been applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sorted {
    pub unexpected: Vec<Difference>,
    pub accepted: Vec<Accepted>,
    /// Differences dropped by `ignore` rules.
    pub ignored: usize,
}

/// A rules file, loaded; its hit counters are shared by every comparison that uses it.
#[derive(Debug, Default)]
pub struct Rules {
    pub source: String,
    pub rules: Vec<Rule>,
}

impl Rules {
    pub fn load(path: &Path) -> Result<Rules, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Rules::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source: &str) -> Result<Rules, String> {
        let file: RawFile = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        let rules = file
            .rule
            .into_iter()
            .enumerate()
            .map(|(index, raw)| Rule::from_raw(index, raw))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{source}: {e}"))?;
        Ok(Rules {
            source: source.to_owned(),
            rules,
        })
    }

    /// Sorts the differences of one exchange (`path` relative to the dialect's prefix): the
    /// first rule that applies to a difference decides it and counts a hit.
    pub fn sort(
        &self,
        dialect: &str,
        method: &str,
        path: &str,
        differences: Vec<Difference>,
    ) -> Sorted {
        let mut sorted = Sorted::default();
        for difference in differences {
            let rule = self
                .rules
                .iter()
                .find(|rule| rule.applies(dialect, method, path, &difference));
            match rule {
                None => sorted.unexpected.push(difference),
                Some(rule) => {
                    rule.hits.fetch_add(1, Ordering::Relaxed);
                    match rule.verdict() {
                        Verdict::Ignored => sorted.ignored += 1,
                        Verdict::Accepted(reason) => sorted.accepted.push(Accepted {
                            difference,
                            rule: rule.name.clone(),
                            reason,
                        }),
                    }
                }
            }
        }
        sorted
    }

    /// One line per rule: how often it matched, or that it never did.
    pub fn report(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|rule| match rule.hits() {
                0 => format!("rule \"{}\": never matched", rule.name),
                1 => format!("rule \"{}\": matched 1 difference", rule.name),
                n => format!("rule \"{}\": matched {n} differences", rule.name),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn difference(pointer: &str, expected: Value, actual: Value) -> Difference {
        Difference {
            pointer: pointer.to_owned(),
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }

    const RULES: &str = r#"
[[rule]]
name = "success message"
dialect = "error_code"
routes = ["POST /api/user/login", "GET|HEAD /api/user/{id}"]
pointer = "/message"
expected = "请求成功"
actual = "success"

[[rule]]
name = "server header"
header = "server"
ignore = true

[[rule]]
name = "legacy 500 on numeric phone"
routes = ["* /api/**"]
status = true
expected = 500
reason = "the legacy server crashed on a numeric phone; we answer the documented error"

[[rule]]
name = "list items"
pointer = "/data/*/updatedAt"
reason = "timestamps kept as the legacy server's"

[[rule]]
name = "unused"
pointer = "/nowhere/**"
ignore = true
"#;

    #[test]
    fn rules_accept_only_what_they_name() {
        let rules = Rules::parse(RULES, "rules.toml").unwrap();
        let sorted = rules.sort(
            "error_code",
            "POST",
            "/api/user/login?x=1",
            vec![
                difference("/body/message", "请求成功".into(), "success".into()),
                difference("/body/code", 200.into(), 0.into()),
                difference("/headers/server", "nginx".into(), Value::from("(absent)")),
                difference("/status", 500.into(), 200.into()),
            ],
        );
        assert_eq!(sorted.ignored, 1);
        assert_eq!(
            sorted.unexpected,
            vec![difference("/body/code", 200.into(), 0.into())]
        );
        assert_eq!(
            sorted
                .accepted
                .iter()
                .map(|a| (a.rule.as_str(), a.difference.pointer.as_str()))
                .collect::<Vec<_>>(),
            vec![
                ("success message", "/body/message"),
                ("legacy 500 on numeric phone", "/status")
            ]
        );
        assert!(
            sorted.accepted[1]
                .reason
                .starts_with("the legacy server crashed")
        );

        // Another value, another route, another dialect: not accepted.
        for (dialect, method, path, actual) in [
            ("error_code", "POST", "/api/user/login", "ok"),
            ("error_code", "POST", "/api/user/register", "success"),
            ("rest", "POST", "/api/user/login", "success"),
            ("error_code", "PUT", "/api/user/100", "success"),
        ] {
            let sorted = rules.sort(
                dialect,
                method,
                path,
                vec![difference(
                    "/body/message",
                    "请求成功".into(),
                    actual.into(),
                )],
            );
            assert_eq!(
                sorted.unexpected.len(),
                1,
                "{dialect} {method} {path} {actual}"
            );
        }
        let on_a_user = rules.sort(
            "error_code",
            "GET",
            "/api/user/100",
            vec![
                difference("/body/message", "请求成功".into(), "success".into()),
                difference("/body/data/3/updatedAt", 1.into(), 2.into()),
                difference("/body/data/3/name", "a".into(), "b".into()),
            ],
        );
        assert_eq!(on_a_user.accepted.len(), 2);
        assert_eq!(on_a_user.unexpected.len(), 1);

        assert_eq!(
            rules.report(),
            vec![
                "rule \"success message\": matched 2 differences",
                "rule \"server header\": matched 1 difference",
                "rule \"legacy 500 on numeric phone\": matched 1 difference",
                "rule \"list items\": matched 1 difference",
                "rule \"unused\": never matched",
            ]
        );
    }

    #[test]
    fn unusable_rules_are_refused_with_their_place() {
        for (text, expected) in [
            (
                "[[rule]]\nreason = \"x\"\n",
                "[[rule]] 1 (rule 1): needs exactly one of",
            ),
            (
                "[[rule]]\npointer = \"/a\"\nheader = \"b\"\nreason = \"x\"\n",
                "needs exactly one of",
            ),
            ("[[rule]]\npointer = \"/a\"\n", "says nothing to accept"),
            (
                "[[rule]]\npointer = \"a\"\nignore = true\n",
                "must start with /",
            ),
            (
                "[[rule]]\nname = \"n\"\npointer = \"/a\"\nignore = true\nexpected = 1\n",
                "[[rule]] 1 (n): ignore = true accepts any value",
            ),
            (
                "[[rule]]\npointer = \"/a\"\nignore = true\nroutes = [\"/a\"]\n",
                "must be a method and a path",
            ),
            (
                "[[rule]]\npointer = \"/a\"\nignore = true\nwhere = 1\n",
                "unknown field `where`",
            ),
            ("[[rule]\n", "rules.toml"),
        ] {
            let err = Rules::parse(text, "rules.toml").unwrap_err();
            assert!(err.starts_with("rules.toml: "), "{err}");
            assert!(err.contains(expected), "{text}: {err}");
        }
        assert!(Rules::parse("", "empty.toml").unwrap().rules.is_empty());
    }
}
