//! `rosetta copy` end to end: a gateway's SQLite database with every table filled is copied to
//! PostgreSQL (to another SQLite file where no PostgreSQL is configured) by the command, and the
//! copy serves the same users, sessions and groups through all five dialects; copied back, every
//! table has the same checksum. An interrupted copy goes on where it stopped; a non-empty target,
//! another copy's target, the same database or a database that is not Rosetta's is refused.

mod support;

#[path = "support/dialect_clients.rs"]
mod dialect_clients;

use std::ops::ControlFlow;
use std::process::Command;
use std::time::Duration;

use rosetta::copy::{self, CopyError, CopyOptions, CopyReport, Step};
use rosetta::domain::credential::PasswordInput;
use rosetta::domain::identity::Username;
use rosetta::domain::phone::Phone;
use rosetta::domain::profile::ProfilePatch;
use rosetta::domain::social::GroupRole;
use rosetta::service::accounts::{NewAccount, NewPhone};
use rosetta::storage::copy::{Sequence, TABLES};
use rosetta::storage::{self, DatabaseUrl};
use serde_json::{Value, json};

use dialect_clients::{DIALECTS, Session};
use support::{TestApp, TestDb, test_settings_for};

const BIN: &str = env!("CARGO_BIN_EXE_rosetta");
const PASSWORD: &str = "copy-secret";

/// A copy target: PostgreSQL when the suite runs against it, else a second SQLite file.
fn target_db() -> TestDb {
    TestDb::fresh()
}

fn no_progress(_: copy::Progress<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

fn run_copy(from: &str, to: &str, force: bool) -> Result<CopyReport, CopyError> {
    copy::copy(from, to, CopyOptions { force }, &mut no_progress)
}

/// Rows per table, in the copy's order.
fn row_counts(url: &str) -> Vec<(&'static str, i64)> {
    let mut conn = storage::connect(&DatabaseUrl::parse(url).unwrap()).unwrap();
    TABLES
        .iter()
        .map(|table| (table.name(), table.count(&mut conn).unwrap()))
        .collect()
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 13]);
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    bytes.extend_from_slice(&[0x1f, 0x15, 0xc4, 0x89]);
    bytes
}

fn phone_of(dialect: usize) -> String {
    format!("1370000{dialect:04}")
}

/// What the filled gateway holds, for the checks on the copy.
struct Filled {
    /// A session of the first account in every dialect that has sessions: `(dialect, session)`.
    sessions: Vec<(usize, Session)>,
    group_name: &'static str,
    group_id: i64,
}

/// Fills every table through the gateway and the core: an account registered through each
/// dialect (codes, tickets, counters, outbox), a wrong password, sessions everywhere, a
/// username, an avatar, a blacklist entry, a friendship, a group with a member and an image code.
async fn fill_every_table(app: &TestApp) -> Filled {
    for (i, dialect) in DIALECTS.iter().enumerate() {
        (dialect.register)(app, &phone_of(i), PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("register through {}: {e}", dialect.id));
    }
    // A wrong password, counted for the account and the address it came from.
    assert!(
        (DIALECTS[0].login)(app, &phone_of(1), "not-the-password")
            .await
            .is_err()
    );
    let mut sessions = Vec::new();
    for (i, dialect) in DIALECTS.iter().enumerate() {
        if let Some(session) = (dialect.login)(app, &phone_of(0), PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("login through {}: {e}", dialect.id))
        {
            sessions.push((i, session));
        }
    }
    let service = app.service();
    let id_of = |i: usize| async move {
        service
            .find_user_by_phone(&Phone::mainland(&phone_of(i)).unwrap())
            .await
            .unwrap()
            .unwrap()
    };
    let (first, second) = (id_of(0).await, id_of(1).await);
    // A cutover choice of the admin API (the copy keeps it; serve, so the copy still serves).
    service
        .store_mode("rest", "serve", Some("http://10.0.0.5:8080".to_owned()))
        .await
        .unwrap();
    service
        .register(NewAccount {
            username: Some(Username::parse("copied.user").unwrap()),
            ..NewAccount::new(
                NewPhone::None,
                PasswordInput::Plain(PASSWORD.to_owned()),
                ProfilePatch::default(),
            )
        })
        .await
        .unwrap();
    service.set_avatar(first, png()).await.unwrap();
    service.add_to_blacklist(first, second).await.unwrap();
    service.make_friends(first, second, None).await.unwrap();
    let group_name = "Copied group";
    let group_id = service.create_group(first, group_name, None).await.unwrap();
    service
        .add_group_member(group_id, second, GroupRole::Member, None)
        .await
        .unwrap();
    service
        .new_image_code(4, Duration::from_secs(600))
        .await
        .unwrap();
    Filled {
        sessions,
        group_name,
        group_id,
    }
}

#[test]
fn the_copy_knows_every_table_of_the_schema() {
    for db in TestDb::every_backend() {
        let mut conn = storage::connect(&DatabaseUrl::parse(&db.url).unwrap()).unwrap();
        storage::run_migrations(&mut conn).unwrap();
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        let query = if db.is_postgres() {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema()"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        };
        let mut in_schema: Vec<String> =
            diesel::RunQueryDsl::load::<Name>(diesel::sql_query(query), &mut conn)
                .unwrap()
                .into_iter()
                .map(|row| row.name)
                .filter(|name| {
                    ![
                        "__diesel_schema_migrations",
                        "sqlite_sequence",
                        "copy_progress",
                    ]
                    .contains(&name.as_str())
                })
                .collect();
        in_schema.sort();
        let mut copied: Vec<&str> = TABLES.iter().map(|t| t.name()).collect();
        copied.sort_unstable();
        assert_eq!(in_schema, copied, "{}", db.url);
    }
}

#[actix_web::test]
async fn a_filled_database_copies_both_ways_and_serves_through_every_dialect() {
    let source = TestApp::spawn_on(TestDb::sqlite(), "").await;
    let filled = fill_every_table(&source).await;
    let before = row_counts(&source.db.url);
    for (table, rows) in &before {
        assert!(*rows > 0, "the test leaves {table} empty");
    }

    // Through the command, while the source gateway still runs (the copy reads one snapshot).
    let target = target_db();
    let output = Command::new(BIN)
        .args(["copy", "--from", &source.db.url, "--to", &target.url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "verified: all {} tables have the same rows in both databases",
            TABLES.len()
        )),
        "{stdout}"
    );
    for (table, rows) in &before {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{table} ")))
            .unwrap_or_else(|| panic!("no line for {table}: {stdout}"));
        let columns: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(columns[1], rows.to_string(), "{line}");
        assert_eq!(columns[2], rows.to_string(), "{line}");
        assert_eq!(columns[4], "ok", "{line}");
    }
    assert!(stderr.contains("copying users"), "progress: {stderr}");
    assert_eq!(row_counts(&target.url), before);

    let source_next_user = {
        let mut conn = storage::connect(&DatabaseUrl::parse(&source.db.url).unwrap()).unwrap();
        storage::copy::next_id(&mut conn, Sequence::Users).unwrap()
    };

    // Back into SQLite before anything changes: every table has the checksum printed above.
    let back = TestDb::sqlite();
    let (there, home) = (target.url.clone(), back.url.clone());
    let report = tokio::task::spawn_blocking(move || run_copy(&there, &home, false))
        .await
        .unwrap()
        .unwrap();
    assert!(report.verified(), "{:#?}", report.lines());
    for check in &report.checks {
        let printed = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{} ", check.table)))
            .and_then(|l| l.split_whitespace().nth(3))
            .unwrap();
        assert_eq!(
            format!("{:016x}", check.target_checksum),
            printed,
            "{} changed on its way there and back",
            check.table
        );
    }

    let copied = TestApp::spawn_with(target, test_settings_for("")).await;
    // The copy's clock goes on from the source's, as a cut-over's would.
    copied
        .clock
        .advance_ms(source.service().now_ms() - copied.service().now_ms());

    // The same sessions, in every dialect that has them.
    for (i, session) in &filled.sessions {
        assert!(
            (DIALECTS[*i].alive)(&copied, session).await,
            "a {} session did not survive the copy",
            DIALECTS[*i].id
        );
    }
    // The same users and passwords, through every dialect.
    for (r, registrar) in DIALECTS.iter().enumerate() {
        for dialect in DIALECTS {
            (dialect.login)(&copied, &phone_of(r), PASSWORD)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "registered through {} before the copy, login through {} after: {e}",
                        registrar.id, dialect.id
                    )
                });
        }
    }
    // The same groups, through the dialects that show them.
    check_groups(&copied, &filled).await;
    // New accounts continue after the copied ids.
    let new_user = copied
        .service()
        .register(NewAccount::new(
            NewPhone::Unverified(Phone::mainland("13799999999").unwrap()),
            PasswordInput::Plain(PASSWORD.to_owned()),
            ProfilePatch::default(),
        ))
        .await
        .unwrap();
    assert_eq!(new_user, source_next_user);
}

/// The group of the filled gateway, seen through `code_result` (the caller's groups) and
/// `struts` (a member's settings in it).
async fn check_groups(app: &TestApp, filled: &Filled) {
    let session_of = |id: &str| {
        filled
            .sessions
            .iter()
            .find(|(i, _)| DIALECTS[*i].id == id)
            .map(|(_, session)| session)
    };
    let field = dialect_clients::field;
    if let Some(session) = session_of("code_result") {
        let cookie = format!("rong_im_auth={}", field(session, "cookie"));
        let reply = app
            .send(
                "code_result",
                "GET",
                "/user/groups",
                &[("Cookie", &cookie)],
                b"",
            )
            .await;
        let groups = reply.json();
        assert_eq!(groups["code"], json!(200), "{groups}");
        assert_eq!(
            groups["result"][0]["group"]["name"],
            json!(filled.group_name),
            "{groups}"
        );
        assert_eq!(groups["result"][0]["group"]["memberCount"], json!(2));
    }
    if let Some(session) = session_of("struts") {
        let form = format!("groupId={}&showName=copied", filled.group_id);
        let reply = app
            .send(
                "struts",
                "POST",
                "/chat/group!setingGroup",
                &[
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("uid", field(session, "uid")),
                    ("accessToken", field(session, "token")),
                ],
                form.as_bytes(),
            )
            .await;
        let answer: Value = reply.json();
        assert_eq!(answer["success"], json!(true), "{answer}");
    }
}

/// Fills a source with `users` accounts, each with an avatar (avatars go 16 to a batch, so a
/// few dozen make several batches).
async fn source_with_avatars(users: usize) -> TestApp {
    let app = TestApp::spawn_on(TestDb::sqlite(), "").await;
    for n in 0..users {
        let id = app
            .service()
            .register(NewAccount::new(
                NewPhone::Unverified(Phone::mainland(&format!("1360000{n:04}")).unwrap()),
                PasswordInput::Plain(PASSWORD.to_owned()),
                ProfilePatch::default(),
            ))
            .await
            .unwrap();
        app.service().set_avatar(id, png()).await.unwrap();
    }
    app
}

#[actix_web::test]
async fn an_interrupted_copy_goes_on_where_it_stopped() {
    let source = source_with_avatars(40).await;
    let target = target_db();
    let (from, to) = (source.db.url.clone(), target.url.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        // Stopped after the first batch of avatars, as a Ctrl-C or a crash would stop it.
        let mut stop = |p: copy::Progress<'_>| {
            if p.step == Step::Copying && p.table == "avatars" {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let interrupted = copy::copy(&from, &to, CopyOptions::default(), &mut stop);
        let halfway = row_counts(&to);
        // Another source must not be mixed into this copy's target.
        let other = TestDb::sqlite();
        run_copy(&from, &other.url, false).unwrap();
        let mixed = run_copy(&other.url, &to, false);
        let resumed = run_copy(&from, &to, false);
        let progress_left = {
            let mut conn = storage::connect(&DatabaseUrl::parse(&to).unwrap()).unwrap();
            storage::copy::progress(&mut conn).unwrap()
        };
        let again = run_copy(&from, &to, false);
        let forced = run_copy(&from, &to, true);
        (
            interrupted,
            halfway,
            mixed,
            resumed,
            progress_left,
            again,
            forced,
        )
    })
    .await
    .unwrap();
    let (interrupted, halfway, mixed, resumed, progress_left, again, forced) = outcome;

    assert!(
        matches!(
            interrupted,
            Err(CopyError::Interrupted { table: "avatars" })
        ),
        "{interrupted:?}"
    );
    let count = |counts: &[(&str, i64)], name: &str| {
        counts.iter().find(|(t, _)| *t == name).map(|(_, n)| *n)
    };
    assert_eq!(
        count(&halfway, "users"),
        Some(40),
        "tables before it are whole"
    );
    assert_eq!(
        count(&halfway, "avatars"),
        Some(16),
        "one batch of it is kept"
    );
    assert_eq!(
        count(&halfway, "sms_outbox"),
        Some(0),
        "tables after it wait"
    );

    let mixed = mixed.unwrap_err();
    assert!(
        matches!(&mixed, CopyError::OtherCopyUnderway { .. }),
        "{mixed:?}"
    );
    assert!(mixed.to_string().contains("unfinished copy from sqlite://"));

    let resumed = resumed.unwrap();
    assert!(resumed.resumed);
    assert!(resumed.verified(), "{:#?}", resumed.lines());
    assert_eq!(resumed.copied_rows, 40 - 16, "only the avatars left over");
    assert!(
        resumed.lines()[0].contains("went on with an unfinished copy"),
        "{:?}",
        resumed.lines()
    );
    assert!(
        progress_left.is_empty(),
        "a verified copy clears its progress"
    );

    let again = again.unwrap_err();
    assert!(
        again
            .to_string()
            .starts_with("the target is not empty (rows: users 40, phone_identities 40,"),
        "{again}"
    );
    let forced = forced.unwrap();
    assert!(forced.verified());
    assert!(!forced.resumed);
    assert!(
        forced.replaced.contains(&("avatars", 40)),
        "{:?}",
        forced.replaced
    );
    assert!(forced.lines()[0].starts_with("--force: deleted the target's rows first"));
}

#[test]
fn what_cannot_be_copied_is_refused_with_the_reason() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let err = run_copy(&url, &url, false).unwrap_err();
    assert_eq!(err.to_string(), "--from and --to name the same database");

    let missing = format!("{url}.missing");
    let err = run_copy(&missing, &TestDb::sqlite().url, false).unwrap_err();
    assert!(matches!(err, CopyError::MissingSource(_)), "{err}");
    assert!(
        !std::path::Path::new(missing.strip_prefix("sqlite://").unwrap()).exists(),
        "refusing must not create the file"
    );

    // A SQLite file with tables of its own.
    {
        let path = url.strip_prefix("sqlite://").unwrap();
        let mut conn = <diesel::SqliteConnection as diesel::Connection>::establish(path).unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut conn, "CREATE TABLE t (x)")
            .unwrap();
    }
    let err = run_copy(&url, &TestDb::sqlite().url, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{url} is not a Rosetta database: it has no migration table")
    );

    // A Rosetta database one migration behind this build.
    let behind = TestDb::sqlite();
    {
        let mut conn = storage::connect(&DatabaseUrl::parse(&behind.url).unwrap()).unwrap();
        storage::run_migrations(&mut conn).unwrap();
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            "DELETE FROM __diesel_schema_migrations WHERE version = \
             (SELECT MAX(version) FROM __diesel_schema_migrations)",
        )
        .unwrap();
    }
    let err = run_copy(&behind.url, &TestDb::sqlite().url, false).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("of this version: run `rosetta migrate` against it first"),
        "{err}"
    );

    // Spelt differently, one database is still one database, also with --force.
    let one_user = TestDb::sqlite();
    {
        let mut conn = storage::connect(&DatabaseUrl::parse(&one_user.url).unwrap()).unwrap();
        storage::run_migrations(&mut conn).unwrap();
        let row = rosetta::storage::models::UserChanges {
            nickname: Some("one".to_owned()),
            created_at: Some(1),
            updated_at: Some(1),
            ..Default::default()
        };
        storage::users::insert_user_with_id(&mut conn, 7, &row).unwrap();
    }
    let filled = TestDb::fresh();
    run_copy(&one_user.url, &filled.url, false).unwrap();
    let respelt = match filled.url.strip_prefix("postgres://") {
        Some(rest) => format!("postgresql://{rest}"),
        None => filled.url.replace("/rosetta.db", "/./rosetta.db"),
    };
    let err = run_copy(&filled.url, &respelt, true).unwrap_err();
    assert!(matches!(err, CopyError::SameDatabase), "{err}");
    assert!(
        row_counts(&filled.url).iter().any(|(_, rows)| *rows > 0),
        "nothing deleted"
    );

    // The command says so and fails.
    let output = Command::new(BIN)
        .args(["copy", "--from", &url, "--to", &url])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "rosetta copy: --from and --to name the same database"
    );
}
