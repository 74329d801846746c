//! Record and replay end to end: a recording made by the recorder replays green on a fresh
//! database through rebinding; a hand-written legacy recording does too; a Chromium-shaped HAR
//! replays green; an altered expected value fails with the exact pointer; `{{sms:…}}` works
//! through both SMS sources.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use rosetta::domain::phone::Phone;
use rosetta::replay::har::Filter;
use rosetta::replay::input::{self, Loaded};
use rosetta::replay::report::TranscriptReport;
use rosetta::replay::runner::{self, Options, SmsSource, Target};
use serde_json::{Value, json};
use support::{ADMIN_TOKEN, TestApp};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

async fn replay_on(app: &TestApp, loaded: &Loaded, sms: SmsSource) -> TranscriptReport {
    let target = Target {
        base_url: app.url(&loaded.transcript.dialect, ""),
        sms,
    };
    runner::run(
        loaded,
        &target,
        &Options {
            keep_going: true,
            ..Options::default()
        },
    )
    .await
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// One request a client made and the answer it got.
struct Step {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    reply: support::Reply,
}

async fn step(
    app: &TestApp,
    method: &str,
    path: String,
    headers: Vec<(String, String)>,
    body: &[u8],
) -> Step {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = app.send("error_code", method, &path, &pairs, body).await;
    Step {
        method: method.to_owned(),
        path,
        headers,
        body: body.to_vec(),
        reply,
    }
}

/// A client session: register, log in, edit, read, log out, and a call after the logout.
async fn client_session(app: &TestApp, prefix: &str) -> Vec<Step> {
    let form = || vec![(FORM.0.to_owned(), FORM.1.to_owned())];
    let mut log = vec![
        step(
            app,
            "POST",
            format!("{prefix}/api/user/register"),
            form(),
            r#"{"username":"13912345678","password":"secret-pass","name":"张三"}"#.as_bytes(),
        )
        .await,
        step(
            app,
            "POST",
            format!("{prefix}/api/user/login"),
            form(),
            br#"{"username":"13912345678","password":"secret-pass"}"#,
        )
        .await,
    ];
    let data = log[1].reply.json()["data"].clone();
    let (token, id) = (
        data["token_id"].as_str().unwrap().to_owned(),
        data["userid"].as_str().unwrap().to_owned(),
    );
    let authed = || {
        vec![
            (FORM.0.to_owned(), FORM.1.to_owned()),
            ("X-Auth-Token".to_owned(), token.clone()),
        ]
    };
    log.push(
        step(
            app,
            "POST",
            format!("{prefix}/api/user/{id}/edit"),
            authed(),
            r#"{"name":"王五"}"#.as_bytes(),
        )
        .await,
    );
    log.push(
        step(
            app,
            "GET",
            format!("{prefix}/api/user/{id}"),
            Vec::new(),
            b"",
        )
        .await,
    );
    log.push(
        step(
            app,
            "POST",
            format!("{prefix}/api/user/logout"),
            authed(),
            br#"{"username":"13912345678"}"#,
        )
        .await,
    );
    log.push(
        step(
            app,
            "POST",
            format!("{prefix}/api/user/{id}/edit"),
            authed(),
            br#"{"name":"x"}"#,
        )
        .await,
    );
    assert_eq!(
        log[5].reply.json()["error_code"],
        json!(4),
        "the token ended with the logout"
    );
    log
}

/// Users created first, so the client's user gets an id a fresh database will not give it.
async fn occupy_ids(app: &TestApp, count: usize) {
    for i in 0..count {
        app.create_user(&format!("1370000000{i}"), "pw", "filler")
            .await;
    }
}

/// Whether a recording still shows `secret` as a value or a part of one (a form or query
/// field, a cookie): in any string of any line, with no letter or digit right before or after
/// it. A 4-digit SMS code is also, by chance, part of many a longer number (a phone, a time) and
/// can be the year of a `date` header: neither is the code, so neither counts.
fn recording_shows(text: &str, secret: &str) -> bool {
    fn shows(value: &Value, secret: &str) -> bool {
        match value {
            Value::String(text) => text.match_indices(secret).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                let after = text[at + secret.len()..].chars().next();
                [before, after]
                    .iter()
                    .all(|c| !c.is_some_and(|c| c.is_ascii_alphanumeric()))
            }),
            Value::Array(items) => items.iter().any(|item| shows(item, secret)),
            Value::Object(fields) => fields
                .iter()
                .any(|(name, item)| !name.eq_ignore_ascii_case("date") && shows(item, secret)),
            _ => false,
        }
    }
    text.lines()
        .any(|line| shows(&serde_json::from_str(line).unwrap(), secret))
}

/// The recording of `dialect` in `dir` once it has `lines` lines: the writer works off the
/// request path, so its lines come a little after the answers.
async fn recorded_file(dir: &Path, dialect: &str, lines: usize) -> PathBuf {
    let prefix = format!("{dialect}-");
    let started = Instant::now();
    loop {
        let found: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            })
            .collect();
        if let Some(file) = found.first()
            && std::fs::read_to_string(file).unwrap().lines().count() == lines
        {
            return file.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the recorder wrote {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn a_recording_replays_green_on_a_fresh_database_through_rebinding() {
    let dir = tempfile::tempdir().unwrap();
    let record = format!(
        "[record]\nenabled = true\ndir = \"{}\"\nredact = true\n",
        dir.path().display()
    );
    let recording_app = TestApp::spawn(&record).await;
    occupy_ids(&recording_app, 3).await;
    let session = client_session(&recording_app, "").await;
    assert_eq!(session[1].reply.json()["data"]["userid"], json!("100003"));

    let file = recorded_file(dir.path(), "error_code", session.len()).await;
    assert!(
        file.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("error_code-")
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("secret-pass"), "passwords are redacted");
    let live_token = session[1].reply.json()["data"]["token_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!text.contains(&live_token), "tokens are redacted");
    assert!(text.contains("redacted-"));
    drop(recording_app);

    let loaded = input::load(&file, None, &Filter::default()).unwrap();
    assert!(loaded.transcript.rebind);
    assert_eq!(loaded.transcript.exchanges.len(), 6);
    let fresh = TestApp::spawn("").await;
    let report = replay_on(&fresh, &loaded, SmsSource::Unavailable).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));
    // It really was rebound: the same account has another id on the fresh database.
    assert_eq!(
        fresh
            .service()
            .find_user_by_phone(&Phone::mainland("13912345678").unwrap())
            .await
            .unwrap(),
        Some(100_000)
    );
}

#[actix_web::test]
async fn a_legacy_recording_without_placeholders_replays_with_other_tokens_and_ids() {
    // As a legacy BlueU server answered: user id 4, its own token.
    let recording = json!({
        "version": 1, "dialect": "error_code", "title": "legacy", "source": "legacy server capture", "rebind": true,
        "exchanges": [
            {"name": "register", "request": {"method": "POST", "path": "/api/user/register", "json": {"username": "lisi", "password": "123456", "name": "李四"}},
             "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success"}}},
            {"name": "login", "request": {"method": "POST", "path": "/api/user/login", "json": {"username": "lisi", "password": "123456"}},
             "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success", "data": {"token_id": "00320d40-89f8-4b28-d18e-fe12abefcf47", "userid": "4"}}}},
            {"name": "edit", "request": {"method": "POST", "path": "/api/user/4/edit", "headers": {"X-Auth-Token": "00320d40-89f8-4b28-d18e-fe12abefcf47"}, "json": {"name": "王五"}},
             "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success"}}},
            {"name": "detail", "request": {"method": "GET", "path": "/api/user/4"},
             "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success", "data": {"id": "4", "name": "王五", "sex": "0", "century": null, "mobile": null, "pushable": "1"}}}},
            {"name": "logout", "request": {"method": "POST", "path": "/api/user/logout", "headers": {"X-Auth-Token": "00320d40-89f8-4b28-d18e-fe12abefcf47"}, "json": {"username": "lisi"}},
             "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success"}}}
        ]
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "legacy.json", &recording.to_string());
    let loaded = input::load(&path, None, &Filter::default()).unwrap();
    let app = TestApp::spawn("").await;
    let report = replay_on(&app, &loaded, SmsSource::Unavailable).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));

    // Without rebinding the same recording fails exactly where the values differ.
    let mut strict = loaded.clone();
    strict.transcript.rebind = false;
    let fresh = TestApp::spawn("").await;
    let report = runner::run(
        &strict,
        &Target {
            base_url: fresh.url("error_code", ""),
            sms: SmsSource::Unavailable,
        },
        &Options::default(),
    )
    .await;
    let failure = &report.exchanges[1];
    let pointers: Vec<&str> = failure
        .differences
        .iter()
        .map(|d| d.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/body/data/token_id", "/body/data/userid"]);
    assert_eq!(failure.differences[1].expected, "\"4\"");
    assert_eq!(failure.differences[1].actual, "\"100000\"");
}

/// A HAR 1.2 file as Chromium's DevTools exports it, from live exchanges.
fn chromium_har(host: &str, session: &[Step]) -> Value {
    let entries: Vec<Value> = session
        .iter()
        .map(|Step { method, path, headers, body, reply }| {
            let mut request_headers: Vec<Value> = vec![
                json!({"name": "Host", "value": host}),
                json!({"name": "Accept-Encoding", "value": "gzip, deflate, br"}),
                json!({"name": "User-Agent", "value": "Mozilla/5.0 Chrome/156.0"}),
            ];
            request_headers.extend(headers.iter().map(|(k, v)| json!({"name": k, "value": v})));
            let text = String::from_utf8(body.clone()).unwrap();
            let mut request = json!({
                "method": method, "url": format!("http://{host}{path}"), "httpVersion": "HTTP/1.1",
                "headers": request_headers, "queryString": [], "cookies": [], "headersSize": -1, "bodySize": body.len()
            });
            if !body.is_empty() {
                request["postData"] = json!({"mimeType": FORM.1, "text": text, "params": [{"name": text, "value": ""}]});
            }
            let response_headers: Vec<Value> = reply.headers.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
            json!({
                "_initiator": {"type": "script"}, "_priority": "High", "_resourceType": "xhr", "cache": {}, "connection": "4711",
                "pageref": "page_1", "request": request,
                "response": {
                    "status": reply.status, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": response_headers, "cookies": [],
                    "content": {"size": reply.body.len(), "mimeType": "application/json", "compression": 0,
                                "text": base64::engine::general_purpose::STANDARD.encode(&reply.body), "encoding": "base64"},
                    "redirectURL": "", "headersSize": -1, "bodySize": -1, "_transferSize": 420, "_error": null, "_fetchedViaServiceWorker": false
                },
                "serverIPAddress": "127.0.0.1", "startedDateTime": "2026-11-21T05:00:00.000Z", "time": 4.2,
                "timings": {"blocked": 0.5, "dns": -1, "ssl": -1, "connect": -1, "send": 0.1, "wait": 3.2, "receive": 0.4, "_blocked_queueing": 0.3}
            })
        })
        .collect();
    let mut all = vec![json!({
        "request": {"method": "GET", "url": "http://cdn.example/logo.png", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"size": 3, "mimeType": "image/png", "text": "AAAA", "encoding": "base64"}}
    })];
    all.extend(entries);
    json!({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                   "pages": [{"startedDateTime": "2026-11-21T05:00:00.000Z", "id": "page_1", "title": "BlueU", "pageTimings": {}}],
                   "entries": all}})
}

#[actix_web::test]
async fn a_chromium_har_replays_green_directly_and_converted() {
    let captured = TestApp::spawn("[dialects.error_code]\nprefix = \"/blueu\"\n").await;
    occupy_ids(&captured, 2).await;
    let session = client_session(&captured, "/blueu").await;
    let host = captured.address("error_code").unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let har = write(
        dir.path(),
        "capture.har",
        &chromium_har(&host, &session).to_string(),
    );
    drop(captured);

    let filter = Filter {
        host: Some(host.clone()),
        prefix: Some("/blueu".into()),
    };
    let loaded = input::load(&har, Some("error_code"), &filter).unwrap();
    assert_eq!(
        loaded.transcript.exchanges.len(),
        6,
        "the other host's entry is left out"
    );
    let fresh = TestApp::spawn("").await;
    let report = replay_on(&fresh, &loaded, SmsSource::Unavailable).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));

    let converted = dir.path().join("converted.json");
    assert_eq!(
        rosetta::replay_cli::convert(&har, &converted, "error_code", &filter),
        Ok(6)
    );
    let loaded = input::load(&converted, None, &Filter::default()).unwrap();
    let again = TestApp::spawn("").await;
    let report = replay_on(&again, &loaded, SmsSource::Unavailable).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));
}

#[actix_web::test]
async fn an_altered_expected_value_fails_with_its_pointer() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dialects/error_code/transcripts/detail.json");
    let mut loaded = input::load(&path, None, &Filter::default()).unwrap();
    let detail = loaded
        .transcript
        .exchanges
        .iter_mut()
        .find(|e| e.name.starts_with("the detail"))
        .unwrap();
    detail.response.json.as_mut().unwrap()["data"]["century"] = json!("80");
    let app = TestApp::spawn("").await;
    let report = replay_on(&app, &loaded, SmsSource::Unavailable).await;
    assert!(!report.passed());
    let failed: Vec<String> = report
        .exchanges
        .iter()
        .flat_map(|e| e.differences.iter().map(ToString::to_string))
        .collect();
    assert_eq!(
        failed,
        [r#"/body/data/century: expected "80", actual "90""#]
    );
}

#[actix_web::test]
async fn sms_codes_come_from_the_core_or_the_admin_api() {
    let app = TestApp::spawn("").await;
    let phone = Phone::mainland("13912345678").unwrap();
    app.service()
        .send_code(support::code_request(&phone, "register", None))
        .await
        .unwrap();
    let code = app.service().sms_outbox(None).await.unwrap()[0]
        .code
        .clone();
    // The code travels as the name of a new user and comes back in the detail.
    let text = |user: &str| {
        json!({
            "version": 1, "dialect": "error_code", "exchanges": [
                {"name": "register", "request": {"method": "POST", "path": "/api/user/register",
                    "json": {"username": user, "password": "p", "name": "{{sms:+86 139 1234 5678}}"}},
                 "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success"}}},
                {"name": "login", "request": {"method": "POST", "path": "/api/user/login", "json": {"username": user, "password": "p"}},
                 "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success", "data": {"token_id": "{{uuid}}", "userid": "{{id:digits}}"}}}},
                {"name": "detail", "request": {"method": "GET", "path": "/api/user/{{id}}"},
                 "response": {"status": 200, "json": {"error_code": 0, "error_msg": "success",
                    "data": {"id": "{{id}}", "name": "{{code:digits}}", "sex": "0", "century": null, "mobile": null, "pushable": "1"}}}}
            ]
        })
        .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    for (user, sms) in [
        ("core", SmsSource::Core(app.service().clone())),
        (
            "admin",
            SmsSource::Admin {
                url: app.url("ops", ""),
                token: ADMIN_TOKEN.to_owned(),
            },
        ),
    ] {
        let path = write(dir.path(), &format!("{user}.json"), &text(user));
        let loaded = input::load(&path, None, &Filter::default()).unwrap();
        let report = replay_on(&app, &loaded, sms).await;
        assert!(report.passed(), "{user}: {}", report.lines().join("\n"));
        let id: i64 = app
            .service()
            .find_user(
                &rosetta::domain::identity::LoginName::parse_phone_or_username(user).unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(app.service().profile(id).await.unwrap().nickname, code);
    }
    let path = write(dir.path(), "none.json", &text("none"));
    let loaded = input::load(&path, None, &Filter::default()).unwrap();
    let report = replay_on(&app, &loaded, SmsSource::Unavailable).await;
    assert!(
        report.exchanges[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("--admin-url")
    );
}

#[actix_web::test]
async fn an_unwritable_recording_directory_is_logged_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // A directory cannot be made inside a regular file, whoever runs the test.
    let blocker = write(dir.path(), "a-file", "");
    let record = format!(
        "[record]\nenabled = true\ndir = \"{}\"\n",
        blocker.join("recordings").display()
    );
    let app = TestApp::spawn(&record).await;
    for _ in 0..3 {
        let reply = app
            .send(
                "error_code",
                "POST",
                "/api/user/register",
                &[FORM],
                br#"{"username":"u","password":"p","name":"n"}"#,
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("content-type"),
            Some("application/json;charset=utf-8;")
        );
    }
    let detail = app
        .send("error_code", "GET", "/api/user/100000", &[], b"")
        .await;
    assert_eq!(
        detail.json()["data"]["name"],
        json!("n"),
        "requests are answered as without recording"
    );
}

/// A capture of the original SealTalk server (its own ids, cookie, verification token and
/// SMS code) replays green: the cookie, the N3D ids (in bodies, paths and queries), the token
/// and the code are rebound to the gateway's.
#[cfg(feature = "code_result")]
#[actix_web::test]
async fn a_sealtalk_capture_replays_with_its_cookie_ids_and_code_rebound() {
    let legacy_cookie = "8f1e2c3d4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f6";
    let cookie = format!("rong_im_auth={legacy_cookie}");
    let json_ct = json!({"Content-Type": "application/json; charset=utf-8"});
    let recording = json!({
        "version": 1, "dialect": "code_result", "title": "SealTalk capture", "source": "original server capture", "rebind": true,
        "exchanges": [
            {"name": "send_code", "request": {"method": "POST", "path": "/user/send_code", "json": {"region": "86", "phone": "13912345678"}},
             "response": {"status": 200, "headers": json_ct, "json": {"code": 200}}},
            {"name": "verify_code", "request": {"method": "POST", "path": "/user/verify_code", "json": {"region": "86", "phone": "13912345678", "code": "5318"}},
             "response": {"status": 200, "json": {"code": 200, "result": {"verification_token": "75dd0f90-9b0d-11e5-803f-59b82644bc50"}}}},
            {"name": "register", "request": {"method": "POST", "path": "/user/register",
                "json": {"nickname": "Tom", "password": "p4ssw0rd", "verification_token": "75dd0f90-9b0d-11e5-803f-59b82644bc50"}},
             "response": {"status": 200,
                "headers": {"Set-Cookie": format!("{cookie}; Path=/; Expires=Thu, 22 Dec 2016 08:00:00 GMT; HttpOnly")},
                "json": {"code": 200, "result": {"id": "5Vg2XCh9f"}}}},
            {"name": "me", "request": {"method": "GET", "path": "/user/5Vg2XCh9f", "headers": {"Cookie": cookie}},
             "response": {"status": 200, "json": {"code": 200, "result": {"id": "5Vg2XCh9f", "nickname": "Tom", "portraitUri": ""}}}},
            {"name": "batch", "request": {"method": "GET", "path": "/user/batch?id=5Vg2XCh9f", "headers": {"Cookie": cookie}},
             "response": {"status": 200, "json": {"code": 200, "result": [{"id": "5Vg2XCh9f", "nickname": "Tom", "portraitUri": ""}]}}},
            {"name": "set_nickname", "request": {"method": "POST", "path": "/user/set_nickname", "headers": {"Cookie": cookie}, "json": {"nickname": "Tommy"}},
             "response": {"status": 200, "json": {"code": 200}}},
            {"name": "sync", "request": {"method": "GET", "path": "/user/sync/0", "headers": {"Cookie": cookie}},
             "response": {"status": 200, "json": {"code": 200, "result": {"version": 1479801600000i64,
                "user": {"id": 4, "nickname": "Tommy", "portraitUri": "", "timestamp": 1479801600000i64},
                "blacklist": [], "friends": [], "groups": [], "group_members": null}}}},
            {"name": "logout", "request": {"method": "POST", "path": "/user/logout", "headers": {"Cookie": cookie}, "json": {}},
             "response": {"status": 200, "json": {"code": 200}}},
            {"name": "after logout", "request": {"method": "GET", "path": "/user/5Vg2XCh9f", "headers": {"Cookie": cookie}},
             "response": {"status": 403, "headers": {"Content-Type": "text/html; charset=utf-8"}, "text": "Not loged in."}}
        ]
    });
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sealtalk.json", &recording.to_string());
    let loaded = input::load(&path, None, &Filter::default()).unwrap();
    let app = TestApp::spawn("").await;
    occupy_ids(&app, 2).await;
    let report = replay_on(&app, &loaded, SmsSource::Core(app.service().clone())).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));

    // Without rebinding, the recorded code is wrong here: the first difference.
    let mut strict = loaded.clone();
    strict.transcript.rebind = false;
    let fresh = TestApp::spawn("").await;
    let report = runner::run(
        &strict,
        &Target {
            base_url: fresh.url("code_result", ""),
            sms: SmsSource::Core(fresh.service().clone()),
        },
        &Options::default(),
    )
    .await;
    let pointers: Vec<&str> = report.exchanges[1]
        .differences
        .iter()
        .map(|d| d.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/body/code", "/body/result", "/body/message"]);
}

/// The recorder's SealTalk capture (cookie, verification token and code redacted) replays green
/// on a fresh database, where every id is another.
#[cfg(feature = "code_result")]
#[actix_web::test]
async fn a_recorded_sealtalk_session_replays_green_on_a_fresh_database() {
    let dir = tempfile::tempdir().unwrap();
    let record = format!(
        "[record]\nenabled = true\ndir = \"{}\"\nredact = true\n",
        dir.path().display()
    );
    let app = TestApp::spawn(&record).await;
    occupy_ids(&app, 3).await;
    let json_header = [("Content-Type", "application/json")];
    let send = |path: &'static str, body: Value, cookie: Option<String>| {
        let app = &app;
        async move {
            let cookie = cookie.map(|c| format!("rong_im_auth={c}"));
            let mut headers = json_header.to_vec();
            if let Some(c) = &cookie {
                headers.push(("Cookie", c.as_str()));
            }
            app.send(
                "code_result",
                "POST",
                path,
                &headers,
                body.to_string().as_bytes(),
            )
            .await
        }
    };
    send(
        "/user/send_code",
        json!({"region": "86", "phone": "13912345678"}),
        None,
    )
    .await;
    let code = app.service().sms_outbox(None).await.unwrap()[0]
        .code
        .clone();
    let verified = send(
        "/user/verify_code",
        json!({"region": "86", "phone": "13912345678", "code": code}),
        None,
    )
    .await
    .json();
    let ticket = verified["result"]["verification_token"].clone();
    let registered = send(
        "/user/register",
        json!({"nickname": "Tom", "password": "secret-pass", "verification_token": ticket}),
        None,
    )
    .await;
    let id = registered.json()["result"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = registered
        .header("set-cookie")
        .unwrap()
        .trim_start_matches("rong_im_auth=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let cookie_header = format!("rong_im_auth={cookie}");
    app.send(
        "code_result",
        "GET",
        &format!("/user/{id}"),
        &[("Cookie", &cookie_header)],
        b"",
    )
    .await;
    send(
        "/user/set_nickname",
        json!({"nickname": "Tommy"}),
        Some(cookie.clone()),
    )
    .await;
    app.send(
        "code_result",
        "GET",
        "/user/sync/0",
        &[("Cookie", &cookie_header)],
        b"",
    )
    .await;
    send("/user/logout", json!({}), Some(cookie.clone())).await;
    let exchanges = 7;

    let file = recorded_file(dir.path(), "code_result", exchanges).await;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        recording_shows(&text, "13912345678"),
        "what is kept is seen"
    );
    for secret in [
        cookie.as_str(),
        "secret-pass",
        ticket.as_str().unwrap(),
        code.as_str(),
    ] {
        assert!(!recording_shows(&text, secret), "{secret} is redacted");
    }
    drop(app);

    let loaded = input::load(&file, None, &Filter::default()).unwrap();
    assert_eq!(loaded.transcript.exchanges.len(), exchanges);
    let fresh = TestApp::spawn("").await;
    let report = replay_on(&fresh, &loaded, SmsSource::Core(fresh.service().clone())).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));
}

/// The recorder's capture of a Struts session (header session, md5 passwords, an SMS code and a
/// multipart photo upload) replays green on a fresh database, with `uid`, `accessToken` and
/// `expire` rebound.
#[cfg(feature = "struts")]
#[actix_web::test]
async fn a_recorded_struts_session_with_an_upload_replays_green() {
    let dir = tempfile::tempdir().unwrap();
    let record = format!(
        "[record]\nenabled = true\ndir = \"{}\"\nredact = true\n",
        dir.path().display()
    );
    let app = TestApp::spawn(&record).await;
    occupy_ids(&app, 2).await;
    let post = |path: &'static str,
                pairs: Vec<(&'static str, String)>,
                session: Option<(String, String)>| {
        let app = &app;
        async move {
            let mut headers = vec![
                (
                    "Content-Type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                ),
                ("client".to_owned(), "F9FQXGP8FCM5".to_owned()),
            ];
            if let Some((uid, token)) = session {
                headers.push(("uid".to_owned(), uid));
                headers.push(("accessToken".to_owned(), token));
            }
            let pairs_ref: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let body = serde_urlencoded::to_string(&pairs).unwrap();
            app.send("struts", "POST", path, &pairs_ref, body.as_bytes())
                .await
        }
    };
    let phone = "13800000000".to_owned();
    let md5 = "5ebe2294ecd0e0f08eab7690d2a6ee69".to_owned(); // md5("secret")
    post(
        "/user/user!sendRegisterCode",
        vec![("userVO.userMobile", phone.clone())],
        None,
    )
    .await;
    let code = app.service().sms_outbox(None).await.unwrap()[0]
        .code
        .clone();
    post(
        "/user/user!register",
        vec![
            ("userVO.userMobile", phone.clone()),
            ("userVO.password", md5.clone()),
            ("telSecurityCode", code.clone()),
        ],
        None,
    )
    .await;
    let login = post(
        "/user/user!login",
        vec![
            ("userVO.userName", phone.clone()),
            ("userVO.password", md5.clone()),
        ],
        None,
    )
    .await;
    let session = (
        login.header("uid").unwrap().to_owned(),
        login.header("accesstoken").unwrap().to_owned(),
    );
    assert_eq!(session.0, "100002");
    let boundary = "rosettaBoundary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"userPhoto\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
    body.extend_from_slice(b"\x89PNG\r\n\x1a\n0123456789abcdef");
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let uploaded = app
        .send(
            "struts",
            "POST",
            "/user/user!uploadPhoto",
            &[
                ("Content-Type", content_type.as_str()),
                ("uid", session.0.as_str()),
                ("accessToken", session.1.as_str()),
                ("client", "F9FQXGP8FCM5"),
            ],
            &body,
        )
        .await;
    assert_eq!(
        uploaded.json()["success"],
        json!(true),
        "{}",
        uploaded.text()
    );
    post("/user/user!readUser", vec![], Some(session.clone())).await;
    post("/user/user!signOut", vec![], Some(session.clone())).await;
    let exchanges = 6;

    let file = recorded_file(dir.path(), "struts", exchanges).await;
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(recording_shows(&text, &phone), "what is kept is seen");
    for secret in [session.1.as_str(), md5.as_str(), code.as_str()] {
        assert!(!recording_shows(&text, secret), "{secret} is redacted");
    }
    drop(app);

    let loaded = input::load(&file, None, &Filter::default()).unwrap();
    assert_eq!(loaded.transcript.exchanges.len(), exchanges);
    assert!(
        loaded.transcript.exchanges[3].request.multipart.is_some(),
        "the upload is kept as multipart"
    );
    let fresh = TestApp::spawn("").await;
    let report = replay_on(&fresh, &loaded, SmsSource::Core(fresh.service().clone())).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));
    assert!(
        fresh.service().avatar(100_000).await.unwrap().is_some(),
        "the photo was uploaded again"
    );
}

/// A recorded `code_sec` session replays green on a fresh database: `uid` and `sec` are rebound,
/// the code comes from the live outbox, and the dialect's fix-up gives `/user/sms` a fresh
/// `utime` with its checksum.
#[cfg(feature = "code_sec")]
#[actix_web::test]
async fn a_recorded_code_sec_session_replays_with_a_fresh_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let record = format!(
        "[record]\nenabled = true\ndir = \"{}\"\nredact = true\n",
        dir.path().display()
    );
    let app = TestApp::spawn(&record).await;
    occupy_ids(&app, 2).await;
    let post = |path: &'static str, pairs: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let body = serde_urlencoded::to_string(&pairs).unwrap();
            app.send("code_sec", "POST", path, &[FORM], body.as_bytes())
                .await
                .json()
        }
    };
    let phone = "13390633695".to_owned();
    let utime = 1_500_000_000i64;
    let sec = (13_390_633_695i64 - utime).rem_euclid(49_477).to_string();
    post(
        "/user/sms",
        vec![
            ("phone", phone.clone()),
            ("utime", utime.to_string()),
            ("sec", sec),
        ],
    )
    .await;
    let code = app.service().sms_outbox(None).await.unwrap()[0]
        .code
        .clone();
    let registered = post(
        "/user/reg",
        vec![
            ("phone", phone.clone()),
            ("yzm", code),
            ("pwd", "5ebe2294ecd0e0f08eab7690d2a6ee69".into()),
        ],
    )
    .await;
    let (uid, sec) = (
        registered["uid"].as_str().unwrap().to_owned(),
        registered["sec"].as_str().unwrap().to_owned(),
    );
    assert_eq!(uid, "100002");
    post(
        "/user/regDetail",
        vec![
            ("uid", uid.clone()),
            ("sec", sec.clone()),
            ("qq_number", "10001".into()),
        ],
    )
    .await;
    post(
        "/user/getUserInfo",
        vec![("uid", uid.clone()), ("sec", sec.clone())],
    )
    .await;
    post(
        "/user/loginout",
        vec![("uid", uid.clone()), ("sec", sec.clone())],
    )
    .await;
    let exchanges = 5;

    let file = recorded_file(dir.path(), "code_sec", exchanges).await;
    assert!(
        !std::fs::read_to_string(&file).unwrap().contains(&sec),
        "the session code is redacted"
    );
    drop(app);

    let loaded = input::load(&file, None, &Filter::default()).unwrap();
    let fresh = TestApp::spawn("").await;
    let report = replay_on(&fresh, &loaded, SmsSource::Core(fresh.service().clone())).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));
}

/// A HAR capture of the original SealTalk server replays green: the session cookie the server
/// set is mapped to the live one, so the captured `Cookie` headers carry the live session.
#[cfg(feature = "code_result")]
#[actix_web::test]
async fn a_sealtalk_har_rebinds_its_session_cookie() {
    let legacy = "8f1e2c3d4b5a69788796a5b4c3d2e1f0a1b2c3d4e5f6";
    let entry = |method: &str,
                 path: &str,
                 cookie: bool,
                 body: Option<Value>,
                 status: u16,
                 headers: Value,
                 text: &str| {
        let mut request_headers = vec![json!({"name": "Host", "value": "api.sealtalk.im"})];
        if cookie {
            request_headers
                .push(json!({"name": "Cookie", "value": format!("rong_im_auth={legacy}")}));
        }
        let mut request = json!({
            "method": method, "url": format!("http://api.sealtalk.im{path}"), "httpVersion": "HTTP/1.1",
            "headers": request_headers, "queryString": [], "cookies": [], "headersSize": -1, "bodySize": -1
        });
        if let Some(body) = body {
            request["headers"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "Content-Type", "value": "application/json"}));
            request["postData"] = json!({"mimeType": "application/json", "text": body.to_string()});
        }
        json!({
            "startedDateTime": "2016-11-22T08:00:00.000Z", "time": 5, "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "headers": headers,
                "cookies": [], "content": {"size": text.len(), "mimeType": "application/json", "text": text},
                "redirectURL": "", "headersSize": -1, "bodySize": -1},
            "cache": {}, "timings": {"send": 0, "wait": 5, "receive": 0}
        })
    };
    let json_ct = json!([{"name": "Content-Type", "value": "application/json; charset=utf-8"}]);
    let har = json!({"log": {"version": "1.2", "creator": {"name": "Charles", "version": "4"}, "entries": [
        entry("POST", "/user/send_code", false, Some(json!({"region": "86", "phone": "13912345678"})), 200, json_ct.clone(), r#"{"code":200}"#),
        entry("POST", "/user/verify_code", false, Some(json!({"region": "86", "phone": "13912345678", "code": "5318"})), 200, json_ct.clone(),
            r#"{"code":200,"result":{"verification_token":"75dd0f90-9b0d-11e5-803f-59b82644bc50"}}"#),
        entry("POST", "/user/register", false, Some(json!({"nickname": "Tom", "password": "p4ssw0rd", "verification_token": "75dd0f90-9b0d-11e5-803f-59b82644bc50"})), 200,
            json!([{"name": "Content-Type", "value": "application/json; charset=utf-8"},
                   {"name": "Set-Cookie", "value": format!("rong_im_auth={legacy}; Path=/; Expires=Thu, 22 Dec 2016 08:00:00 GMT; HttpOnly")},
                   {"name": "X-Powered-By", "value": "Express"}]),
            r#"{"code":200,"result":{"id":"5Vg2XCh9f"}}"#),
        entry("GET", "/user/5Vg2XCh9f", true, None, 200, json_ct.clone(), r#"{"code":200,"result":{"id":"5Vg2XCh9f","nickname":"Tom","portraitUri":""}}"#),
        entry("GET", "/user/blacklist", true, None, 200, json_ct.clone(), r#"{"code":200,"result":[]}"#),
        entry("POST", "/user/logout", true, Some(json!({})), 200, json_ct.clone(), r#"{"code":200}"#),
    ]}});
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sealtalk.har", &har.to_string());
    let loaded = input::load(&path, Some("code_result"), &Filter::default()).unwrap();
    let app = TestApp::spawn("").await;
    occupy_ids(&app, 1).await;
    let report = replay_on(&app, &loaded, SmsSource::Core(app.service().clone())).await;
    assert!(report.passed(), "{}", report.lines().join("\n"));
}

/// One raw HTTP/1.1 exchange (the request closes the connection); the whole answer and how
/// long it took.
fn raw_exchange(address: std::net::SocketAddr, request: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let answer = support::raw_http::send(address, request, Duration::from_secs(15), false)
        .unwrap_or_default();
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// The body of an answer, without its head.
fn answer_body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

#[actix_web::test]
async fn recording_changes_no_answer_and_writes_only_what_replays() {
    let dir = tempfile::tempdir().unwrap();
    let http = "[http]\nbody_timeout_seconds = 1\n";
    let record = format!(
        "[record]\nenabled = true\ndir = \"{}\"\nredact = true\n{http}",
        dir.path().display()
    );
    let recording = TestApp::spawn(&record).await;
    let plain = TestApp::spawn(http).await;

    // A huge declared body, a trickled one and an upgrade: the recorder reads nothing ahead,
    // so each is answered as promptly, and the same, as without recording.
    let hostile: [&[u8]; 3] = [
        b"POST /api/user/register HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 50000000\r\n\r\n{}",
        b"POST /api/user/register HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 40\r\n\r\n{\"user",
        b"POST /api/user/register HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\nContent-Length: 2\r\n\r\n{}",
    ];
    for request in hostile {
        let (recorded, took) = raw_exchange(recording.address("error_code").unwrap(), request);
        assert!(took < Duration::from_secs(3), "{took:?}: {recorded}");
        let (unrecorded, _) = raw_exchange(plain.address("error_code").unwrap(), request);
        assert!(!answer_body(&recorded).is_empty(), "{recorded}");
        assert_eq!(answer_body(&recorded), answer_body(&unrecorded));
    }

    // Blank secrets stay blank (a pseudonym would change the answer they get).
    for blank in ["", "   "] {
        let body = json!({"username": "13900000001", "password": blank, "name": "n"});
        recording
            .send(
                "error_code",
                "POST",
                "/api/user/register",
                &[],
                body.to_string().as_bytes(),
            )
            .await;
    }
    // A method of another spelling is recorded (and replays); `OPTIONS *` cannot replay and
    // is left out.
    let address = recording.address("error_code").unwrap();
    raw_exchange(
        address,
        b"Post /api/user/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
    );
    raw_exchange(
        address,
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );

    let file = recorded_file(dir.path(), "error_code", 6).await;
    drop(recording);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(r#"\"password\":\"\""#), "{text}");
    assert!(text.contains(r#"\"password\":\"   \""#), "{text}");
    assert!(text.contains(r#""method":"Post""#), "{text}");
    assert!(!text.contains(r#""path":"*""#), "{text}");
    assert!(
        text.contains("(request body not recorded: not read whole)"),
        "{text}"
    );
    let loaded = input::load(&file, None, &Filter::default()).unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert_eq!(loaded.transcript.exchanges.len(), 6);
}
