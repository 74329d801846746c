//! The recording format: one exchange a line, `{"dialect", "recorded_at", …the exchange}`,
//! written by the recorder and read back as a transcript that replays with rebinding.

use std::path::Path;

use serde_json::{Map, Value};

use super::transcript::{Exchange, FORMAT_VERSION, Transcript, check_exchange};

/// One line of a recording (without its newline).
pub fn line(
    dialect: &str,
    recorded_at_ms: i64,
    exchange: &Exchange,
) -> Result<String, serde_json::Error> {
    let mut object = Map::new();
    object.insert("dialect".into(), Value::from(dialect));
    object.insert("recorded_at".into(), Value::from(recorded_at_ms));
    if let Value::Object(fields) = serde_json::to_value(exchange)? {
        object.extend(fields);
    }
    serde_json::to_string(&Value::Object(object))
}

/// A recording read back: the exchanges that can be replayed, and the lines that could not be
/// read (`line N: why`), which are skipped rather than spoiling the whole file.
#[derive(Debug, Clone)]
pub struct ReadBack {
    pub transcript: Transcript,
    pub skipped: Vec<String>,
}

/// Reads a recording (one exchange a line) as a transcript that replays with rebinding. The
/// dialect is the first readable line's; a line that cannot be read, or of another dialect, is
/// skipped and reported. Only a recording with no readable line at all is refused.
pub fn parse(text: &str, path: &Path) -> Result<ReadBack, String> {
    let mut dialect: Option<String> = None;
    let mut exchanges = Vec::new();
    let mut skipped = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match read_line(line, path, dialect.as_deref()) {
            Ok((line_dialect, exchange)) => {
                dialect.get_or_insert(line_dialect);
                exchanges.push(exchange);
            }
            Err(message) => skipped.push(format!("line {}: {message}", index + 1)),
        }
    }
    let Some(dialect) = dialect else {
        return Err(match skipped.first() {
            Some(first) => format!("no line of the recording can be replayed ({first})"),
            None => "the recording is empty".to_owned(),
        });
    };
    Ok(ReadBack {
        transcript: Transcript {
            version: FORMAT_VERSION,
            dialect,
            title: path
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
            source: "recorded by rosetta".to_owned(),
            rebind: true,
            settings: Default::default(),
            exchanges,
        },
        skipped,
    })
}

/// One line: its dialect and its exchange, checked as a transcript's would be.
fn read_line(line: &str, path: &Path, dialect: Option<&str>) -> Result<(String, Exchange), String> {
    let mut value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object_mut().ok_or("not a JSON object")?;
    let line_dialect = object
        .remove("dialect")
        .and_then(|d| d.as_str().map(str::to_owned))
        .ok_or("field `dialect` is missing")?;
    if let Some(first) = dialect
        && first != line_dialect
    {
        return Err(format!(
            "dialect `{line_dialect}` differs from `{first}` of the lines before"
        ));
    }
    let exchange: Exchange = serde_json::from_value(value).map_err(|e| e.to_string())?;
    check_exchange(&exchange, path)?;
    Ok((line_dialect, exchange))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_parse_back() {
        let line = r#"{"dialect":"error_code","recorded_at":1,"name":"GET /api/user/1","request":{"method":"GET","path":"/api/user/1"},"response":{"status":200,"text":""}}"#;
        let t = parse(
            &format!("{line}\n\n{line}\n"),
            Path::new("error_code-2026-11-21.jsonl"),
        )
        .unwrap()
        .transcript;
        assert!(t.rebind);
        assert_eq!(
            (t.dialect.as_str(), t.exchanges.len(), t.title.as_str()),
            ("error_code", 2, "error_code-2026-11-21")
        );
        assert!(
            parse("{}", Path::new("x.jsonl"))
                .unwrap_err()
                .contains("line 1")
        );
    }

    #[test]
    fn unreadable_lines_are_skipped_and_reported_not_fatal() {
        let good = r#"{"dialect":"error_code","recorded_at":1,"name":"GET /a","request":{"method":"GET","path":"/a"},"response":{"status":200,"text":""}}"#;
        let star = r#"{"dialect":"error_code","recorded_at":2,"name":"OPTIONS *","request":{"method":"OPTIONS","path":"*"},"response":{"status":404,"text":""}}"#;
        let other = r#"{"dialect":"rest","recorded_at":3,"name":"GET /b","request":{"method":"GET","path":"/b"},"response":{"status":200,"text":""}}"#;
        let text = format!("{good}\n{star}\nnot json\n{other}\n{good}\n");
        let read = parse(&text, Path::new("error_code-2026-12-01.jsonl")).unwrap();
        assert_eq!(read.transcript.exchanges.len(), 2);
        assert_eq!(read.skipped.len(), 3, "{:?}", read.skipped);
        assert!(read.skipped[0].starts_with("line 2: field `request.path`"));
        assert!(read.skipped[1].starts_with("line 3: not JSON"));
        assert!(read.skipped[2].starts_with("line 4: dialect `rest` differs"));
        let none = parse(star, Path::new("x.jsonl")).unwrap_err();
        assert!(
            none.starts_with("no line of the recording can be replayed (line 1:"),
            "{none}"
        );
    }

    #[test]
    fn written_lines_read_back() {
        let exchange: Exchange = serde_json::from_str(
            r#"{"name":"x","request":{"method":"GET","path":"/a"},"response":{"status":200,"text":"ok"}}"#,
        )
        .unwrap();
        let text = line("error_code", 7, &exchange).unwrap();
        let back = parse(&text, Path::new("r.jsonl")).unwrap().transcript;
        let timed = Exchange {
            recorded_at: Some(7),
            ..exchange
        };
        assert_eq!(
            back.exchanges,
            vec![timed],
            "with its time, for --pace recorded"
        );
    }
}
