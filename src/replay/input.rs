//! Loading every input format the replayer takes — transcripts (`.json`), recordings
//! (`.jsonl`) and HAR captures (`.har`) — as one checked transcript, the file named in errors.

use std::path::{Path, PathBuf};

use super::har;
use super::recording;
use super::transcript::{self, Transcript};

/// Why a transcript cannot be used; the message names file, exchange and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct LoadError {
    pub file: String,
    pub message: String,
}

/// A transcript with where it came from (sidecar files are found next to it).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: PathBuf,
    pub transcript: Transcript,
    /// Lines of a recording that could not be read and were left out (`line N: why`).
    pub skipped: Vec<String>,
}

/// Loads a transcript (`.json`), a recording (`.jsonl`, one exchange a line) or a HAR capture
/// (`.har`, needs the dialect; `har_filter` keeps one host and prefix).
pub fn load(
    path: &Path,
    dialect: Option<&str>,
    har_filter: &har::Filter,
) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let error = |message: String| LoadError {
        file: file.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut skipped = Vec::new();
    let mut transcript = match extension {
        "har" => {
            let dialect = dialect.ok_or_else(|| error("a HAR file needs --dialect".into()))?;
            har::to_transcript(&text, dialect, har_filter).map_err(error)?
        }
        "jsonl" => {
            let read = recording::parse(&text, path).map_err(error)?;
            skipped = read.skipped;
            read.transcript
        }
        _ => transcript::parse(&text).map_err(error)?,
    };
    if let Some(dialect) = dialect {
        transcript.dialect = dialect.to_owned();
    }
    transcript::validate(&transcript, path).map_err(error)?;
    Ok(Loaded {
        file: path.to_owned(),
        transcript,
        skipped,
    })
}
