//! Generates one test per golden transcript (`dialects/<id>/transcripts/<name>.json`), named
//! `<id>::<name>`, for `tests/transcripts.rs`; each dialect's tests only with its feature.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=dialects");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("dialects");
    let mut files = Vec::new();
    if let Ok(dialects) = std::fs::read_dir(&root) {
        for dialect in dialects.flatten() {
            let folder = dialect.path().join("transcripts");
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "json") {
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    let mut by_dialect: std::collections::BTreeMap<String, Vec<(String, String)>> =
        Default::default();
    for path in files {
        let Ok(relative) = path.strip_prefix(env!("CARGO_MANIFEST_DIR")) else {
            continue;
        };
        let dialect = relative
            .iter()
            .nth(1)
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        by_dialect
            .entry(dialect)
            .or_default()
            .push((name, relative.display().to_string()));
    }
    let mut code = String::new();
    for (dialect, tests) in by_dialect {
        let _ = writeln!(
            code,
            "#[cfg(feature = \"{dialect}\")]
mod {dialect} {{
    use super::replay_golden;
"
        );
        for (name, relative) in tests {
            let _ = writeln!(
                code,
                "    #[actix_web::test]\n    async fn {name}() {{\n        replay_golden({relative:?}).await;\n    }}\n"
            );
        }
        code.push_str("}\n");
    }
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("transcript_tests.rs");
    std::fs::write(out, code).expect("write generated tests");
}
