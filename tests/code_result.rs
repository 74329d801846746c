//! The `code_result` dialect (SealTalk, document 003) over HTTP: every endpoint's success and
//! each error, exact statuses, Content-Types, bodies and value types. Compiled with the
//! dialect's feature only.
#![cfg(feature = "code_result")]

mod support;

use serde_json::{Value, json};
use support::{Reply, TestApp};

const JSON_CT: &str = "application/json; charset=utf-8";
const TEXT_CT: &str = "text/html; charset=utf-8";
const JSON: (&str, &str) = ("Content-Type", "application/json");
const PHONE: &str = "13912345678";
const PASSWORD: &str = "p4ssw0rd";

/// The original suite's id key (9-character ids).
fn key() -> rosetta::dialects::code_result::n3d::N3d {
    rosetta::dialects::code_result::n3d::N3d::new("abcdefg").unwrap()
}

async fn spawn() -> TestApp {
    TestApp::spawn("[dialects.code_result]\nuniversal_code = \"9999\"\n").await
}

async fn post(app: &TestApp, path: &str, body: Value, cookie: Option<&str>) -> Reply {
    app.post_json(
        "code_result",
        path,
        &body,
        cookie.map(|c| ("rong_im_auth", c)),
    )
    .await
}

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Reply {
    let cookie_header = cookie.map(|c| format!("rong_im_auth={c}"));
    let headers: Vec<(&str, &str)> = cookie_header
        .as_deref()
        .map(|c| vec![("Cookie", c)])
        .unwrap_or_default();
    app.send("code_result", "GET", path, &headers, b"").await
}

/// HTTP 200, the exact JSON Content-Type, `Cache-Control: private` and exactly this body (key
/// order and value types included).
#[track_caller]
fn assert_ok(reply: &Reply, expected: Value) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(JSON_CT));
    assert_eq!(reply.header("cache-control"), Some("private"));
    assert_eq!(
        reply.text(),
        serde_json::to_string(&expected).unwrap(),
        "key order and value types"
    );
}

/// A request error: the status, the plain text, and whether the route (not the middleware)
/// answered, which decides `Cache-Control: private`.
#[track_caller]
fn assert_text(reply: &Reply, status: u16, text: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(TEXT_CT));
    assert_eq!(reply.text(), text);
}

#[track_caller]
fn assert_route_text(reply: &Reply, status: u16, text: &str) {
    assert_text(reply, status, text);
    assert_eq!(reply.header("cache-control"), Some("private"), "{text}");
}

#[track_caller]
fn assert_middleware_text(reply: &Reply, status: u16, text: &str) {
    assert_text(reply, status, text);
    assert_eq!(reply.header("cache-control"), None, "{text}");
}

#[track_caller]
fn assert_not_logged_in(reply: &Reply) {
    assert_middleware_text(reply, 403, "Not loged in.");
}

/// The session cookie a reply set, checked for the original's attributes.
#[track_caller]
fn session_cookie(reply: &Reply) -> String {
    let set = reply.header("set-cookie").expect("Set-Cookie");
    assert!(set.starts_with("rong_im_auth="), "{set}");
    for attribute in ["HttpOnly", "Path=/", "Max-Age=2592000", "Expires="] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    let value = set["rong_im_auth=".len()..].split(';').next().unwrap();
    assert!(!value.is_empty());
    value.to_owned()
}

async fn newest_code(app: &TestApp, phone: &str) -> String {
    app.service()
        .sms_outbox(Some(phone.to_owned()))
        .await
        .unwrap()
        .first()
        .expect("a code was sent")
        .code
        .clone()
}

async fn send_code(app: &TestApp, phone: &str) {
    let reply = post(
        app,
        "/user/send_code",
        json!({"region": "86", "phone": phone}),
        None,
    )
    .await;
    assert_ok(&reply, json!({"code": 200}));
}

/// Sends and verifies a code; the verification token.
async fn verification_token(app: &TestApp, phone: &str) -> String {
    send_code(app, phone).await;
    let code = newest_code(app, phone).await;
    let reply = post(
        app,
        "/user/verify_code",
        json!({"region": "86", "phone": phone, "code": code}),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["result"]["verification_token"]
        .as_str()
        .expect("verification_token")
        .to_owned()
}

/// Registers through the public flow; (wire id, cookie).
async fn register(app: &TestApp, phone: &str, nickname: &str) -> (String, String) {
    let token = verification_token(app, phone).await;
    let reply = post(
        app,
        "/user/register",
        json!({"nickname": nickname, "password": PASSWORD, "verification_token": token}),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let id = reply.json()["result"]["id"].as_str().unwrap().to_owned();
    (id, session_cookie(&reply))
}

fn raw_id(wire: &str) -> i64 {
    i64::try_from(key().decode(wire).expect("an N3D id")).unwrap()
}

#[actix_web::test]
async fn send_code_throttles_and_validates_phones() {
    let app = spawn().await;
    send_code(&app, PHONE).await;
    // A number as the document's sample sends it, and the +86 prefix, are the same phone.
    let again = post(
        &app,
        "/user/send_code",
        json!({"region": 86, "phone": 13912345678u64}),
        None,
    )
    .await;
    assert_ok(
        &again,
        json!({"code": 5000, "message": "Throttle limit exceeded."}),
    );
    let prefixed = post(
        &app,
        "/user/send_code",
        json!({"region": "86", "phone": "+8613912345678"}),
        None,
    )
    .await;
    assert_ok(
        &prefixed,
        json!({"code": 5000, "message": "Throttle limit exceeded."}),
    );
    app.clock.advance_ms(60_000);
    send_code(&app, PHONE).await;
    let code = newest_code(&app, PHONE).await;
    assert_eq!(code.len(), 4, "{code}");

    for (region, phone) in [
        ("86", "20012341234"),
        ("86", "130qwerasdf"),
        ("86", "1391234567"),
        ("86", "23412341234"),
        ("1", "13912345678"),
    ] {
        let reply = post(
            &app,
            "/user/send_code",
            json!({"region": region, "phone": phone}),
            None,
        )
        .await;
        assert_route_text(&reply, 400, "Invalid region and phone number.");
    }
    let reply = post(
        &app,
        "/user/send_code",
        json!({"region": "86", "phone": ""}),
        None,
    )
    .await;
    assert_middleware_text(&reply, 400, "Empty phone.");
    let reply = post(&app, "/user/send_code", json!({"region": "86"}), None).await;
    assert_middleware_text(&reply, 400, "Empty phone.");
    let reply = post(
        &app,
        "/user/send_code",
        json!({"region": null, "phone": PHONE}),
        None,
    )
    .await;
    assert_middleware_text(&reply, 400, "Empty region.");
}

#[actix_web::test]
async fn production_answers_carry_no_message() {
    let app = TestApp::spawn("[security]\nbcrypt_cost = 10\n[testing]\nenabled = false\n").await;
    send_code(&app, PHONE).await;
    let again = post(
        &app,
        "/user/send_code",
        json!({"region": "86", "phone": PHONE}),
        None,
    )
    .await;
    assert_ok(&again, json!({"code": 5000}));
    let wrong = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": PHONE, "code": "0000x"}),
        None,
    )
    .await;
    assert_ok(&wrong, json!({"code": 1000}));
}

#[actix_web::test]
async fn verify_code_answers_as_section_2_9_says() {
    let app = spawn().await;
    let unknown = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": "13800000000", "code": "1234"}),
        None,
    )
    .await;
    assert_route_text(&unknown, 404, "Unknown phone number.");
    // The phone is not validated: an invalid one was simply never sent a code.
    let invalid = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": "123", "code": "1234"}),
        None,
    )
    .await;
    assert_route_text(&invalid, 404, "Unknown phone number.");

    send_code(&app, PHONE).await;
    let wrong = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": PHONE, "code": "0000x"}),
        None,
    )
    .await;
    assert_ok(
        &wrong,
        json!({"code": 1000, "message": "Invalid verification code."}),
    );
    let code = newest_code(&app, PHONE).await;
    let right = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": PHONE, "code": code}),
        None,
    )
    .await;
    assert_eq!(right.status, 200);
    let token = right.json()["result"]["verification_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(
        &right,
        json!({"code": 200, "result": {"verification_token": token}}),
    );
    assert_eq!(token.len(), 36);

    // One token per phone: a later code verifies to the same token.
    app.clock.advance_ms(60_000);
    assert_eq!(verification_token(&app, PHONE).await, token);

    // The universal code (test mode) is checked after the expiry.
    let universal = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": PHONE, "code": "9999"}),
        None,
    )
    .await;
    assert_ok(
        &universal,
        json!({"code": 200, "result": {"verification_token": token}}),
    );
    app.clock.advance_ms(120_001);
    let expired = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": PHONE, "code": "9999"}),
        None,
    )
    .await;
    assert_ok(
        &expired,
        json!({"code": 2000, "message": "Verification code expired."}),
    );

    let missing = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": PHONE}),
        None,
    )
    .await;
    assert_middleware_text(&missing, 400, "Empty code.");
}

#[actix_web::test]
async fn the_universal_code_is_off_unless_configured() {
    let app = TestApp::spawn("").await;
    send_code(&app, PHONE).await;
    let reply = post(
        &app,
        "/user/verify_code",
        json!({"region": "86", "phone": PHONE, "code": "9999"}),
        None,
    )
    .await;
    assert_ok(
        &reply,
        json!({"code": 1000, "message": "Invalid verification code."}),
    );
}

#[actix_web::test]
async fn check_phone_available_turns_false_once_registered() {
    let app = spawn().await;
    let body = json!({"region": "86", "phone": PHONE});
    assert_ok(
        &post(&app, "/user/check_phone_available", body.clone(), None).await,
        json!({"code": 200, "result": true}),
    );
    register(&app, PHONE, "alice").await;
    assert_ok(
        &post(&app, "/user/check_phone_available", body, None).await,
        json!({"code": 200, "result": false, "message": "Phone number has already existed."}),
    );
    let invalid = post(
        &app,
        "/user/check_phone_available",
        json!({"region": "86", "phone": "1"}),
        None,
    )
    .await;
    assert_route_text(&invalid, 400, "Invalid region and phone number.");
}

#[actix_web::test]
async fn register_checks_in_the_original_order() {
    let app = spawn().await;
    let token = verification_token(&app, PHONE).await;
    let attempt = |nickname: &str, password: &str, token: &str| json!({"nickname": nickname, "password": password, "verification_token": token});
    let cases = [
        // A space in the password comes before the nickname's length.
        (
            attempt(&"n".repeat(33), "qwe qwe", &token),
            400,
            "Password must have no space.",
        ),
        (
            attempt(&"n".repeat(33), "short", &token),
            400,
            "Length of nickname invalid.",
        ),
        (
            attempt("alice", "short", "not-a-uuid"),
            400,
            "Length of password invalid.",
        ),
        (
            attempt("alice", &"x".repeat(21), &token),
            400,
            "Length of password invalid.",
        ),
        (
            attempt("alice", PASSWORD, "not-a-uuid"),
            400,
            "Invalid verification_token.",
        ),
        (
            attempt("alice", PASSWORD, "75dd0f90-9b0d-11e5-803f-59b82644bc50"),
            404,
            "Unknown verification_token.",
        ),
    ];
    for (body, status, text) in cases {
        let reply = post(&app, "/user/register", body.clone(), None).await;
        assert_route_text(&reply, status, text);
        assert!(reply.header("set-cookie").is_none());
    }
    let empty = post(&app, "/user/register", attempt("", PASSWORD, &token), None).await;
    assert_middleware_text(&empty, 400, "Empty nickname.");

    let reply = post(
        &app,
        "/user/register",
        attempt("alice", PASSWORD, &token),
        None,
    )
    .await;
    let id = reply.json()["result"]["id"].as_str().unwrap().to_owned();
    assert_ok(&reply, json!({"code": 200, "result": {"id": id}}));
    assert_eq!(id.len(), 9, "a 7-character key gives 9-character ids");
    assert!(raw_id(&id) >= 100_000);
    let cookie = session_cookie(&reply);

    // The token is not used up: the suite registers again with it, then resets with it.
    let again = post(
        &app,
        "/user/register",
        attempt("bob", PASSWORD, &token),
        None,
    )
    .await;
    assert_route_text(&again, 400, "Phone number has already existed.");
    // The cookie works.
    let me = get(&app, &format!("/user/{id}"), Some(&cookie)).await;
    assert_ok(
        &me,
        json!({"code": 200, "result": {"id": id, "nickname": "alice", "portraitUri": ""}}),
    );
}

#[actix_web::test]
async fn nicknames_are_escaped_and_cut_as_the_original_did() {
    let app = spawn().await;
    let token = verification_token(&app, PHONE).await;
    let reply = post(
        &app,
        "/user/register",
        json!({"nickname": "<".repeat(32), "password": PASSWORD, "verification_token": token}),
        None,
    )
    .await;
    let id = reply.json()["result"]["id"].as_str().unwrap().to_owned();
    let cookie = session_cookie(&reply);
    let me = get(&app, &format!("/user/{id}"), Some(&cookie)).await;
    assert_eq!(me.json()["result"]["nickname"], json!("&lt;".repeat(8)));
}

#[actix_web::test]
async fn login_answers_1000_for_unknown_phones_and_wrong_passwords() {
    let app = spawn().await;
    let (id, _) = register(&app, PHONE, "alice").await;
    let unknown = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": "13800000000", "password": PASSWORD}),
        None,
    )
    .await;
    assert_ok(
        &unknown,
        json!({"code": 1000, "message": "Invalid phone or password."}),
    );
    let wrong = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": "wrong-one"}),
        None,
    )
    .await;
    assert_ok(
        &wrong,
        json!({"code": 1000, "message": "Invalid phone or password."}),
    );
    assert!(wrong.header("set-cookie").is_none());
    let invalid = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": "1", "password": PASSWORD}),
        None,
    )
    .await;
    assert_route_text(&invalid, 400, "Invalid region and phone number.");
    let empty = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": ""}),
        None,
    )
    .await;
    assert_middleware_text(&empty, 400, "Empty password.");

    // A JSON number as the phone (the original crashed with a 500).
    let reply = post(
        &app,
        "/user/login",
        json!({"region": 86, "phone": 13912345678u64, "password": PASSWORD}),
        None,
    )
    .await;
    let token = reply.json()["result"]["token"].as_str().unwrap().to_owned();
    assert_ok(
        &reply,
        json!({"code": 200, "result": {"id": id, "token": token}}),
    );
    let cookie = session_cookie(&reply);
    // The IM token is kept until get_token makes a new one.
    let again = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(again.json()["result"]["token"], json!(token));
    let fresh = get(&app, "/user/get_token", Some(&cookie)).await;
    let new_token = fresh.json()["result"]["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    assert_ok(
        &fresh,
        json!({"code": 200, "result": {"userId": id, "token": new_token}}),
    );
}

#[actix_web::test]
async fn logout_clears_the_cookie_and_ends_the_session() {
    let app = spawn().await;
    let (_, cookie) = register(&app, PHONE, "alice").await;
    assert_not_logged_in(&post(&app, "/user/logout", json!({}), None).await);
    let reply = post(&app, "/user/logout", json!({}), Some(&cookie)).await;
    assert_ok(&reply, json!({"code": 200}));
    let set = reply.header("set-cookie").unwrap();
    assert!(set.starts_with("rong_im_auth=;"), "{set}");
    assert!(
        set.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        "{set}"
    );
    assert!(set.contains("Path=/"), "{set}");
    // A copied cookie no longer works (the original's did).
    assert_not_logged_in(&get(&app, "/user/blacklist", Some(&cookie)).await);
}

#[actix_web::test]
async fn missing_empty_and_forged_cookies_are_not_logged_in() {
    let app = spawn().await;
    register(&app, PHONE, "alice").await;
    for cookie in [None, Some(""), Some("deadbeef"), Some("%zz")] {
        assert_not_logged_in(&get(&app, "/user/blacklist", cookie).await);
    }
}

#[actix_web::test]
async fn reset_password_reuses_the_token_and_ends_every_session() {
    let app = spawn().await;
    let token = verification_token(&app, PHONE).await;
    let reply = post(
        &app,
        "/user/register",
        json!({"nickname": "alice", "password": PASSWORD, "verification_token": token}),
        None,
    )
    .await;
    let cookie = session_cookie(&reply);
    let bad =
        |password: &str, token: &str| json!({"password": password, "verification_token": token});
    assert_route_text(
        &post(&app, "/user/reset_password", bad(" qwe qwe", &token), None).await,
        400,
        "Password must have no space.",
    );
    assert_route_text(
        &post(&app, "/user/reset_password", bad("short", &token), None).await,
        400,
        "Length of password invalid.",
    );
    assert_route_text(
        &post(&app, "/user/reset_password", bad("new-pass1", "x"), None).await,
        400,
        "Invalid verification_token.",
    );
    assert_route_text(
        &post(
            &app,
            "/user/reset_password",
            bad("new-pass1", "75dd0f90-9b0d-11e5-803f-59b82644bc50"),
            None,
        )
        .await,
        404,
        "Unknown verification_token.",
    );
    assert_ok(
        &post(&app, "/user/reset_password", bad("new-pass1", &token), None).await,
        json!({"code": 200}),
    );
    assert_not_logged_in(&get(&app, "/user/blacklist", Some(&cookie)).await);
    let old = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": PASSWORD}),
        None,
    )
    .await;
    assert_ok(
        &old,
        json!({"code": 1000, "message": "Invalid phone or password."}),
    );
    let new = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": "new-pass1"}),
        None,
    )
    .await;
    assert_eq!(new.json()["code"], json!(200));

    // A verified phone without an account: 200 all the same.
    let stranger = verification_token(&app, "13700000000").await;
    assert_ok(
        &post(
            &app,
            "/user/reset_password",
            bad("new-pass1", &stranger),
            None,
        )
        .await,
        json!({"code": 200}),
    );
}

#[actix_web::test]
async fn change_password_keeps_the_callers_cookie_only() {
    let app = spawn().await;
    let (_, cookie) = register(&app, PHONE, "alice").await;
    let login = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": PASSWORD}),
        None,
    )
    .await;
    let other = session_cookie(&login);
    let change = |old: &str, new: &str| json!({"oldPassword": old, "newPassword": new});
    assert_not_logged_in(
        &post(
            &app,
            "/user/change_password",
            change(PASSWORD, "new-pass1"),
            None,
        )
        .await,
    );
    assert_route_text(
        &post(
            &app,
            "/user/change_password",
            change(PASSWORD, "new pass1"),
            Some(&cookie),
        )
        .await,
        400,
        "New password must have no space.",
    );
    assert_route_text(
        &post(
            &app,
            "/user/change_password",
            change(PASSWORD, "new"),
            Some(&cookie),
        )
        .await,
        400,
        "Invalid new password length.",
    );
    assert_middleware_text(
        &post(
            &app,
            "/user/change_password",
            change("", "new-pass1"),
            Some(&cookie),
        )
        .await,
        400,
        "Empty oldPassword.",
    );
    assert_ok(
        &post(
            &app,
            "/user/change_password",
            change("wrong-old", "new-pass1"),
            Some(&cookie),
        )
        .await,
        json!({"code": 1000, "message": "Wrong old password."}),
    );
    assert_ok(
        &post(
            &app,
            "/user/change_password",
            change(PASSWORD, "new-pass1"),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    assert_eq!(
        get(&app, "/user/blacklist", Some(&cookie)).await.status,
        200
    );
    assert_not_logged_in(&get(&app, "/user/blacklist", Some(&other)).await);
}

#[actix_web::test]
async fn nickname_and_portrait_follow_the_rules_and_move_versions() {
    let app = spawn().await;
    let (alice, cookie) = register(&app, PHONE, "alice").await;
    let (bob, bob_cookie) = register(&app, "13800000001", "bob").await;
    let friendship = app
        .admin(
            "POST",
            "/admin/friendships",
            json!({"user_id": raw_id(&alice), "friend_id": raw_id(&bob)}),
        )
        .await;
    assert!(friendship.status < 300, "{}", friendship.text());
    let synced = get(&app, "/user/sync/0", Some(&bob_cookie)).await.json();
    let bob_version = synced["result"]["version"].as_i64().unwrap();

    assert_route_text(
        &post(
            &app,
            "/user/set_nickname",
            json!({"nickname": "n".repeat(33)}),
            Some(&cookie),
        )
        .await,
        400,
        "Invalid nickname length.",
    );
    assert_middleware_text(
        &post(
            &app,
            "/user/set_nickname",
            json!({"nickname": ""}),
            Some(&cookie),
        )
        .await,
        400,
        "Empty nickname.",
    );
    app.clock.advance_ms(1000);
    assert_ok(
        &post(
            &app,
            "/user/set_nickname",
            json!({"nickname": "Alice"}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );

    for (uri, text) in [
        ("ftp://example.com/a.png", "Invalid portraitUri format."),
        ("not a url", "Invalid portraitUri format."),
        ("http://a.cn", "Invalid portraitUri length."),
    ] {
        assert_route_text(
            &post(
                &app,
                "/user/set_portrait_uri",
                json!({"portraitUri": uri}),
                Some(&cookie),
            )
            .await,
            400,
            text,
        );
    }
    let portrait = "http://7xogjk.com1.z0.glb.clouddn.com/portrait.png";
    assert_ok(
        &post(
            &app,
            "/user/set_portrait_uri",
            json!({"portraitUri": portrait}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    let me = get(&app, &format!("/user/{alice}"), Some(&bob_cookie)).await;
    assert_ok(
        &me,
        json!({"code": 200, "result": {"id": alice, "nickname": "Alice", "portraitUri": portrait}}),
    );

    // Bob's friendship version moved, though his friendship rows did not change.
    let later = get(
        &app,
        &format!("/user/sync/{bob_version}"),
        Some(&bob_cookie),
    )
    .await
    .json();
    assert_eq!(later["result"]["friends"], json!([]));
    let own = get(&app, "/user/sync/0", Some(&cookie)).await.json();
    assert_eq!(own["result"]["user"]["nickname"], json!("Alice"));
    assert_eq!(own["result"]["user"]["portraitUri"], json!(portrait));
    assert!(own["result"]["user"]["timestamp"].is_i64());
}

#[actix_web::test]
async fn blacklist_in_the_original_nested_shape() {
    let app = spawn().await;
    let (_, cookie) = register(&app, PHONE, "alice").await;
    let (bob, _) = register(&app, "13800000001", "bob").await;
    assert_ok(
        &get(&app, "/user/blacklist", Some(&cookie)).await,
        json!({"code": 200, "result": []}),
    );
    assert_middleware_text(
        &post(
            &app,
            "/user/add_to_blacklist",
            json!({"friendId": "SeWrfDYG8x"}),
            Some(&cookie),
        )
        .await,
        400,
        "Empty friendId.",
    );
    assert_middleware_text(
        &post(
            &app,
            "/user/add_to_blacklist",
            json!({"friendId": 5}),
            Some(&cookie),
        )
        .await,
        400,
        "Empty friendId.",
    );
    assert_middleware_text(
        &post(&app, "/user/add_to_blacklist", json!({}), Some(&cookie)).await,
        400,
        "Empty friendId.",
    );
    let nobody = key().encode(4_000_000).unwrap();
    assert_route_text(
        &post(
            &app,
            "/user/add_to_blacklist",
            json!({"friendId": nobody}),
            Some(&cookie),
        )
        .await,
        404,
        "friendId is not an available userId.",
    );
    assert_ok(
        &post(
            &app,
            "/user/add_to_blacklist",
            json!({"friendId": bob}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    let list = get(&app, "/user/blacklist", Some(&cookie)).await;
    let updated_at = list.json()["result"][0]["user"]["updatedAt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ok(
        &list,
        json!({"code": 200, "result": [{"user": {"id": bob, "nickname": "bob", "portraitUri": "", "updatedAt": updated_at}}]}),
    );
    let iso = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").unwrap();
    assert!(iso.is_match(&updated_at), "{updated_at}");
    // POST is served on the read paths too.
    let posted = app
        .send(
            "code_result",
            "POST",
            "/user/blacklist",
            &[("Cookie", &format!("rong_im_auth={cookie}"))],
            b"",
        )
        .await;
    assert_eq!(posted.json(), list.json());

    assert_ok(
        &post(
            &app,
            "/user/remove_from_blacklist",
            json!({"friendId": bob}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    assert_ok(
        &post(
            &app,
            "/user/remove_from_blacklist",
            json!({"friendId": nobody}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    assert_ok(
        &get(&app, "/user/blacklist", Some(&cookie)).await,
        json!({"code": 200, "result": []}),
    );
}

#[actix_web::test]
async fn groups_and_sync_in_the_original_shapes() {
    let app = spawn().await;
    let (alice, cookie) = register(&app, PHONE, "alice").await;
    let (bob, _) = register(&app, "13800000001", "bob").await;
    let (alice_raw, bob_raw) = (raw_id(&alice), raw_id(&bob));

    // Nothing changed since registration: every part empty, version null, group_members null.
    let nothing = get(&app, "/user/sync/0", Some(&cookie)).await;
    assert_ok(
        &nothing,
        json!({"code": 200, "result": {"version": null, "user": null, "blacklist": [], "friends": [], "groups": [], "group_members": null}}),
    );

    let group = app
        .admin(
            "POST",
            "/admin/groups",
            json!({"name": "Team", "creator_id": alice_raw, "portrait_uri": ""}),
        )
        .await;
    let group_id = group.json()["id"].as_i64().expect("group id");
    app.admin(
        "POST",
        &format!("/admin/groups/{group_id}/members"),
        json!({"user_id": bob_raw, "display_name": "B"}),
    )
    .await;
    let group_wire = key().encode(u64::try_from(group_id).unwrap()).unwrap();
    assert_ok(
        &get(&app, "/user/groups", Some(&cookie)).await,
        json!({"code": 200, "result": [{"role": 0, "group": {
            "id": group_wire, "name": "Team", "portraitUri": "", "creatorId": alice,
            "memberCount": 2, "maxMemberCount": 500}}]}),
    );

    app.clock.advance_ms(10);
    post(
        &app,
        "/user/add_to_blacklist",
        json!({"friendId": bob}),
        Some(&cookie),
    )
    .await;
    let sync = get(&app, "/user/sync/0", Some(&cookie)).await.json();
    let result = &sync["result"];
    assert_eq!(
        result["user"],
        Value::Null,
        "alice's own profile did not change"
    );
    let blacklisted = &result["blacklist"][0];
    assert_eq!(blacklisted["friendId"], json!(bob_raw), "raw ids in sync");
    assert_eq!(blacklisted["status"], json!(true));
    assert_eq!(
        blacklisted["user"],
        json!({"id": bob_raw, "nickname": "bob", "portraitUri": ""})
    );
    let stamp = blacklisted["timestamp"].as_i64().unwrap();
    assert_eq!(result["groups"][0]["groupId"], json!(group_id));
    assert_eq!(result["groups"][0]["role"], json!(0));
    assert_eq!(result["groups"][0]["isDeleted"], json!(false));
    assert_eq!(
        result["groups"][0]["group"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["id", "name", "portraitUri", "timestamp"]
    );
    let members = result["group_members"].as_array().expect("group members");
    assert_eq!(members.len(), 2);
    assert_eq!(
        members[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "groupId",
            "memberId",
            "displayName",
            "role",
            "isDeleted",
            "timestamp",
            "user"
        ]
    );
    assert_eq!(
        result["version"],
        json!(stamp),
        "the newest timestamp found"
    );
    assert_eq!(
        result.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "version",
            "user",
            "blacklist",
            "friends",
            "groups",
            "group_members"
        ]
    );

    // Since that version only nothing: the same empty answer.
    let later = get(&app, &format!("/user/sync/{stamp}"), Some(&cookie)).await;
    assert_eq!(later.json(), nothing.json());
    for bad in ["abc", "01", "1.5", "+-1"] {
        assert_route_text(
            &get(&app, &format!("/user/sync/{bad}"), Some(&cookie)).await,
            400,
            "Version parameter is not integer.",
        );
    }
}

#[actix_web::test]
async fn batch_find_and_user_lookups() {
    let app = spawn().await;
    let (alice, cookie) = register(&app, PHONE, "alice").await;
    let (bob, _) = register(&app, "13800000001", "bob").await;
    let card =
        |id: &str, nickname: &str| json!({"id": id, "nickname": nickname, "portraitUri": ""});

    let batch = get(
        &app,
        &format!("/user/batch?id={bob}&id=junk&id={alice}&id=SeWrfDYG8"),
        Some(&cookie),
    )
    .await;
    assert_ok(
        &batch,
        json!({"code": 200, "result": [card(&alice, "alice"), card(&bob, "bob")]}),
    );
    assert_ok(
        &get(&app, "/user/batch", Some(&cookie)).await,
        json!({"code": 200, "result": []}),
    );

    assert_ok(
        &get(&app, "/user/find/86/13800000001", Some(&cookie)).await,
        json!({"code": 200, "result": card(&bob, "bob")}),
    );
    assert_route_text(
        &get(&app, "/user/find/86/13700000000", Some(&cookie)).await,
        404,
        "Unknown user.",
    );
    assert_route_text(
        &get(&app, "/user/find/1/13800000001", Some(&cookie)).await,
        400,
        "Invalid region and phone number.",
    );
    assert_not_logged_in(&get(&app, "/user/find/86/13800000001", None).await);

    assert_route_text(
        &get(&app, "/user/SeWrfDYG8", Some(&cookie)).await,
        404,
        "Unknown user.",
    );
    assert_not_logged_in(&get(&app, &format!("/user/{bob}"), None).await);
    // Without a session an id that does not decode is "not logged in" too, not "unknown".
    assert_not_logged_in(&get(&app, "/user/SeWrfDYG8", None).await);
    // Other single segments are the `/:id` route too: even an auth-exempt path.
    assert_route_text(
        &get(&app, "/user/sync", Some(&cookie)).await,
        404,
        "Unknown user.",
    );
    assert_route_text(&get(&app, "/user/login", None).await, 404, "Unknown user.");
    assert_not_logged_in(&get(&app, "/user/sync", None).await);
}

#[actix_web::test]
async fn unknown_routes_are_403_before_404() {
    let app = spawn().await;
    let (_, cookie) = register(&app, PHONE, "alice").await;
    assert_not_logged_in(&get(&app, "/friendship/all", None).await);
    assert_not_logged_in(&post(&app, "/user/no/such", json!({}), None).await);
    let reply = get(&app, "/friendship/all?x=1&y=%3C2%3E", Some(&cookie)).await;
    assert_route_text(&reply, 404, "Cannot GET /friendship/all?x=1&amp;y=%3C2%3E");
    let reply = app
        .send(
            "code_result",
            "PUT",
            "/user/login",
            &[("Cookie", &format!("rong_im_auth={cookie}"))],
            b"",
        )
        .await;
    assert_route_text(&reply, 404, "Cannot PUT /user/login");
    // An exempt path with an unserved method needs no cookie to be told it is not there.
    assert_route_text(
        &app.send("code_result", "PUT", "/user/login", &[], b"")
            .await,
        404,
        "Cannot PUT /user/login",
    );
    let preflight = app
        .send("code_result", "OPTIONS", "/user/login", &[], b"")
        .await;
    assert_eq!(preflight.status, 204);
    assert_route_text(
        &post(&app, "/user/upload_contacts", json!({}), Some(&cookie)).await,
        404,
        "Not implements.",
    );
    assert_not_logged_in(&post(&app, "/user/upload_contacts", json!({}), None).await);
}

#[actix_web::test]
async fn bodies_are_json_with_or_without_a_content_type() {
    let app = spawn().await;
    let body = json!({"region": "86", "phone": PHONE}).to_string();
    let bare = app
        .send(
            "code_result",
            "POST",
            "/user/check_phone_available",
            &[],
            body.as_bytes(),
        )
        .await;
    assert_ok(&bare, json!({"code": 200, "result": true}));
    let malformed = app
        .send(
            "code_result",
            "POST",
            "/user/check_phone_available",
            &[JSON],
            b"{\"region\": ",
        )
        .await;
    assert_eq!(malformed.status, 400, "{}", malformed.text());
    assert_eq!(malformed.header("content-type"), Some(TEXT_CT));
    let array = app
        .send("code_result", "POST", "/user/login", &[JSON], b"[1]")
        .await;
    assert_eq!(array.status, 400);
    let object_phone = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": {"a": 1}, "password": PASSWORD}),
        None,
    )
    .await;
    assert_route_text(&object_phone, 400, "Invalid phone.");
    let huge = vec![b' '; 100 * 1024];
    let too_large = app
        .send("code_result", "POST", "/user/login", &[JSON], &huge)
        .await;
    assert_eq!(too_large.status, 413);
    assert_eq!(too_large.header("content-type"), Some(TEXT_CT));
}

#[actix_web::test]
async fn image_tokens_come_from_the_configured_qiniu_bucket() {
    let app = TestApp::spawn(
        "[dialects.code_result]\nqiniu_access_key = \"rosetta-qiniu-ak\"\nqiniu_secret_key = \"rosetta-qiniu-sk\"\nqiniu_bucket = \"rosetta-avatars\"\nqiniu_bucket_domain = \"img.example.com\"\n",
    )
    .await;
    let (_, cookie) = register(&app, PHONE, "alice").await;
    let reply = get(&app, "/user/get_image_token", Some(&cookie)).await;
    let token = reply.json()["result"]["token"].as_str().unwrap().to_owned();
    assert_ok(
        &reply,
        json!({"code": 200, "result": {"target": "qiniu", "domain": "img.example.com", "token": token}}),
    );
    // AK:sign:policy, the policy naming the bucket and a deadline an hour after the clock.
    let parts: Vec<&str> = token.split(':').collect();
    assert_eq!(parts[0], "rosetta-qiniu-ak");
    use base64::Engine;
    let policy: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE
            .decode(parts[2])
            .unwrap(),
    )
    .unwrap();
    let now_secs = app.service().now_ms() / 1000;
    assert_eq!(
        policy,
        json!({"scope": "rosetta-avatars", "deadline": now_secs + 3600})
    );
    let account = rosetta::providers::qiniu::QiniuAccount::new(
        "rosetta-qiniu-ak",
        "rosetta-qiniu-sk",
        "rosetta-avatars",
    )
    .unwrap();
    assert_eq!(
        token,
        account.upload_token(u64::try_from(now_secs).unwrap(), 3600)
    );
    assert_not_logged_in(&get(&app, "/user/get_image_token", None).await);
}

#[actix_web::test]
async fn image_tokens_without_qiniu_are_a_server_error() {
    let app = spawn().await;
    let (_, cookie) = register(&app, PHONE, "alice").await;
    assert_route_text(
        &get(&app, "/user/get_image_token", Some(&cookie)).await,
        500,
        "Image uploads are not configured.",
    );
}

#[actix_web::test]
async fn picture_codes_gate_send_code_when_required() {
    let app = TestApp::spawn(
        "[testing]\nfixed_code = \"4321\"\n[dialects.code_result]\nrequire_img_code = true\n",
    )
    .await;
    let reply = get(&app, "/user/get_sms_img_code", None).await;
    let result = reply.json()["result"].clone();
    let verify_id = result["verifyId"].as_str().unwrap().to_owned();
    let url = result["url"].as_str().unwrap().to_owned();
    assert_ok(
        &reply,
        json!({"code": 200, "result": {"url": url, "verifyId": verify_id}}),
    );
    let path = url.split_once("//").unwrap().1.split_once('/').unwrap().1;
    let picture = app
        .send("code_result", "GET", &format!("/{path}"), &[], b"")
        .await;
    assert_eq!(picture.status, 200);
    assert_eq!(picture.header("content-type"), Some("image/png"));
    assert_eq!(&picture.body[..8], b"\x89PNG\r\n\x1a\n");

    let without = post(
        &app,
        "/user/send_code",
        json!({"region": "86", "phone": PHONE}),
        None,
    )
    .await;
    assert_middleware_text(&without, 400, "Empty verify_id.");
    let wrong = post(
        &app,
        "/user/send_code",
        json!({"region": "86", "phone": PHONE, "verify_id": verify_id, "verify_code": "x"}),
        None,
    )
    .await;
    assert_ok(
        &wrong,
        json!({"code": 1000, "message": "Invalid image verification code."}),
    );
    // Used up by the wrong guess: a new picture is needed.
    let reply = get(&app, "/user/get_sms_img_code", None).await;
    let verify_id = reply.json()["result"]["verifyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let code = "4321";
    let right = post(
        &app,
        "/user/send_code",
        json!({"region": "86", "phone": PHONE, "verify_id": verify_id, "verify_code": code}),
        None,
    )
    .await;
    assert_ok(&right, json!({"code": 200}));
    let reused = post(
        &app,
        "/user/send_code",
        json!({"region": "86", "phone": PHONE, "verify_id": verify_id, "verify_code": code}),
        None,
    )
    .await;
    assert_ok(
        &reused,
        json!({"code": 1000, "message": "Invalid image verification code."}),
    );
    let gone = app
        .send("code_result", "GET", &format!("/{path}"), &[], b"")
        .await;
    assert_route_text(&gone, 404, "Unknown verifyId.");
}

#[actix_web::test]
async fn a_configured_cookie_name_and_id_key_are_used() {
    let app = TestApp::spawn(
        "[dialects.code_result]\ncookie_name = \"rong_auth_cookie\"\nid_key = \"12345\"\n",
    )
    .await;
    let token = verification_token(&app, PHONE).await;
    let reply = post(
        &app,
        "/user/register",
        json!({"nickname": "a", "password": PASSWORD, "verification_token": token}),
        None,
    )
    .await;
    let id = reply.json()["result"]["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 6, "a 5-character key gives 6-character ids");
    let set = reply.header("set-cookie").unwrap();
    assert!(set.starts_with("rong_auth_cookie="), "{set}");
    let value = set["rong_auth_cookie=".len()..].split(';').next().unwrap();
    let cookie = format!("rong_auth_cookie={value}");
    let me = app
        .send(
            "code_result",
            "GET",
            &format!("/user/{id}"),
            &[("Cookie", &cookie)],
            b"",
        )
        .await;
    assert_eq!(me.json()["result"]["id"], json!(id));
}

/// What the RongCloud stand-in was asked: (path, form fields).
type Calls = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// A local stand-in for the RongCloud Server API: checks the four signing headers, records the
/// form, and answers as RongCloud does (`code` 200, or 1002 for a user named `refuse`).
async fn rongcloud_stand_in() -> (String, Calls) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let calls: Calls = Default::default();
    let seen = calls.clone();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let seen = seen.clone();
            async move {
                let header = |name: &str| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let (nonce, timestamp) = (header("Nonce"), header("Timestamp"));
                let expected = rosetta::providers::rongcloud::signature(
                    "stand-in-secret",
                    &nonce,
                    timestamp.parse().unwrap_or(-1),
                );
                if header("App-Key") != "stand-in-key" || header("Signature") != expected {
                    return HttpResponse::Unauthorized()
                        .json(json!({"code": 1004, "errorMessage": "signature error"}));
                }
                let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap();
                seen.lock().unwrap().push((req.path().to_owned(), form.clone()));
                let field = |name: &str| {
                    form.iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                if field("name") == "refuse" {
                    return HttpResponse::Ok().json(json!({"code": 1002, "errorMessage": "name is invalid"}));
                }
                match req.path() {
                    "/user/getToken.json" => HttpResponse::Ok().json(json!({
                        "code": 200, "userId": field("userId"), "token": format!("rc-token-{}", field("userId"))
                    })),
                    _ => HttpResponse::Ok().json(json!({"code": 200})),
                }
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    (format!("http://{address}"), calls)
}

#[actix_web::test]
async fn im_tokens_and_blacklists_go_through_the_rongcloud_server_api() {
    let (url, calls) = rongcloud_stand_in().await;
    let app = TestApp::spawn(&format!(
        "[dialects.code_result]\nim_token_provider = \"rongcloud\"\nrongcloud_app_key = \"stand-in-key\"\nrongcloud_app_secret = \"stand-in-secret\"\nrongcloud_api_url = \"{url}\"\n"
    ))
    .await;
    let (alice, cookie) = register(&app, PHONE, "alice").await;
    let (bob, _) = register(&app, "13800000001", "bob").await;
    let login = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": PASSWORD}),
        None,
    )
    .await;
    assert_ok(
        &login,
        json!({"code": 200, "result": {"id": alice, "token": format!("rc-token-{alice}")}}),
    );
    let again = get(&app, "/user/get_token", Some(&cookie)).await;
    assert_ok(
        &again,
        json!({"code": 200, "result": {"userId": alice, "token": format!("rc-token-{alice}")}}),
    );
    assert_ok(
        &post(
            &app,
            "/user/add_to_blacklist",
            json!({"friendId": bob}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    assert_ok(
        &post(
            &app,
            "/user/remove_from_blacklist",
            json!({"friendId": bob}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    {
        let calls = calls.lock().unwrap();
        let paths: Vec<&str> = calls.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/user/getToken.json",
                "/user/getToken.json",
                "/user/blacklist/add.json",
                "/user/blacklist/remove.json"
            ]
        );
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(calls[0].1, [pair("userId", &alice), pair("name", "alice")]);
        assert_eq!(
            calls[2].1,
            [pair("userId", &alice), pair("blackUserId", &bob)]
        );
    }

    // A refusal by RongCloud is a server error, and the stored token stays.
    assert_ok(
        &post(
            &app,
            "/user/set_nickname",
            json!({"nickname": "refuse"}),
            Some(&cookie),
        )
        .await,
        json!({"code": 200}),
    );
    assert_route_text(
        &get(&app, "/user/get_token", Some(&cookie)).await,
        500,
        "RongCloud Server API Error.",
    );
    let login = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(
        login.json()["result"]["token"],
        json!(format!("rc-token-{alice}"))
    );
}

#[test]
fn start_up_refuses_unusable_settings_by_key() {
    for (layer, key) in [
        ("id_key = \"abc\"", "dialects.code_result.id_key"),
        ("code_length = 8", "dialects.code_result.code_length"),
        (
            "im_token_provider = \"rongcloud\"",
            "dialects.code_result.im_token_provider",
        ),
        (
            "im_token_provider = \"other\"",
            "dialects.code_result.im_token_provider",
        ),
        (
            "im_token_provider = \"rongcloud\"\nrongcloud_app_key = \"k\"\nrongcloud_app_secret = \"s\"\nrongcloud_api_url = \"https://api-cn.ronghub.com\"",
            "dialects.code_result.rongcloud_api_url",
        ),
        (
            "qiniu_access_key = \"ak\"",
            "dialects.code_result.qiniu_secret_key",
        ),
        ("cookie_name = \"a b\"", "dialects.code_result.cookie_name"),
        (
            "public_base_url = \"example.com\"",
            "dialects.code_result.public_base_url",
        ),
        (
            "universal_code = \"9999\"",
            "dialects.code_result.universal_code",
        ),
    ] {
        let text = format!("[dialects.code_result]\n{layer}\n");
        let err = rosetta::settings::Settings::from_toml(&text)
            .err()
            .unwrap_or_else(|| panic!("{layer} was accepted"))
            .to_string();
        assert!(err.contains(key), "{layer}: {err}");
    }
}

#[actix_web::test]
async fn a_ban_ends_the_cookie_and_blocks_login() {
    let app = spawn().await;
    let (id, cookie) = register(&app, PHONE, "alice").await;
    let banned = app
        .admin(
            "POST",
            &format!("/admin/users/{}/ban", raw_id(&id)),
            json!({}),
        )
        .await;
    assert!(banned.status < 300, "{}", banned.text());
    assert_not_logged_in(&get(&app, "/user/blacklist", Some(&cookie)).await);
    let login = post(
        &app,
        "/user/login",
        json!({"region": "86", "phone": PHONE, "password": PASSWORD}),
        None,
    )
    .await;
    assert_ok(
        &login,
        json!({"code": 1000, "message": "Invalid phone or password."}),
    );
}

#[actix_web::test]
async fn sync_reports_friends_with_their_status_and_alias() {
    let app = spawn().await;
    let (alice, cookie) = register(&app, PHONE, "alice").await;
    let (bob, _) = register(&app, "13800000001", "bob").await;
    let made = app
        .admin(
            "POST",
            "/admin/friendships",
            json!({"user_id": raw_id(&alice), "friend_id": raw_id(&bob), "display_name": "B."}),
        )
        .await;
    assert!(made.status < 300, "{}", made.text());
    let sync = get(&app, "/user/sync/0", Some(&cookie)).await.json();
    let friend = &sync["result"]["friends"][0];
    assert_eq!(
        friend.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["friendId", "displayName", "status", "timestamp", "user"]
    );
    assert_eq!(friend["friendId"], json!(raw_id(&bob)));
    assert_eq!(friend["displayName"], json!("B."));
    assert_eq!(friend["status"], json!(20));
    assert_eq!(
        friend["user"],
        json!({"id": raw_id(&bob), "nickname": "bob", "portraitUri": ""})
    );
    assert_eq!(sync["result"]["version"], friend["timestamp"]);
}
