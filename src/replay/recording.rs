//! The recording format: one exchange a line, `{"dialect", "recorded_at", …the exchange}`,
//! written by the recorder and read back as a transcript that replays with rebinding.

use std::path::Path;

use serde_json::{Map, Value};

use super::transcript::{Exchange, FORMAT_VERSION, Transcript};

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

/// Reads a recording (one exchange a line) as a transcript that replays with rebinding.
pub fn parse(text: &str, path: &Path) -> Result<Transcript, String> {
    let mut dialect: Option<String> = None;
    let mut exchanges = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = |message: String| format!("line {}: {message}", index + 1);
        let mut value: Value =
            serde_json::from_str(line).map_err(|e| at(format!("not JSON: {e}")))?;
        let object = value
            .as_object_mut()
            .ok_or_else(|| at("not a JSON object".into()))?;
        let line_dialect = object
            .remove("dialect")
            .and_then(|d| d.as_str().map(str::to_owned))
            .ok_or_else(|| at("field `dialect` is missing".into()))?;
        object.remove("recorded_at");
        match &dialect {
            Some(first) if first != &line_dialect => {
                return Err(at(format!(
                    "dialect `{line_dialect}` differs from `{first}` of the lines before"
                )));
            }
            _ => dialect = Some(line_dialect),
        }
        let exchange: Exchange = serde_json::from_value(value).map_err(|e| at(e.to_string()))?;
        exchanges.push(exchange);
    }
    let dialect = dialect.ok_or("the recording is empty")?;
    Ok(Transcript {
        version: FORMAT_VERSION,
        dialect,
        title: path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
        source: "recorded by rosetta".to_owned(),
        rebind: true,
        settings: Default::default(),
        exchanges,
    })
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
        .unwrap();
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
    fn written_lines_read_back() {
        let exchange: Exchange = serde_json::from_str(
            r#"{"name":"x","request":{"method":"GET","path":"/a"},"response":{"status":200,"text":"ok"}}"#,
        )
        .unwrap();
        let text = line("error_code", 7, &exchange).unwrap();
        let back = parse(&text, Path::new("r.jsonl")).unwrap();
        assert_eq!(back.exchanges, vec![exchange]);
    }
}
