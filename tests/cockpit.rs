//! The migration cockpit: traffic per dialect and client app, and `rosetta traffic`.

mod support;

use std::process::Command;

use support::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_rosetta");

/// A line of `rosetta_requests_total` with its labels in the order the gateway writes them.
fn requests_line(dialect: &str, endpoint: &str, outcome: &str, client: &str) -> String {
    format!(
        r#"rosetta_requests_total{{dialect="{dialect}",endpoint="{endpoint}",outcome="{outcome}",client="{client}"}}"#
    )
}

#[actix_web::test]
async fn requests_are_counted_per_client_app_with_a_bounded_label_set() {
    let app = TestApp::spawn("[ops]\nclient_labels = 2\n").await;
    let sms =
        |phone: &str, xid: &str| format!("phone={phone}&xid={xid}&utime=1&sec=1").into_bytes();
    // struts names its client in the `client` header; code_sec in the prefix of `xid`; the
    // others by the User-Agent's first product.
    for (client, user_agent) in [("Android", "okhttp/4.9"), ("iOS 12", "okhttp/4.9")] {
        app.send(
            "struts",
            "POST",
            "/user/user!readUser.action",
            &[("client", client), ("User-Agent", user_agent)],
            b"",
        )
        .await;
    }
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    for xid in [
        "ios-5b0e7c",
        "android-77aa01",
        "android-9f00c2",
        "harmony-1",
    ] {
        app.send(
            "code_sec",
            "POST",
            "/user/sms",
            &form,
            &sms("13390633695", xid),
        )
        .await;
    }
    for user_agent in [
        "okhttp/4.9.0",
        "Dalvik/2.1.0 (Linux; U; Android 9)",
        "curl/8.0",
        "Wget",
    ] {
        app.send(
            "rest",
            "GET",
            "/users/1",
            &[("User-Agent", user_agent)],
            b"",
        )
        .await;
    }
    let text = app.send("ops", "GET", "/metrics", &[], b"").await.text();
    for (line, count) in [
        (
            requests_line(
                "struts",
                "/user/user{bang}readUser{suffix}",
                "auth_error",
                "android",
            ),
            1,
        ),
        (
            requests_line(
                "struts",
                "/user/user{bang}readUser{suffix}",
                "auth_error",
                "ios",
            ),
            1,
        ),
        (
            requests_line("code_sec", "/user/sms", "client_error", "ios"),
            1,
        ),
        (
            requests_line("code_sec", "/user/sms", "client_error", "android"),
            2,
        ),
        (
            requests_line("code_sec", "/user/sms", "client_error", "other"),
            1,
        ),
        (
            requests_line("rest", "/users/{userId}", "client_error", "okhttp"),
            1,
        ),
        (
            requests_line("rest", "/users/{userId}", "client_error", "dalvik"),
            1,
        ),
        (
            requests_line("rest", "/users/{userId}", "client_error", "other"),
            2,
        ),
    ] {
        assert!(
            text.contains(&format!("{line} {count}\n")),
            "missing {line} {count} in\n{text}"
        );
    }
    assert!(!text.contains("harmony"), "beyond the bound: {text}");

    let ops_url = app.url("ops", "");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["traffic", "--ops-url", &ops_url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8(output.stdout).unwrap();
    let row = |dialect: &str, client: &str| {
        table
            .lines()
            .find(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.first() == Some(&dialect) && l.contains(client)
            })
            .unwrap_or_else(|| panic!("no {dialect} {client} row in\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    assert_eq!(
        row("code_sec", "android")[1..],
        ["android", "2", "50.0%", "0", "2", "0"],
        "{table}"
    );
    assert_eq!(row("code_sec", "(all clients)")[3], "4", "{table}");
    assert_eq!(row("rest", "other")[1..3], ["other", "2"], "{table}");

    let unreachable = Command::new(BIN)
        .args(["traffic", "--ops-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unreachable.stderr).contains("is the gateway running?"),
        "{unreachable:?}"
    );
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `rosetta replay ARGS…` (an in-process gateway unless ARGS name a target).
async fn replay_command(args: Vec<String>) -> (Option<i32>, String) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN).arg("replay").args(args).output().unwrap()
    })
    .await
    .unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.code(), text)
}

/// A transcript written as the legacy server answered: its Chinese success message, a header it
/// sent, and one real regression (the name) that no rule covers.
const LEGACY_REGISTER: &str = r#"{"version":1,"dialect":"error_code","title":"legacy answers","exchanges":[
 {"name":"register","request":{"method":"POST","path":"/api/user/register","json":{"username":"a@test.com","password":"123456","name":"张三"}},
  "response":{"status":200,"headers":{"X-Powered-By":"PHP/5.6"},"json":{"error_code":0,"error_msg":"请求成功"}}},
 {"name":"log in","request":{"method":"POST","path":"/api/user/login","json":{"username":"a@test.com","password":"123456"}},
  "response":{"status":200,"json":{"error_code":0,"error_msg":"请求成功","data":{"token_id":"{{token:uuid}}","userid":"{{uid:digits}}"}}}},
 {"name":"detail","request":{"method":"GET","path":"/api/user/{{uid}}"},
  "response":{"status":200,"json":{"error_code":0,"error_msg":"请求成功","data":{"id":"{{uid}}","name":"李四","sex":"{{any}}","century":null,"mobile":null,"pushable":"{{string}}"}}}}
]}"#;

const RULES: &str = r#"
[[rule]]
name = "success message"
dialect = "error_code"
routes = ["POST /api/user/register", "POST /api/user/login", "GET /api/user/{id}"]
pointer = "/error_msg"
expected = "请求成功"
actual = "success"
reason = "we answer in English (dialects.error_code.success_message can say 请求成功)"

[[rule]]
name = "PHP banner"
header = "x-powered-by"
ignore = true

[[rule]]
name = "never used"
status = true
expected = 500
reason = "a legacy crash"
"#;

#[actix_web::test]
async fn replay_accepts_the_differences_a_rules_file_names_and_reports_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = write(dir.path(), "legacy.json", LEGACY_REGISTER);
    let rules = write(dir.path(), "accepted.toml", RULES);
    let path = |p: &std::path::PathBuf| p.display().to_string();

    let (code, plain) = replay_command(vec![path(&transcript), "--keep-going".into()]).await;
    assert_eq!(code, Some(1), "{plain}");
    assert!(plain.contains("0 passed, 3 failed"), "{plain}");

    let (code, text) = replay_command(vec![
        path(&transcript),
        "--keep-going".into(),
        "--accept".into(),
        path(&rules),
    ])
    .await;
    assert_eq!(code, Some(1), "the name is still a difference: {text}");
    assert!(text.contains("2 passed, 1 failed"), "{text}");
    assert!(
        text.contains(r#"/body/data/name: expected "李四", actual "张三""#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"accepted /body/error_msg: expected "请求成功", actual "success" (we answer in English"#
        ),
        "{text}"
    );
    assert!(
        !text.contains("x-powered-by"),
        "ignored, not listed: {text}"
    );
    for line in [
        "accepted differences (",
        r#"  rule "success message": matched 3 differences"#,
        r#"  rule "PHP banner": matched 1 difference"#,
        r#"  rule "never used": never matched"#,
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }

    let broken = write(dir.path(), "broken.toml", "[[rule]]\npointer = \"/x\"\n");
    let (code, text) =
        replay_command(vec![path(&transcript), "--accept".into(), path(&broken)]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("--accept") && text.contains("says nothing to accept"),
        "{text}"
    );
}

/// Two codes for one phone, recorded 1.5 s apart on a legacy server that lets a code be sent
/// again after a second: at full speed the second is throttled, at the recorded pace it is not.
const TWO_CODES: &str = r#"{"version":1,"dialect":"code_result","title":"two codes","rebind":true,
 "settings":{"dialects.code_result.send_code_interval_seconds":1},
 "exchanges":[
 {"name":"first code","recorded_at":1795190400000,"request":{"method":"POST","path":"/user/send_code","json":{"region":"86","phone":"13912345678"}},
  "response":{"status":200,"json":{"code":200}}},
 {"name":"second code","recorded_at":1795190401500,"request":{"method":"POST","path":"/user/send_code","json":{"region":"86","phone":"13912345678"}},
  "response":{"status":200,"json":{"code":200}}}
]}"#;

#[actix_web::test]
async fn replay_can_keep_the_recorded_pace() {
    let dir = tempfile::tempdir().unwrap();
    let transcript = write(dir.path(), "two_codes.json", TWO_CODES)
        .display()
        .to_string();
    let (code, text) = replay_command(vec![transcript.clone()]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(r#"/body/code: expected 200, actual 5000"#),
        "{text}"
    );

    let started = std::time::Instant::now();
    let (code, text) = replay_command(vec![transcript, "--pace".into(), "recorded".into()]).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("2 passed, 0 failed"), "{text}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500));

    let untimed = write(
        dir.path(),
        "untimed.json",
        &TWO_CODES
            .replace(r#""recorded_at":1795190401500,"#, "")
            .replace(r#""recorded_at":1795190400000,"#, ""),
    );
    let (_, text) = replay_command(vec![
        untimed.display().to_string(),
        "--pace".into(),
        "recorded".into(),
    ])
    .await;
    assert!(
        text.contains("no exchange given has a recorded time"),
        "{text}"
    );
}

#[actix_web::test]
async fn replay_binds_values_a_recording_could_not_reveal() {
    let app = TestApp::spawn("").await;
    let created = app
        .admin(
            "POST",
            "/admin/users",
            serde_json::json!({"region": "86", "phone": "13800000001", "password": "secret1", "nickname": "张三"}),
        )
        .await;
    let live_id = created.json()["id"].as_u64().unwrap().to_string();
    // The legacy server's answer for its user 100023, who was imported with another id.
    let live = app
        .send(
            "error_code",
            "GET",
            &format!("/api/user/{live_id}"),
            &[],
            b"",
        )
        .await
        .json();
    assert_eq!(live["error_code"], 0, "{live}");
    let mut recorded = live.clone();
    recorded["data"]["id"] = "100023".into();
    let line = serde_json::json!({
        "dialect": "error_code", "recorded_at": 1, "name": "GET /api/user/100023",
        "request": {"method": "GET", "path": "/api/user/100023"},
        "response": {"status": 200, "json": recorded},
    });
    let dir = tempfile::tempdir().unwrap();
    let recording = write(dir.path(), "legacy.jsonl", &format!("{line}\n"))
        .display()
        .to_string();
    let target = app.url("error_code", "");
    let (code, text) =
        replay_command(vec![recording.clone(), "--target".into(), target.clone()]).await;
    assert_eq!(code, Some(1), "100023 is nobody here: {text}");

    let (code, text) = replay_command(vec![
        recording.clone(),
        "--target".into(),
        target.clone(),
        "--bind".into(),
        format!("id:100023={live_id}"),
    ])
    .await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");

    let (code, text) = replay_command(vec![
        recording,
        "--target".into(),
        target,
        "--bind".into(),
        "user:100023=7".into(),
    ])
    .await;
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("KIND:RECORDED=LIVE"), "{text}");
}
