//! The house rules that a compiler cannot see: dialects never touch storage, the two migration
//! trees match, and the example configuration is complete and valid.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line, without its `//` comment.
fn code_of(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

#[test]
fn dialects_never_use_diesel_or_storage() {
    let mut files = Vec::new();
    rust_files(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("dialects")
            .as_path(),
        &mut files,
    );
    assert!(!files.is_empty());
    let mut hits = Vec::new();
    for file in files {
        for (number, line) in fs::read_to_string(&file).unwrap().lines().enumerate() {
            let code = code_of(line);
            if code.contains("diesel") || code.contains("storage") {
                hits.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "dialects must call the service only:\n{}",
        hits.join("\n")
    );
}

/// `table -> columns` of every CREATE TABLE in a migration tree.
fn tables(tree: &str) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(tree);
    let mut names: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut tables = BTreeMap::new();
    for name in &names {
        let sql = fs::read_to_string(root.join(name).join("up.sql")).unwrap();
        assert!(
            root.join(name).join("down.sql").exists(),
            "{tree}/{name} has no down.sql"
        );
        let mut current: Option<(String, Vec<String>)> = None;
        for line in sql.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                let table = rest.trim_end_matches('(').trim().to_owned();
                current = Some((table, Vec::new()));
            } else if line.starts_with(')') {
                if let Some((table, columns)) = current.take() {
                    tables.insert(table, columns);
                }
            } else if let Some((_, columns)) = current.as_mut() {
                let first = line.split_whitespace().next().unwrap_or("");
                if !first.is_empty()
                    && !["PRIMARY", "UNIQUE", "CONSTRAINT", "FOREIGN", "CHECK"].contains(&first)
                {
                    columns.push(first.to_owned());
                }
            }
        }
    }
    (names, tables)
}

#[test]
fn both_migration_trees_have_the_same_names_and_columns() {
    let (sqlite_names, sqlite) = tables("sqlite");
    let (postgres_names, postgres) = tables("postgres");
    assert_eq!(sqlite_names, postgres_names);
    assert_eq!(sqlite, postgres);
    assert!(sqlite.len() >= 15, "{:?}", sqlite.keys());
    assert!(sqlite["users"].contains(&"nickname".to_owned()));
}

#[test]
fn the_example_configuration_is_valid_and_documents_every_key() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(root.join("examples/rosetta.toml")).unwrap();
    let settings = rosetta::settings::Settings::from_toml(&text).expect("examples/rosetta.toml");
    assert_eq!(settings.database.url, "sqlite://rosetta.db");
    // Every key of the contract appears, each under a comment.
    let mut keys = vec![
        "url",
        "pool_size",
        "listen",
        "admin_token",
        "provider",
        "fallback",
        "webhook_url",
        "access_key_id",
        "access_key_secret",
        "sign_name",
        "template_code",
        "endpoint",
        "signature",
        "secret_id",
        "secret_key",
        "sdk_app_id",
        "template_id",
        "region",
        "code_ttl_seconds",
        "resend_interval_seconds",
        "daily_limit_per_phone",
        "hourly_limit_per_ip",
        "bcrypt_cost",
        "lockout_threshold",
        "login_attempts_per_ip_per_minute",
        "enabled",
        "fixed_code",
        "dir",
        "redact",
        "prefix",
        "mode",
        "legacy_url",
        "client_labels",
        "timeout_seconds",
        "accept",
        "keep_differences",
        "shadow_in_flight",
    ];
    for spec in rosetta::dialects::registry() {
        assert!(
            text.contains(&format!("[dialects.{}]", spec.id)),
            "section of {}",
            spec.id
        );
        keys.extend(spec.own_keys.iter().map(|k| k.name));
    }
    let lines: Vec<&str> = text.lines().collect();
    for key in keys {
        let at = lines
            .iter()
            .position(|l| {
                let l = l.trim_start_matches('#').trim();
                l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}="))
            })
            .unwrap_or_else(|| panic!("examples/rosetta.toml does not mention `{key}`"));
        assert!(
            at > 0 && lines[at - 1].trim_start().starts_with('#'),
            "`{key}` has no comment above it"
        );
    }
    let postgres = fs::read_to_string(root.join("examples/postgres.toml")).unwrap();
    let settings =
        rosetta::settings::Settings::from_toml(&postgres).expect("examples/postgres.toml");
    assert!(settings.database.url.starts_with("postgres://"));
}

#[test]
fn every_dialect_has_a_readme_with_known_quirks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("dialects");
    assert!(root.join("README.md").exists());
    for spec in rosetta::dialects::registry() {
        let readme = fs::read_to_string(root.join(spec.id).join("README.md")).unwrap_or_default();
        assert!(
            readme.contains("Known quirks"),
            "dialects/{}/README.md",
            spec.id
        );
        for route in spec.routes {
            assert!(
                !route.source.is_empty(),
                "{} {} cites no document section",
                route.methods.join("|"),
                route.path
            );
        }
    }
}

/// Lines of code in `file` (comments left out) that contain any of `needles`.
fn code_hits(file: &Path, needles: &[&str]) -> Vec<String> {
    fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .lines()
        .enumerate()
        .filter(|(_, line)| needles.iter().any(|n| code_of(line).contains(n)))
        .map(|(number, line)| format!("{}:{}: {}", file.display(), number + 1, line.trim()))
        .collect()
}

/// The replay modules form layers: the transcript format knows no input format, the input
/// formats know the transcript, loading knows them all, and nothing in `replay/` knows the
/// server or the command that starts one (`replay_cli` sits above both).
#[test]
fn replay_modules_have_no_import_circles() {
    let replay = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/replay");
    let mut hits = code_hits(
        &replay.join("transcript.rs"),
        &["har::", "recorder::", "recording::", "input::"],
    );
    for format in ["har.rs", "recording.rs"] {
        hits.extend(code_hits(&replay.join(format), &["input::", "recorder::"]));
    }
    let mut files = Vec::new();
    rust_files(&replay, &mut files);
    for file in files {
        hits.extend(code_hits(&file, &["startup", "replay_cli"]));
    }
    assert!(hits.is_empty(), "{}", hits.join("\n"));
}

/// Every path-segment location a dialect declares for record and replay names one of its routes.
#[test]
fn volatile_path_segments_name_a_route() {
    for spec in rosetta::dialects::registry() {
        for volatile in spec.volatile {
            if let rosetta::dialects::Location::PathSegment { pattern, index } = volatile.location {
                let route = spec.routes.iter().find(|r| r.template() == pattern);
                assert!(
                    route.is_some(),
                    "{}: {pattern} is not the template of a route",
                    spec.id
                );
                assert!(
                    pattern
                        .trim_start_matches('/')
                        .split('/')
                        .nth(index)
                        .is_some(),
                    "{}: {pattern} has no segment {index}",
                    spec.id
                );
            }
        }
    }
}

/// Every route a dialect declares side-effect free (shadow mode sends those to the legacy
/// backend too) is one of its routes, as the route table writes it; and the writes of the
/// account core (register, log in, change a password) are never among them.
#[test]
fn declared_reads_name_a_route_and_no_write() {
    for spec in rosetta::dialects::registry() {
        for read in spec.reads {
            assert!(
                spec.routes.iter().any(|r| r.path == *read),
                "{}: {read} is not a route pattern",
                spec.id
            );
            // The route's own words, its parameters left out.
            let words = read
                .split('/')
                .filter(|segment| !segment.starts_with('{'))
                .collect::<Vec<_>>()
                .join("/")
                .to_ascii_lowercase();
            for write in [
                "login", "reg", "pwd", "password", "logout", "send", "edit", "update",
            ] {
                assert!(
                    !words.contains(write),
                    "{}: {read} looks like a write",
                    spec.id
                );
            }
        }
    }
}

/// Every text file of the repository (sources, docs, transcripts, examples, scripts).
fn repository_files() -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with('.') && name != ".ci" || name == "target" {
                continue;
            }
            if path.is_dir() {
                walk(&path, out);
            } else if ["rs", "md", "json", "toml", "sh", "sql", "jsonl", "har"]
                .iter()
                .any(|e| path.extension().is_some_and(|x| x == *e))
                || path.ends_with(".ci/run")
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(env!("CARGO_MANIFEST_DIR")), &mut out);
    out
}

/// A user who clones the repository has nothing beside it: no file sends readers, or tests,
/// to the material the project was built from.
#[test]
fn the_repository_stands_alone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let this_file = root.join("tests/architecture.rs");
    let forbidden = ["../shared", "BEHAVIOUR", "spec/0", "spec/PROVIDERS"];
    let mut hits = Vec::new();
    for file in repository_files() {
        if file == this_file {
            continue;
        }
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if forbidden.iter().any(|f| line.contains(f)) {
                hits.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(hits.is_empty(), "{}", hits.join("\n"));
}

/// Relative links in the Markdown files point at files that exist.
#[test]
fn markdown_links_resolve() {
    let link = regex::Regex::new(r"\]\(([^)#\s]+)(?:#[^)]*)?\)").unwrap();
    let mut broken = Vec::new();
    for file in repository_files() {
        if file.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        for capture in link.captures_iter(&text) {
            let target = &capture[1];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = file.parent().unwrap().join(target);
            if !resolved.exists() {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
