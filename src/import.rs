//! `rosetta import`: legacy users from a CSV or JSONL file into the account core, their ids
//! and password hashes kept (wrapped, never stored weak), with a report of what was imported,
//! what was already there, what another account holds and what could not be read.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::domain::identity::Username;
use crate::domain::phone::Phone;
use crate::domain::profile::{Gender, ProfilePatch, Role, TextField};
use crate::domain::{CoreError, UserId};
use crate::service::Service;
use crate::service::accounts::{Duplicate, ImportOutcome, ImportedUser, LegacyPassword};

/// The columns of the import contract, in their documented order.
pub const COLUMNS: [&str; 12] = [
    "id",
    "region",
    "phone",
    "username",
    "nickname",
    "gender",
    "role",
    "banned",
    "password_hash",
    "hash_scheme",
    "salt",
    "created_at",
];

/// The two file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header line with the column names, then one user per line.
    Csv,
    /// One JSON object per line, with the same keys.
    Jsonl,
}

/// One row of the file: its line number and its values by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: usize,
    pub values: BTreeMap<String, String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub imported: usize,
    pub already_present: usize,
    /// `(line, what another account holds)`.
    pub duplicates: Vec<(usize, &'static str)>,
    /// `(line, why)`.
    pub skipped: Vec<(usize, String)>,
}

impl Report {
    /// The closing summary lines.
    pub fn lines(&self, dry_run: bool) -> Vec<String> {
        let mut out = Vec::new();
        for (line, what) in &self.duplicates {
            out.push(format!(
                "line {line}: duplicate: the {what} belongs to another account"
            ));
        }
        for (line, why) in &self.skipped {
            out.push(format!("line {line}: skipped: {why}"));
        }
        let verb = if dry_run { "would import" } else { "imported" };
        out.push(format!(
            "{verb} {}, already present {}, duplicates {}, skipped {}",
            self.imported,
            self.already_present,
            self.duplicates.len(),
            self.skipped.len()
        ));
        if !dry_run && self.imported == 0 && self.already_present > 0 {
            out.push("nothing changed: every user of the file is already there".to_owned());
        }
        out
    }
}

/// Reads the rows of a file; an unknown column is refused with its name.
pub fn read_rows(text: &str, format: Format) -> Result<Vec<Row>, String> {
    match format {
        Format::Csv => read_csv(text),
        Format::Jsonl => read_jsonl(text),
    }
}

fn check_column(name: &str) -> Result<(), String> {
    if COLUMNS.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "unknown column `{name}` (known: {})",
            COLUMNS.join(", ")
        ))
    }
}

fn read_jsonl(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line_no = index + 1;
        let values = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => {
                let mut values = BTreeMap::new();
                for (key, value) in map {
                    check_column(&key)?;
                    let text = match value {
                        Value::Null => String::new(),
                        Value::String(text) => text,
                        Value::Bool(flag) => flag.to_string(),
                        Value::Number(number) => number.to_string(),
                        other => other.to_string(),
                    };
                    values.insert(key, text);
                }
                values
            }
            // A line that is not an object is reported as a bad row, not a failed import.
            _ => BTreeMap::from([("__unreadable".to_owned(), line.to_owned())]),
        };
        rows.push(Row {
            line: line_no,
            values,
        });
    }
    Ok(rows)
}

/// RFC 4180 records: fields separated by commas, quoted with `"` (a doubled `""` inside), a
/// quoted field may span lines. Returns `(first line number, fields)`.
fn csv_records(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => in_quotes = false,
            ('"', false) if field.is_empty() => in_quotes = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    records.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            ('\n', true) => {
                line += 1;
                field.push('\n');
            }
            (other, _) => field.push(other),
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start_line, fields));
    }
    records
}

fn read_csv(text: &str) -> Result<Vec<Row>, String> {
    let mut records = csv_records(text.trim_start_matches('\u{feff}')).into_iter();
    let Some((_, header)) = records.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<String> = header.into_iter().map(|h| h.trim().to_owned()).collect();
    for name in &header {
        check_column(name)?;
    }
    Ok(records
        .map(|(line, fields)| {
            let mut values = BTreeMap::new();
            if fields.len() != header.len() {
                values.insert(
                    "__unreadable".to_owned(),
                    format!(
                        "{} fields where the header has {}",
                        fields.len(),
                        header.len()
                    ),
                );
            }
            for (name, value) in header.iter().zip(fields) {
                values.insert(name.clone(), value);
            }
            Row { line, values }
        })
        .collect())
}

/// Decodes a legacy id written as text (SealTalk's N3D strings); `None` when ids are numbers.
pub type DecodeId<'a> = Option<&'a dyn Fn(&str) -> Option<u64>>;

fn parse_id(text: &str, decode: DecodeId<'_>) -> Result<UserId, String> {
    let text = text.trim();
    if let Ok(id) = text.parse::<UserId>()
        && id > 0
    {
        return Ok(id);
    }
    match decode {
        Some(decode) => decode(text)
            .and_then(|id| UserId::try_from(id).ok())
            .ok_or_else(|| format!("id `{text}` is not an encoded id of the configured key")),
        None => Err(format!("id `{text}` is not a positive integer")),
    }
}

/// A row as the user to import, or why it cannot be.
pub fn to_user(row: &Row, decode: DecodeId<'_>) -> Result<ImportedUser, String> {
    if let Some(why) = row.values.get("__unreadable") {
        return Err(format!("unreadable row: {why}"));
    }
    let value = |name: &str| {
        row.values
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let id = parse_id(value("id").ok_or("no id")?, decode)?;
    let phone = match value("phone") {
        Some(number) => Some(
            Phone::parse(value("region").unwrap_or("86"), number)
                .map_err(|_| format!("phone `{number}` is not valid"))?,
        ),
        None => None,
    };
    let username = match value("username") {
        Some(name) => {
            Some(Username::parse(name).map_err(|_| format!("username `{name}` is not valid"))?)
        }
        None => None,
    };
    if phone.is_none() && username.is_none() {
        return Err("neither phone nor username".to_owned());
    }
    let mut profile = ProfilePatch::default();
    if let Some(nickname) = value("nickname") {
        profile = profile.set(TextField::Nickname, nickname);
    }
    profile.gender = Some(match value("gender").unwrap_or("unknown") {
        "male" => Gender::Male,
        "female" => Gender::Female,
        "unknown" => Gender::Unknown,
        other => return Err(format!("gender `{other}` is not male, female or unknown")),
    });
    let role = match value("role").unwrap_or("normal") {
        "normal" => Role::Normal,
        "service" => Role::Service,
        "superadmin" => Role::SuperAdmin,
        other => {
            return Err(format!(
                "role `{other}` is not normal, service or superadmin"
            ));
        }
    };
    let banned = match value("banned").unwrap_or("false") {
        "true" => true,
        "false" => false,
        other => return Err(format!("banned `{other}` is not true or false")),
    };
    let password = match value("password_hash") {
        // No password: a secret nobody knows, so the account is reached by an SMS reset.
        None => LegacyPassword::Plain(uuid::Uuid::new_v4().to_string()),
        Some(hash) => legacy_password(hash, value("hash_scheme"), value("salt"))?,
    };
    let created_at = match value("created_at") {
        Some(ms) => Some(
            ms.parse::<i64>()
                .map_err(|_| format!("created_at `{ms}` is not epoch milliseconds"))?,
        ),
        None => None,
    };
    Ok(ImportedUser {
        id,
        phone,
        username,
        profile,
        role,
        banned,
        password,
        created_at,
    })
}

fn legacy_password(
    hash: &str,
    scheme: Option<&str>,
    salt: Option<&str>,
) -> Result<LegacyPassword, String> {
    let hash = hash.to_owned();
    Ok(
        match scheme.ok_or("a password_hash needs its hash_scheme")? {
            "md5" if hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                LegacyPassword::Md5Hex(hash)
            }
            "md5" => return Err("password_hash is not 32 hex digits".to_owned()),
            "sealtalk_sha1" => LegacyPassword::SealtalkSha1 {
                digest: hash,
                salt: salt.ok_or("sealtalk_sha1 needs its salt")?.to_owned(),
            },
            "bcrypt" => LegacyPassword::Bcrypt(hash),
            "plain" => LegacyPassword::Plain(hash),
            other => {
                return Err(format!(
                    "hash_scheme `{other}` is not md5, sealtalk_sha1, bcrypt or plain"
                ));
            }
        },
    )
}

/// Users imported at the same time: the password hashing runs on the core's hashing threads.
const CONCURRENCY: usize = 4;

/// What became of one row.
enum RowOutcome {
    Written(ImportOutcome),
    WouldImport,
    Skipped(String),
}

/// Imports every row (or, with `dry_run`, only reads and checks them), a few at a time, calling
/// `progress` after each in file order. A bad row is skipped and reported; it never stops the
/// import or half-writes a user.
pub async fn import(
    service: &Service,
    rows: &[Row],
    decode: DecodeId<'_>,
    dry_run: bool,
    mut progress: impl FnMut(usize, usize),
) -> Report {
    use futures_util::StreamExt;
    let mut outcomes = futures_util::stream::iter(rows.iter().map(|row| async move {
        match to_user(row, decode) {
            Err(why) => RowOutcome::Skipped(why),
            Ok(_) if dry_run => RowOutcome::WouldImport,
            Ok(user) => match service.import_user(user).await {
                Ok(outcome) => RowOutcome::Written(outcome),
                // Two rows of the file with one phone or username, written at once.
                Err(CoreError::PhoneAlreadyRegistered) => {
                    RowOutcome::Written(ImportOutcome::Duplicate(Duplicate::Phone))
                }
                Err(CoreError::UsernameTaken) => {
                    RowOutcome::Written(ImportOutcome::Duplicate(Duplicate::Username))
                }
                Err(err) => RowOutcome::Skipped(err.to_string()),
            },
        }
    }))
    .buffered(CONCURRENCY);
    let mut report = Report::default();
    let mut done = 0;
    while let Some(outcome) = outcomes.next().await {
        let line = rows[done].line;
        match outcome {
            RowOutcome::Skipped(why) => report.skipped.push((line, why)),
            RowOutcome::WouldImport | RowOutcome::Written(ImportOutcome::Imported) => {
                report.imported += 1;
            }
            RowOutcome::Written(ImportOutcome::AlreadyPresent) => report.already_present += 1,
            RowOutcome::Written(ImportOutcome::Duplicate(held)) => report.duplicates.push((
                line,
                match held {
                    Duplicate::Id => "id",
                    Duplicate::Phone => "phone",
                    Duplicate::Username => "username",
                },
            )),
        }
        done += 1;
        progress(done, rows.len());
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_may_be_quoted_across_lines() {
        let rows = read_rows(
            "id,phone,nickname\n1,13900000001,\"a, \"\"b\"\"\nc\"\n2,13900000002,\n",
            Format::Csv,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].values["nickname"], "a, \"b\"\nc");
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].values["nickname"], "");
    }

    #[test]
    fn unknown_columns_are_refused_by_name() {
        let err = read_rows("id,phone,email\n", Format::Csv).unwrap_err();
        assert!(err.contains("`email`"), "{err}");
        let err = read_rows("{\"id\":1,\"mail\":\"x\"}\n", Format::Jsonl).unwrap_err();
        assert!(err.contains("`mail`"), "{err}");
    }

    #[test]
    fn rows_become_users_or_say_why_not() {
        let rows = read_rows(
            "{\"id\":4,\"phone\":\"13900000004\",\"password_hash\":\"e10adc3949ba59abbe56e057f20f883e\",\"hash_scheme\":\"md5\",\"gender\":\"female\",\"banned\":true}\n\
             {\"id\":\"x\",\"phone\":\"13900000005\",\"password_hash\":\"p\",\"hash_scheme\":\"plain\"}\n\
             {\"id\":6,\"password_hash\":\"p\",\"hash_scheme\":\"plain\"}\n\
             [1]\n",
            Format::Jsonl,
        )
        .unwrap();
        let user = to_user(&rows[0], None).unwrap();
        assert_eq!(
            (user.id, user.banned, user.profile.gender),
            (4, true, Some(Gender::Female))
        );
        assert!(
            to_user(&rows[1], None)
                .unwrap_err()
                .contains("positive integer")
        );
        assert!(
            to_user(&rows[2], None)
                .unwrap_err()
                .contains("neither phone")
        );
        assert!(to_user(&rows[3], None).unwrap_err().contains("unreadable"));
        let no_password =
            read_rows("{\"id\":7,\"phone\":\"13900000007\"}\n", Format::Jsonl).unwrap();
        assert!(matches!(
            to_user(&no_password[0], None).unwrap().password,
            LegacyPassword::Plain(secret) if secret.len() == 36
        ));
        let no_scheme = read_rows(
            "{\"id\":8,\"phone\":\"13900000008\",\"password_hash\":\"x\"}\n",
            Format::Jsonl,
        )
        .unwrap();
        assert!(
            to_user(&no_scheme[0], None)
                .unwrap_err()
                .contains("hash_scheme")
        );
    }
}
