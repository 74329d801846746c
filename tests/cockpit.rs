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
    let live_id = app
        .create_user("13800000001", "secret1", "张三")
        .await
        .to_string();
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

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A gateway playing the legacy BlueU server: it says 请求成功 where Rosetta says success.
async fn legacy_backend() -> TestApp {
    TestApp::spawn("[dialects.error_code]\nsuccess_message = \"请求成功\"\n").await
}

/// Polls `check` for up to 10 s (shadow comparisons and recordings happen off the request path).
async fn eventually<T>(mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let started = std::time::Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "not within 10 s"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn proxy_mode_passes_every_request_on_unchanged_and_switches_without_a_restart() {
    let legacy = legacy_backend().await;
    let records = tempfile::tempdir().unwrap();
    let gateway = TestApp::spawn(&format!(
        "[dialects.error_code]\nmode = \"proxy\"\nlegacy_url = \"{}\"\n\
         [record]\nenabled = true\ndir = \"{}\"\n",
        legacy.url("error_code", ""),
        records.path().display()
    ))
    .await;
    let register = r#"{"username":"p@test.com","password":"123456","name":"张三"}"#.as_bytes();
    let login = br#"{"username":"p@test.com","password":"123456"}"#;

    // Registered at the legacy backend, through Rosetta.
    let proxied = gateway
        .send(
            "error_code",
            "POST",
            "/api/user/register",
            &[JSON],
            register,
        )
        .await;
    assert_eq!(
        (proxied.status, proxied.json()),
        (
            200,
            serde_json::json!({"error_code": 0, "error_msg": "请求成功"})
        )
    );
    // Byte for byte what the legacy backend answers, headers included, even to unknown paths.
    for (method, path, body) in [
        ("POST", "/api/user/register", register),
        ("GET", "/no/such/path", b""),
        ("DELETE", "/api/user/login", b""),
    ] {
        let direct = legacy.send("error_code", method, path, &[JSON], body).await;
        let via = gateway
            .send("error_code", method, path, &[JSON], body)
            .await;
        assert_eq!(
            (via.status, &via.body),
            (direct.status, &direct.body),
            "{method} {path}"
        );
        assert_eq!(via.header("content-type"), direct.header("content-type"));
    }
    let logged_in = gateway
        .send("error_code", "POST", "/api/user/login", &[JSON], login)
        .await
        .json();
    assert_eq!(logged_in["error_msg"], "请求成功", "{logged_in}");

    // Recorded as any exchange is, with the legacy answer.
    let recorded = eventually(async || {
        let files: Vec<_> = std::fs::read_dir(records.path()).ok()?.flatten().collect();
        let text = std::fs::read_to_string(files.first()?.path()).ok()?;
        text.contains("请求成功").then_some(text)
    })
    .await;
    assert!(recorded.contains("/api/user/register"), "{recorded}");

    // Switched to serve: Rosetta's own core answers (it has no such account).
    let switched = gateway
        .admin(
            "PUT",
            "/admin/dialects/error_code/mode",
            serde_json::json!({"mode": "serve"}),
        )
        .await;
    assert_eq!(switched.status, 200, "{}", switched.text());
    assert_eq!(switched.json()["mode"], "serve");
    let own = gateway
        .send("error_code", "POST", "/api/user/login", &[JSON], login)
        .await
        .json();
    assert_ne!(own["error_code"], 0, "{own}");
    let modes = gateway
        .admin("GET", "/admin/dialects", serde_json::json!({}))
        .await
        .json();
    let error_code = modes["dialects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "error_code")
        .unwrap()
        .clone();
    assert!(error_code["changed_at"].as_i64().is_some(), "{error_code}");
    assert_eq!(
        error_code,
        serde_json::json!({"id": "error_code", "mode": "serve", "legacy_url": legacy.url("error_code", ""),
            "source": "admin", "changed_at": error_code["changed_at"]})
    );

    // A request already on its way when the mode changes finishes in the mode it started in.
    let address = gateway.address("error_code").unwrap();
    let switch_back = gateway.admin(
        "PUT",
        "/admin/dialects/error_code/mode",
        serde_json::json!({"mode": "proxy"}),
    );
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    use std::io::{Read, Write};
    stream
        .write_all(
            format!(
                "POST /api/user/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                login.len()
            )
            .as_bytes(),
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(switch_back.await.json()["mode"], "proxy");
    let answer = tokio::task::spawn_blocking(move || {
        stream.write_all(login).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.contains("请求成功"),
        "the request started in serve mode and was answered by Rosetta: {answer}"
    );
    // The next one goes to the legacy backend again.
    let again = gateway
        .send("error_code", "POST", "/api/user/login", &[JSON], login)
        .await
        .json();
    assert_eq!(again["error_msg"], "请求成功", "{again}");

    // Handed back to the settings file, which says proxy.
    let forgotten = gateway
        .admin(
            "DELETE",
            "/admin/dialects/error_code/mode",
            serde_json::json!({}),
        )
        .await
        .json();
    assert_eq!(
        (&forgotten["mode"], &forgotten["source"]),
        (&"proxy".into(), &"settings".into())
    );
    assert!(forgotten.get("changed_at").is_none(), "{forgotten}");

    // Refused switches.
    for (path, body, status, message) in [
        (
            "/admin/dialects/nope/mode",
            serde_json::json!({"mode": "serve"}),
            404,
            "no dialect `nope`",
        ),
        (
            "/admin/dialects/rest/mode",
            serde_json::json!({"mode": "fast"}),
            400,
            "not a mode",
        ),
        (
            "/admin/dialects/rest/mode",
            serde_json::json!({"mode": "proxy"}),
            400,
            "needs a legacy_url",
        ),
        (
            "/admin/dialects/rest/mode",
            serde_json::json!({"mode": "proxy", "legacy_url": "ftp://legacy"}),
            400,
            "must be a URL like http://",
        ),
        (
            "/admin/dialects/rest/mode",
            serde_json::json!({"mood": "serve"}),
            400,
            "mood",
        ),
    ] {
        let refused = gateway.admin("PUT", path, body).await;
        assert_eq!(refused.status, status, "{path}: {}", refused.text());
        assert!(
            refused.json()["error"].as_str().unwrap().contains(message),
            "{}",
            refused.text()
        );
    }

    // A legacy backend that does not answer: the dialect's own server error, counted as one.
    gateway
        .admin(
            "PUT",
            "/admin/dialects/error_code/mode",
            serde_json::json!({"mode": "proxy", "legacy_url": format!("http://127.0.0.1:{}", support::free_port())}),
        )
        .await;
    let down = gateway
        .send("error_code", "POST", "/api/user/login", &[JSON], login)
        .await;
    // error_code answers every error with HTTP 200 and its own code.
    assert_eq!(
        (down.status, down.json()),
        (
            200,
            serde_json::json!({"error_code": 999, "error_msg": "程序错误"})
        )
    );
    let metrics = gateway
        .send("ops", "GET", "/metrics", &[], b"")
        .await
        .text();
    assert!(
        metrics
            .contains(r#"dialect="error_code",endpoint="/api/user/login",outcome="server_error""#),
        "{metrics}"
    );
}

const ACCEPT_SUCCESS_MESSAGE: &str = r#"
[[rule]]
name = "success message"
routes = ["GET|POST /api/user/{id}"]
pointer = "/error_msg"
expected = "请求成功"
actual = "success"
reason = "English success message"

[[rule]]
name = "never"
header = "x-legacy"
ignore = true
"#;

#[actix_web::test]
async fn shadow_mode_compares_reads_off_the_request_path_and_never_repeats_writes() {
    let legacy = legacy_backend().await;
    let dir = tempfile::tempdir().unwrap();
    let rules = write(dir.path(), "accepted.toml", ACCEPT_SUCCESS_MESSAGE);
    let gateway = TestApp::spawn(&format!(
        "[dialects.error_code]\nmode = \"shadow\"\nlegacy_url = \"{}\"\n\
         [legacy]\naccept = \"{}\"\nkeep_differences = 10\n",
        legacy.url("error_code", ""),
        rules.display()
    ))
    .await;
    // The same users on both sides (an imported user table), one of them renamed since.
    let mut ids = Vec::new();
    for (phone, legacy_name, our_name) in [
        ("13800000001", "张三", "张三"),
        ("13800000002", "李四", "王五"),
    ] {
        let mut pair = Vec::new();
        for (app, name) in [(&legacy, legacy_name), (&gateway, our_name)] {
            pair.push(app.create_user(phone, "secret1", name).await);
        }
        assert_eq!(pair[0], pair[1], "both sides number users alike");
        ids.push(pair[0]);
    }

    // A write is answered by Rosetta alone.
    let registered = gateway
        .send(
            "error_code",
            "POST",
            "/api/user/register",
            &[JSON],
            r#"{"username":"s@test.com","password":"123456","name":"新"}"#.as_bytes(),
        )
        .await
        .json();
    assert_eq!(registered["error_msg"], "success");

    // Reads: Rosetta answers at once, the legacy backend is asked too.
    for id in [ids[0], ids[1], 999_999] {
        let read = gateway
            .send("error_code", "GET", &format!("/api/user/{id}"), &[], b"")
            .await;
        assert_eq!(read.status, 200);
        assert_ne!(read.json()["error_msg"], "请求成功", "Rosetta answered");
    }
    let shadow = eventually(async || {
        let shadow = gateway
            .admin("GET", "/admin/shadow", serde_json::json!({}))
            .await
            .json();
        let counts = shadow["endpoints"].as_array()?.first()?.clone();
        let compared = ["same", "accepted", "different"]
            .iter()
            .map(|k| counts[k].as_u64().unwrap_or(0))
            .sum::<u64>();
        (compared == 3).then_some(shadow)
    })
    .await;
    assert_eq!(
        shadow["endpoints"],
        serde_json::json!([{"dialect": "error_code", "endpoint": "/api/user/{id}",
            "same": 1, "accepted": 1, "different": 1, "failed": 0, "skipped": 0}]),
        "the unknown user is the same on both sides, the renamed one differs: {shadow}"
    );
    assert_eq!(
        shadow["rules"],
        serde_json::json!([{"name": "success message", "hits": 2}, {"name": "never", "hits": 0}])
    );
    let listed = &shadow["differences"][0];
    assert_eq!(listed["path"], format!("/api/user/{}", ids[1]));
    let kept = gateway
        .admin(
            "GET",
            &format!("/admin/shadow/{}", listed["id"]),
            serde_json::json!({}),
        )
        .await
        .json();
    assert_eq!(
        kept["differences"],
        serde_json::json!([{"pointer": "/body/data/name", "expected": "\"李四\"", "actual": "\"王五\""}])
    );
    assert_eq!(kept["accepted"][0]["reason"], "English success message");
    assert_eq!(kept["legacy"]["json"]["error_msg"], "请求成功");
    assert_eq!(kept["rosetta"]["json"]["error_msg"], "success");
    let gone = gateway
        .admin("GET", "/admin/shadow/424242", serde_json::json!({}))
        .await;
    assert_eq!(gone.status, 404);

    // The write never reached the legacy backend.
    let legacy_metrics = legacy.send("ops", "GET", "/metrics", &[], b"").await.text();
    assert!(
        !legacy_metrics.contains("/api/user/register"),
        "{legacy_metrics}"
    );
    let metrics = gateway
        .send("ops", "GET", "/metrics", &[], b"")
        .await
        .text();
    assert!(
        metrics.contains(
            r#"rosetta_shadow_comparisons_total{dialect="error_code",endpoint="/api/user/{id}",result="different"} 1"#
        ),
        "{metrics}"
    );

    // A legacy backend that stops answering: the reads are still Rosetta's, the comparisons fail.
    drop(legacy);
    let read = gateway
        .send(
            "error_code",
            "GET",
            &format!("/api/user/{}", ids[0]),
            &[],
            b"",
        )
        .await;
    assert_eq!(read.json()["error_msg"], "success");
    eventually(async || {
        let shadow = gateway
            .admin("GET", "/admin/shadow", serde_json::json!({}))
            .await
            .json();
        (shadow["endpoints"][0]["failed"] == 1).then_some(())
    })
    .await;
}

/// `rosetta serve` reads its settings again on SIGHUP: the modes change without a restart, and
/// a file that cannot be used changes nothing.
#[actix_web::test]
async fn sighup_applies_the_modes_of_the_settings_file() {
    let legacy = legacy_backend().await;
    let dir = tempfile::tempdir().unwrap();
    let (dialect_port, ops_port) = (support::free_port(), support::free_port());
    let others: String = rosetta::dialects::registry()
        .iter()
        .filter(|spec| spec.id != "error_code")
        .map(|spec| format!("[dialects.{}]\nlisten = \"127.0.0.1:0\"\n", spec.id))
        .collect();
    let settings = |mode: &str| {
        format!(
            "[database]\nurl = \"sqlite://{db}\"\n[ops]\nlisten = \"127.0.0.1:{ops_port}\"\n\
             admin_token = \"{token}\"\n[security]\nbcrypt_cost = 4\n[testing]\nenabled = true\n\
             [dialects.error_code]\nlisten = \"127.0.0.1:{dialect_port}\"\nmode = \"{mode}\"\n\
             legacy_url = \"{legacy}\"\n{others}",
            db = dir.path().join("gateway.db").display(),
            token = support::ADMIN_TOKEN,
            legacy = legacy.url("error_code", ""),
        )
    };
    let config = write(dir.path(), "rosetta.toml", &settings("serve"));
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = awc::Client::default();
    let mode = async || -> Option<String> {
        let mut answer = client
            .get(format!("http://127.0.0.1:{ops_port}/admin/dialects"))
            .insert_header(("Authorization", format!("Bearer {}", support::ADMIN_TOKEN)))
            .send()
            .await
            .ok()?;
        let body: serde_json::Value = answer.json().await.ok()?;
        body["dialects"]
            .as_array()?
            .iter()
            .find(|d| d["id"] == "error_code")
            .map(|d| d["mode"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(eventually(async || mode().await).await, "serve");
    let hang_up = |child: &std::process::Child| {
        let pid = i32::try_from(child.id()).unwrap();
        // SAFETY: kill(2) with a child's pid and a signal number has no memory effects.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    };

    std::fs::write(&config, settings("proxy")).unwrap();
    hang_up(&child);
    eventually(async || (mode().await? == "proxy").then_some(())).await;
    let mut answer = client
        .post(format!("http://127.0.0.1:{dialect_port}/api/user/register"))
        .insert_header(JSON)
        .send_body(r#"{"username":"h@test.com","password":"123456","name":"张三"}"#)
        .await
        .unwrap();
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error_msg"], "请求成功", "the legacy backend answered");

    // An unusable file: the process keeps its modes (and keeps running).
    std::fs::write(&config, settings("sideways")).unwrap();
    hang_up(&child);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(mode().await.as_deref(), Some("proxy"));
    assert!(child.try_wait().unwrap().is_none(), "still serving");

    std::fs::write(&config, settings("serve")).unwrap();
    hang_up(&child);
    eventually(async || (mode().await? == "serve").then_some(())).await;
    let _ = child.kill();
    let _ = child.wait();
}

#[actix_web::test]
async fn the_admin_api_looks_users_up_and_shows_traffic_over_time() {
    let app = TestApp::spawn("").await;
    let id = app.create_user("13800000001", "secret1", "张三").await;
    let login = app
        .send(
            "code_result",
            "POST",
            "/user/login",
            &[JSON],
            br#"{"region":"86","phone":"13800000001","password":"secret1"}"#,
        )
        .await;
    assert_eq!(login.json()["code"], 200, "{}", login.text());

    let found = app
        .admin(
            "GET",
            "/admin/users?phone=13800000001",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(found.status, 200, "{}", found.text());
    let user = found.json();
    assert_eq!(
        (
            user["id"].as_i64(),
            &user["region"],
            &user["phone"],
            &user["nickname"],
            &user["role"],
            &user["banned"]
        ),
        (
            Some(id),
            &"86".into(),
            &"13800000001".into(),
            &"张三".into(),
            &"normal".into(),
            &false.into()
        )
    );
    let sessions = user["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{user}");
    assert_eq!(sessions[0]["dialect"], "code_result");
    assert!(sessions[0]["expires_at"].as_i64() > sessions[0]["created_at"].as_i64());
    assert!(!user.to_string().contains("token"), "never a token: {user}");
    let by_id = app
        .admin("GET", &format!("/admin/users/{id}"), serde_json::json!({}))
        .await;
    assert_eq!(by_id.json(), user);

    for (path, status, message) in [
        (
            "/admin/users?phone=13899999999",
            404,
            "no account has +86 13899999999",
        ),
        ("/admin/users?phone=123", 400, "is not a phone number"),
        ("/admin/users", 400, "give phone="),
        ("/admin/users/424242", 404, ""),
        ("/admin/users/abc", 404, ""),
    ] {
        let refused = app.admin("GET", path, serde_json::json!({})).await;
        assert_eq!(refused.status, status, "{path}: {}", refused.text());
        assert!(
            refused.json()["error"].as_str().unwrap().contains(message),
            "{}",
            refused.text()
        );
    }

    let traffic = app
        .admin("GET", "/admin/traffic", serde_json::json!({}))
        .await
        .json();
    assert_eq!(traffic["slot_seconds"], 10);
    let code_result = traffic["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dialect"] == "code_result")
        .unwrap_or_else(|| panic!("{traffic}"));
    let total: u64 = code_result["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_u64().unwrap())
        .sum();
    assert_eq!(total, 1, "{code_result}");

    // The console is served with the admin API, and only then.
    let page = app.send("ops", "GET", "/console", &[], b"").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Rosetta ops console"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    let script = app
        .send("ops", "GET", "/console/console.js", &[], b"")
        .await;
    assert!(
        script
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    let without = TestApp::spawn_with(support::TestDb::sqlite(), |db| {
        let mut settings = support::test_settings(db, "");
        settings.ops.admin_token = None;
        settings
    })
    .await;
    let off = without.send("ops", "GET", "/console", &[], b"").await;
    assert_eq!(off.status, 404);
    assert!(off.text().contains("set ops.admin_token"), "{}", off.text());
}

/// The Grafana dashboard under `examples/` queries only series the gateway exposes, with labels
/// they carry.
#[actix_web::test]
async fn the_grafana_dashboard_queries_the_gateways_own_metrics() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/grafana/rosetta-cockpit.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut expressions = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            expressions.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(expressions.len() >= 10, "{expressions:?}");

    // A gateway with traffic and a shadow comparison, so every series exists.
    let legacy = legacy_backend().await;
    let gateway = TestApp::spawn(&format!(
        "[dialects.error_code]\nmode = \"shadow\"\nlegacy_url = \"{}\"\n",
        legacy.url("error_code", "")
    ))
    .await;
    gateway
        .send("error_code", "GET", "/api/user/1", &[], b"")
        .await;
    let metrics = eventually(async || {
        let text = gateway
            .send("ops", "GET", "/metrics", &[], b"")
            .await
            .text();
        text.contains("rosetta_shadow_comparisons_total{")
            .then_some(text)
    })
    .await;
    let metric_name = regex::Regex::new(r"rosetta_[a-z_]+").unwrap();
    let label_name = regex::Regex::new(r"([a-z_]+)\s*(?:=~|!=|=)").unwrap();
    for expression in &expressions {
        for name in metric_name.find_iter(expression).map(|m| m.as_str()) {
            let sample = metrics
                .lines()
                .find(|line| line.starts_with(name) && !line.starts_with('#'))
                .unwrap_or_else(|| panic!("{name} is not exposed (in {expression})"));
            for label in label_name
                .captures_iter(expression)
                .map(|c| c[1].to_owned())
                .filter(|l| l != "le")
            {
                if name == "rosetta_http_client_errors_total" {
                    continue;
                }
                assert!(
                    sample.contains(&format!("{label}=\""))
                        || expression.contains(&format!("by ({label}")),
                    "{name} has no label {label}: {sample} (in {expression})"
                );
            }
        }
    }
}

/// Two gateway processes on one database: a switch asked of one is followed by the other, and
/// handing the dialect back to the settings file does so for both.
#[actix_web::test]
async fn every_process_on_the_database_follows_a_switch() {
    let legacy = legacy_backend().await;
    let first = TestApp::spawn("").await;
    let shared_url = first.db.url.clone();
    let second = TestApp::spawn_with(support::TestDb::sqlite(), move |db| {
        let mut settings = support::test_settings(db, "");
        settings.database.url = shared_url;
        settings
    })
    .await;
    let mode_of = async |app: &TestApp| -> String {
        let modes = app
            .admin("GET", "/admin/dialects", serde_json::json!({}))
            .await
            .json();
        modes["dialects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == "rest")
            .map(|d| d["mode"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let switched = first
        .admin(
            "PUT",
            "/admin/dialects/rest/mode",
            serde_json::json!({"mode": "proxy", "legacy_url": legacy.url("rest", "")}),
        )
        .await;
    assert_eq!(switched.status, 200, "{}", switched.text());
    assert_eq!(mode_of(&first).await, "proxy", "at once where asked");
    eventually(async || (mode_of(&second).await == "proxy").then_some(())).await;
    // The second process now sends rest's requests to the legacy backend too.
    let direct = legacy.send("rest", "GET", "/users/1", &[], b"").await;
    let via_second = second.send("rest", "GET", "/users/1", &[], b"").await;
    assert_eq!(
        (via_second.status, &via_second.body),
        (direct.status, &direct.body)
    );

    let forgotten = second
        .admin("DELETE", "/admin/dialects/rest/mode", serde_json::json!({}))
        .await;
    assert_eq!(forgotten.json()["mode"], "serve", "{}", forgotten.text());
    eventually(async || (mode_of(&first).await == "serve").then_some(())).await;
}
