//! The `rest` dialect (document 002) over HTTP: every endpoint's success and each error, exact
//! statuses, bodies and value types. Compiled with the dialect's feature only.
#![cfg(feature = "rest")]

mod support;

use serde_json::{Value, json};
use support::{Reply, TestApp};

const CT: &str = "application/json;charset=UTF-8";
const JSON: (&str, &str) = ("Content-Type", "application/json");
const NUMBER: u64 = 13_699_851_562;

async fn post(app: &TestApp, path: &str, body: Value) -> Reply {
    app.send("rest", "POST", path, &[JSON], body.to_string().as_bytes())
        .await
}

#[track_caller]
fn assert_ok(reply: &Reply, expected: Value) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(CT));
    assert_eq!(reply.text(), serde_json::to_string(&expected).unwrap());
}

/// The status equals `code`, `timestamp` is the server's clock in ms, key order as documented.
#[track_caller]
fn assert_error(app: &TestApp, reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(CT));
    let expected = json!({"timestamp": app.service().now_ms(), "code": status, "error": error});
    assert_eq!(reply.text(), serde_json::to_string(&expected).unwrap());
}

fn tel(number: u64) -> Value {
    json!({"dialCode": 86, "number": number})
}

async fn send_code(app: &TestApp, number: u64, action: &str) -> String {
    let reply = post(
        app,
        "/actions/sms",
        json!({"tel": tel(number), "action": action}),
    )
    .await;
    assert_ok(&reply, json!({"tel": tel(number), "action": action}));
    app.service()
        .sms_outbox(Some(number.to_string()))
        .await
        .unwrap()[0]
        .code
        .clone()
}

fn user(id: i64, number: u64) -> Value {
    json!({
        "userId": id, "nickName": format!("小时候用户{id}"), "tel": tel(number),
        "avatar": null, "gender": "none", "signature": null
    })
}

async fn register(app: &TestApp, number: u64, password: &str) -> i64 {
    let code = send_code(app, number, "signup").await;
    let reply = post(
        app,
        "/users",
        json!({"tel": tel(number), "password": password, "captcha": code}),
    )
    .await;
    let id = reply.json()["userId"].as_i64().expect("userId");
    assert_ok(&reply, user(id, number));
    id
}

#[actix_web::test]
async fn register_as_the_document_shows() {
    let app = TestApp::spawn("").await;
    let code = send_code(&app, NUMBER, "signup").await;
    assert_eq!(code.len(), 6);
    // Numeric strings are accepted; numbers come back.
    let reply = post(&app, "/users", json!({"tel": {"dialCode": "86", "number": "13699851562"}, "password": "909123", "captcha": code})).await;
    assert_ok(&reply, user(100_000, NUMBER));
    let cookie = reply.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("SESSION=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let detail = app.send("rest", "GET", "/users/100000", &[], b"").await;
    assert_ok(&detail, user(100_000, NUMBER));
}

#[actix_web::test]
async fn register_checks_in_the_documents_order() {
    let app = TestApp::spawn("").await;
    register(&app, NUMBER, "909123").await;
    // 1. the user exists (before the password and the captcha are looked at)
    let exists = post(
        &app,
        "/users",
        json!({"tel": tel(NUMBER), "password": "（括号）", "captcha": "000000"}),
    )
    .await;
    assert_error(&app, &exists, 403, "用户已存在。");
    let other = 13_699_851_563;
    let code = send_code(&app, other, "signup").await;
    // 2. special characters, 3. the captcha
    for password in ["（括号）", "with space", "tab\t", &"x".repeat(65)] {
        let reply = post(
            &app,
            "/users",
            json!({"tel": tel(other), "password": password, "captcha": "000000"}),
        )
        .await;
        assert_error(&app, &reply, 403, "请去除密码中的特殊字符。");
    }
    let wrong = post(
        &app,
        "/users",
        json!({"tel": tel(other), "password": "909123", "captcha": "000000x"}),
    )
    .await;
    assert_error(&app, &wrong, 403, "验证码错误，请重新输入。");
    let no_code = post(
        &app,
        "/users",
        json!({"tel": tel(13_699_851_564), "password": "909123", "captcha": "123456"}),
    )
    .await;
    assert_error(&app, &no_code, 403, "验证码错误，请重新输入。");
    // Expired after code_ttl_seconds.
    app.clock.advance_ms(300_001);
    let expired = post(
        &app,
        "/users",
        json!({"tel": tel(other), "password": "909123", "captcha": code}),
    )
    .await;
    assert_error(&app, &expired, 403, "验证码错误，请重新输入。");
    // Missing and malformed fields.
    let missing = post(
        &app,
        "/users",
        json!({"tel": tel(other), "password": "909123"}),
    )
    .await;
    assert_error(&app, &missing, 403, "captcha不能为空。");
    let no_number = post(
        &app,
        "/users",
        json!({"tel": {"dialCode": 86}, "password": "909123", "captcha": "1"}),
    )
    .await;
    assert_error(&app, &no_number, 403, "tel.number不能为空。");
    let bad_tel = post(
        &app,
        "/users",
        json!({"tel": "13699851562", "password": "909123", "captcha": "1"}),
    )
    .await;
    assert_error(&app, &bad_tel, 403, "tel格式不正确。");
    let bad_number = post(
        &app,
        "/users",
        json!({"tel": tel(1_369_985), "password": "909123", "captcha": "1"}),
    )
    .await;
    assert_error(&app, &bad_number, 403, "手机号码格式不正确。");
}

#[actix_web::test]
async fn the_universal_captcha_is_a_test_mode_option() {
    let plain = TestApp::spawn("").await;
    send_code(&plain, NUMBER, "signup").await;
    let refused = post(
        &plain,
        "/users",
        json!({"tel": tel(NUMBER), "password": "909123", "captcha": "909"}),
    )
    .await;
    assert_error(&plain, &refused, 403, "验证码错误，请重新输入。");

    let app = TestApp::spawn("[dialects.rest]\nuniversal_code = \"909\"\n").await;
    send_code(&app, NUMBER, "signup").await;
    let reply = post(
        &app,
        "/users",
        json!({"tel": tel(NUMBER), "password": "909123", "captcha": "909"}),
    )
    .await;
    assert_ok(&reply, user(100_000, NUMBER));
    assert!(
        rosetta::settings::Settings::from_toml("[dialects.rest]\nuniversal_code = \"909\"\n")
            .err()
            .unwrap()
            .to_string()
            .contains("dialects.rest.universal_code")
    );
}

#[actix_web::test]
async fn codes_per_action_and_the_daily_limit() {
    let app = TestApp::spawn("").await;
    for action in ["resetPassword", "resetPhone"] {
        let reply = post(
            &app,
            "/actions/sms",
            json!({"tel": tel(NUMBER), "action": action}),
        )
        .await;
        assert_error(&app, &reply, 403, "用户不存在。");
    }
    register(&app, NUMBER, "909123").await;
    let taken = post(
        &app,
        "/actions/sms",
        json!({"tel": tel(NUMBER), "action": "signup"}),
    )
    .await;
    assert_error(&app, &taken, 403, "您的手机号码已被注册了。");
    send_code(&app, NUMBER, "resetPassword").await;
    send_code(&app, NUMBER, "resetPhone").await;
    // The signup code was the first of three today.
    app.clock.advance_ms(61_000);
    let fourth = post(
        &app,
        "/actions/sms",
        json!({"tel": tel(NUMBER), "action": "resetPassword"}),
    )
    .await;
    assert_error(&app, &fourth, 403, "验证码发送次数已达上限。");
    let unknown = post(
        &app,
        "/actions/sms",
        json!({"tel": tel(NUMBER), "action": "login"}),
    )
    .await;
    assert_error(&app, &unknown, 403, "不支持的验证码场景。");
}

#[actix_web::test]
async fn signin_answers_the_user_or_one_refusal() {
    let app = TestApp::spawn("").await;
    let id = register(&app, NUMBER, "909123").await;
    let reply = post(
        &app,
        "/users/signin",
        json!({"tel": tel(NUMBER), "password": "909123"}),
    )
    .await;
    assert_ok(&reply, user(id, NUMBER));
    assert!(reply.header("set-cookie").unwrap().starts_with("SESSION="));
    let flat = post(
        &app,
        "/users/signin",
        json!({"dialCode": 86, "number": NUMBER, "password": "909123"}),
    )
    .await;
    assert_ok(&flat, user(id, NUMBER));
    for body in [
        json!({"tel": tel(NUMBER), "password": "wrong"}),
        json!({"tel": tel(13_699_851_599), "password": "909123"}),
    ] {
        assert_error(
            &app,
            &post(&app, "/users/signin", body).await,
            403,
            "用户不存在或密码错误。",
        );
    }
    app.admin("POST", &format!("/admin/users/{id}/ban"), json!({}))
        .await;
    assert_error(
        &app,
        &post(
            &app,
            "/users/signin",
            json!({"tel": tel(NUMBER), "password": "909123"}),
        )
        .await,
        403,
        "用户已被禁用。",
    );
}

#[actix_web::test]
async fn user_details_and_unknown_ids() {
    let app = TestApp::spawn("").await;
    let id = register(&app, NUMBER, "909123").await;
    assert_ok(
        &app.send("rest", "GET", &format!("/users/{id}"), &[], b"")
            .await,
        user(id, NUMBER),
    );
    for path in ["/users/999999", "/users/abc"] {
        assert_error(
            &app,
            &app.send("rest", "GET", path, &[], b"").await,
            404,
            "用户不存在",
        );
    }
}

#[actix_web::test]
async fn gender_follows_the_documents_letters_unless_switched() {
    for (extra, female) in [
        ("", "m"),
        ("[dialects.rest]\ndoc_gender_codes = false\n", "f"),
    ] {
        let app = TestApp::spawn(extra).await;
        let id = register(&app, NUMBER, "909123").await;
        let patch = rosetta::domain::profile::ProfilePatch {
            gender: Some(rosetta::domain::profile::Gender::Female),
            ..Default::default()
        };
        app.service().update_profile(id, patch).await.unwrap();
        let detail = app
            .send("rest", "GET", &format!("/users/{id}"), &[], b"")
            .await
            .json();
        assert_eq!(detail["gender"], json!(female), "{extra}");
    }
}

#[actix_web::test]
async fn bad_input_is_answered_in_the_error_shape() {
    let app = TestApp::spawn("").await;
    assert_error(
        &app,
        &app.send("rest", "GET", "/nothing", &[], b"").await,
        404,
        "接口不存在。",
    );
    assert_error(
        &app,
        &app.send("rest", "GET", "/users", &[], b"").await,
        405,
        "请求方法不支持。",
    );
    assert_error(
        &app,
        &app.send("rest", "POST", "/users", &[JSON], b"{\"tel\":")
            .await,
        400,
        "请求格式错误。",
    );
    assert_error(
        &app,
        &app.send("rest", "POST", "/users", &[JSON], b"[1]").await,
        400,
        "请求格式错误。",
    );
    assert_error(
        &app,
        &app.send("rest", "POST", "/users", &[JSON], &vec![b' '; 100 * 1024])
            .await,
        413,
        "请求内容过大。",
    );
    assert_error(
        &app,
        &app.send("rest", "POST", "/users", &[JSON], b"").await,
        403,
        "tel不能为空。",
    );
}
