//! Everything `rosetta replay` loads: transcripts (parsed and checked), recordings (line by
//! line) and HAR captures (with and without filters).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rosetta::replay::{har, recording, transcript};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = transcript::parse(text) {
        let _ = transcript::validate(&parsed, Path::new("/nonexistent/fuzz.json"));
        let _ = parsed.settings_toml();
    }
    let _ = recording::parse(text, Path::new("/nonexistent/fuzz.jsonl"));
    for dialect in ["error_code", "code_result", "nonsense"] {
        let _ = har::to_transcript(text, dialect, &har::Filter::default());
        let filter = har::Filter {
            host: Some("api.example.com".to_owned()),
            prefix: Some("/blueu".to_owned()),
        };
        let _ = har::to_transcript(text, dialect, &filter);
    }
});
