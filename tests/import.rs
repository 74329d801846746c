//! `rosetta import` end to end: the sample files of `examples/import/` go into a fresh database
//! (SQLite, or PostgreSQL in CI) through the command, the report says what happened, a second
//! run changes nothing, and the imported users log in through the dialects their hashes allow.

mod support;

use std::process::Command;

use support::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_rosetta");

fn sample(name: &str) -> String {
    format!("{}/examples/import/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `rosetta import` against the test database; `(success, stdout, stderr)`.
fn import(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rosetta.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n[security]\nbcrypt_cost = 4\n[testing]\nenabled = true\n",
            db.url
        ),
    )
    .unwrap();
    let output = Command::new(BIN)
        .arg("import")
        .args(args)
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn unknown_columns_are_refused_by_name() {
    let db = TestDb::fresh();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, "id,phone,email\n1,13900000001,a@b.c\n").unwrap();
    let (ok, _, stderr) = import(&db, &[file.to_str().unwrap(), "--format", "csv"]);
    assert!(!ok);
    assert!(stderr.contains("unknown column `email`"), "{stderr}");
}

#[cfg(all(feature = "code_result", feature = "code_sec", feature = "error_code"))]
#[actix_web::test]
async fn the_samples_import_once_and_log_in_where_their_hashes_allow() {
    let db = TestDb::fresh();
    let (ok, stdout, stderr) = import(
        &db,
        &[&sample("users.jsonl"), "--format", "jsonl", "--dry-run"],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("would import 2, already present 0, duplicates 0, skipped 1"),
        "{stdout}"
    );
    assert!(stdout.contains("hash_scheme `sha256`"), "{stdout}");

    let (ok, stdout, stderr) = import(&db, &[&sample("users.csv"), "--format", "csv"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("line 6: skipped: phone `1390000` is not valid"),
        "{stdout}"
    );
    assert!(
        stdout.contains("imported 4, already present 0, duplicates 0, skipped 1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("5/5 rows"),
        "progress lines off a terminal: {stderr}"
    );
    let (ok, stdout, _) = import(&db, &[&sample("users.csv"), "--format", "csv"]);
    assert!(ok);
    assert!(
        stdout.contains("imported 0, already present 4, duplicates 0, skipped 1"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing changed"), "{stdout}");
    let (ok, stdout, _) = import(&db, &[&sample("users.jsonl"), "--format", "jsonl"]);
    assert!(ok && stdout.contains("imported 2"), "{stdout}");
    let (ok, stdout, stderr) = import(
        &db,
        &[
            &sample("sealtalk.jsonl"),
            "--format",
            "jsonl",
            "--dialect-ids",
            "code_result",
        ],
    );
    assert!(ok && stdout.contains("imported 1"), "{stdout}{stderr}");

    use serde_json::json;
    let app = support::TestApp::spawn_on(db, "").await;
    let service = app.service();
    assert_eq!(service.profile(5).await.unwrap().nickname, "Li, \"Si\"");
    assert_eq!(service.profile(1).await.unwrap().nickname, "SealTalk user");
    let post = |dialect: &'static str, path: &'static str, body: serde_json::Value| {
        let app = &app;
        async move {
            app.send(
                dialect,
                "POST",
                path,
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            )
            .await
            .json()
        }
    };
    let md5 = "e10adc3949ba59abbe56e057f20f883e";
    // md5 (id 4): every form at once.
    let blueu = post(
        "error_code",
        "/api/user/login",
        json!({"username": "13900000004", "password": "123456"}),
    )
    .await;
    assert_eq!(blueu["data"]["userid"], json!("4"), "{blueu}");
    let sec = post(
        "code_sec",
        "/user/login",
        json!({"phone": "13900000004", "pwd": md5}),
    )
    .await;
    assert_eq!(sec["uid"], json!("4"), "{sec}");
    // SealTalk sha1 (id 5): not the md5 form until a plain login upgraded it.
    let refused = post(
        "code_sec",
        "/user/login",
        json!({"phone": "13900000005", "pwd": md5}),
    )
    .await;
    assert_eq!(refused["code"], json!("4003"));
    let sealtalk = post(
        "code_result",
        "/user/login",
        json!({"region": "86", "phone": "13900000005", "password": "123456"}),
    )
    .await;
    assert_eq!(sealtalk["code"], json!(200), "{sealtalk}");
    let upgraded = post(
        "code_sec",
        "/user/login",
        json!({"phone": "13900000005", "pwd": md5}),
    )
    .await;
    assert_eq!(upgraded["uid"], json!("5"));
    // bcrypt of the plain password (username wangwu, id 6).
    let named = post(
        "error_code",
        "/api/user/login",
        json!({"username": "wangwu", "password": "123456"}),
    )
    .await;
    assert_eq!(named["data"]["userid"], json!("6"), "{named}");
    // Banned (id 7).
    let banned = post(
        "code_result",
        "/user/login",
        json!({"region": "86", "phone": "13900000007", "password": "123456"}),
    )
    .await;
    assert_eq!(banned["code"], json!(1000));
    // The SealTalk user keeps its N3D id.
    let kept = post(
        "code_result",
        "/user/login",
        json!({"region": "86", "phone": "13900000020", "password": "123456"}),
    )
    .await;
    assert_eq!(kept["result"]["id"], json!("1SnZzuvOU"), "{kept}");
    // New accounts continue after the largest imported id.
    let created = app.create_user("13900000099", "pw", "new").await;
    assert!(created > 11, "{created}");
}

#[test]
fn two_rows_with_one_phone_import_one_and_report_the_other() {
    let db = TestDb::fresh();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(
        &file,
        "id,phone,password_hash,hash_scheme\n\
         21,13900000021,123456,plain\n\
         22,13900000021,123456,plain\n\
         23,13900000023,123456,plain\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = import(&db, &[file.to_str().unwrap(), "--format", "csv"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("imported 2, already present 0, duplicates 1, skipped 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("duplicate: the phone belongs to another account"),
        "{stdout}"
    );
}
