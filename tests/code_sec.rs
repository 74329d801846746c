//! The `code_sec` dialect (document 001) over HTTP: every endpoint's success and each code, with
//! every value a JSON string. Compiled with the dialect's feature only.
#![cfg(feature = "code_sec")]

mod support;

use md5::{Digest, Md5};
use serde_json::{Value, json};
use support::{Reply, TestApp};

const CT: &str = "application/json; charset=utf-8";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const PHONE: &str = "13390633695";
const XID: &str = "12345678123456781234567812345678";

fn md5_hex(plain: &str) -> String {
    Md5::digest(plain.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn call(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded::to_string(pairs).unwrap();
    app.send("code_sec", "POST", path, &[FORM], body.as_bytes())
        .await
}

/// HTTP 200, the exact Content-Type, exactly this body.
#[track_caller]
fn assert_body(reply: &Reply, expected: Value) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(CT));
    assert_eq!(reply.text(), serde_json::to_string(&expected).unwrap());
}

#[track_caller]
fn assert_code(reply: &Reply, code: &str) {
    assert_body(reply, json!({ "code": code }));
}

/// `(phone − utime) mod 49477`.
fn checksum(phone: &str, utime: i64) -> String {
    (phone.parse::<i64>().unwrap() - utime)
        .rem_euclid(49_477)
        .to_string()
}

async fn send_code(app: &TestApp, phone: &str) -> String {
    let utime = app.service().now_ms() / 1000;
    let sec = checksum(phone, utime);
    let reply = call(
        app,
        "/user/sms",
        &[
            ("phone", phone),
            ("xid", XID),
            ("utime", &utime.to_string()),
            ("sec", &sec),
        ],
    )
    .await;
    assert_code(&reply, "200");
    app.service()
        .sms_outbox(Some(phone.to_owned()))
        .await
        .unwrap()[0]
        .code
        .clone()
}

/// Registers; `(uid, sec)`.
async fn register(app: &TestApp, phone: &str, plain: &str) -> (String, String) {
    let code = send_code(app, phone).await;
    let md5 = md5_hex(plain);
    let reply = call(
        app,
        "/user/reg",
        &[
            ("phone", phone),
            ("xid", XID),
            ("yzm", &code),
            ("pwd", &md5),
            ("utime", "1"),
        ],
    )
    .await;
    session_of(&reply)
}

#[track_caller]
fn session_of(reply: &Reply) -> (String, String) {
    let body = reply.json();
    assert_eq!(body["code"], json!("200"), "{body}");
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["code", "uid", "sec", "user_role"]
    );
    let (uid, sec) = (body["uid"].as_str().unwrap(), body["sec"].as_str().unwrap());
    assert_eq!(sec.len(), 16);
    assert_body(
        reply,
        json!({"code": "200", "uid": uid, "sec": sec, "user_role": "1"}),
    );
    (uid.to_owned(), sec.to_owned())
}

#[actix_web::test]
async fn sms_checks_the_checksum_in_both_forms() {
    let app = TestApp::spawn("").await;
    let utime = 1_500_000_000;
    // The worked example: 13390633695 and 1500000000 give 24193, md5-16 901eed0aea40de0f.
    let reply = call(
        &app,
        "/user/sms",
        &[
            ("phone", PHONE),
            ("xid", XID),
            ("utime", "1500000000"),
            ("sec", "024193"),
        ],
    )
    .await;
    assert_code(&reply, "200");
    let code = app.service().sms_outbox(None).await.unwrap()[0]
        .code
        .clone();
    assert_eq!(code.len(), 6);
    for (phone, utime, sec) in [
        (PHONE, "1500000000", "24194"),
        (PHONE, "1500000000", ""),
        (PHONE, "abc", "24193"),
        ("1339063369", "1500000000", "24193"),
    ] {
        assert_code(
            &call(
                &app,
                "/user/sms",
                &[("phone", phone), ("utime", utime), ("sec", sec)],
            )
            .await,
            "400",
        );
    }
    // Too soon for the same phone: 4021.
    assert_code(
        &call(
            &app,
            "/user/sms",
            &[
                ("phone", PHONE),
                ("utime", "1500000000"),
                ("sec", "901eed0aea40de0f"),
            ],
        )
        .await,
        "4021",
    );
    app.clock.advance_ms(60_000);
    let other = "13800000000";
    let md5_form = {
        let remainder = checksum(other, utime);
        md5_hex(&remainder)[..16].to_owned()
    };
    assert_code(
        &call(
            &app,
            "/user/sms",
            &[
                ("phone", other),
                ("utime", &utime.to_string()),
                ("sec", &md5_form),
            ],
        )
        .await,
        "200",
    );
    // Query string and JSON bodies are read too (PHP's $_REQUEST).
    app.clock.advance_ms(60_000);
    let query = format!("/user/sms?phone={PHONE}&utime=1500000000&sec=24193");
    assert_code(&app.send("code_sec", "GET", &query, &[], b"").await, "200");
    app.clock.advance_ms(60_000);
    let json_body = json!({"phone": PHONE, "utime": "1500000000", "sec": "24193"}).to_string();
    assert_code(
        &app.send(
            "code_sec",
            "POST",
            "/user/sms",
            &[("Content-Type", "application/json")],
            json_body.as_bytes(),
        )
        .await,
        "200",
    );
}

#[actix_web::test]
async fn a_utime_window_can_be_enforced() {
    let app = TestApp::spawn("[dialects.code_sec]\nutime_window_seconds = 86400\n").await;
    let sec = checksum(PHONE, 1_500_000_000);
    assert_code(
        &call(
            &app,
            "/user/sms",
            &[("phone", PHONE), ("utime", "1500000000"), ("sec", &sec)],
        )
        .await,
        "400",
    );
    send_code(&app, PHONE).await;
}

#[actix_web::test]
async fn reg_checks_400_then_4001_then_4004_and_logs_in() {
    let app = TestApp::spawn("").await;
    let md5 = md5_hex("secret");
    assert_code(
        &call(&app, "/user/reg", &[("phone", PHONE), ("yzm", "123456")]).await,
        "400",
    );
    assert_code(
        &call(
            &app,
            "/user/reg",
            &[("phone", "123"), ("yzm", "123456"), ("pwd", &md5)],
        )
        .await,
        "400",
    );
    assert_code(
        &call(
            &app,
            "/user/reg",
            &[("phone", PHONE), ("yzm", "123456"), ("pwd", &md5)],
        )
        .await,
        "4001",
    );
    let code = send_code(&app, PHONE).await;
    assert_code(
        &call(
            &app,
            "/user/reg",
            &[("phone", PHONE), ("yzm", "000000x"), ("pwd", &md5)],
        )
        .await,
        "4001",
    );
    let reply = call(
        &app,
        "/user/reg",
        &[
            ("phone", PHONE),
            ("xid", XID),
            ("yzm", &code),
            ("pwd", &md5),
            ("utime", "1"),
        ],
    )
    .await;
    let (uid, sec) = session_of(&reply);
    assert_body(
        &call(
            &app,
            "/user/checkFinishUserInfo",
            &[("uid", &uid), ("sec", &sec)],
        )
        .await,
        json!({"code": "200", "check_reg": "2"}),
    );
    app.clock.advance_ms(60_000);
    let code = send_code(&app, PHONE).await;
    assert_code(
        &call(
            &app,
            "/user/reg",
            &[("phone", PHONE), ("yzm", &code), ("pwd", &md5)],
        )
        .await,
        "4004",
    );
}

#[actix_web::test]
async fn login_checks_in_order_and_replaces_the_previous_sec() {
    let app = TestApp::spawn("").await;
    let (uid, first) = register(&app, PHONE, "secret").await;
    assert_code(&call(&app, "/user/login", &[("phone", PHONE)]).await, "400");
    assert_code(
        &call(
            &app,
            "/user/login",
            &[("phone", "13800000000"), ("pwd", &md5_hex("secret"))],
        )
        .await,
        "4002",
    );
    assert_code(
        &call(
            &app,
            "/user/login",
            &[("phone", PHONE), ("pwd", &md5_hex("wrong"))],
        )
        .await,
        "4003",
    );
    // md5 in upper case, or the plain password.
    let upper = md5_hex("secret").to_uppercase();
    let (same_uid, second) = session_of(
        &call(
            &app,
            "/user/login",
            &[("phone", PHONE), ("xid", XID), ("pwd", &upper)],
        )
        .await,
    );
    assert_eq!(same_uid, uid);
    assert_ne!(second, first);
    assert_code(
        &call(
            &app,
            "/user/checkFinishUserInfo",
            &[("uid", &uid), ("sec", &first)],
        )
        .await,
        "4000",
    );
    let (_, third) =
        session_of(&call(&app, "/user/login", &[("phone", PHONE), ("pwd", "secret")]).await);
    assert_code(
        &call(
            &app,
            "/user/checkFinishUserInfo",
            &[("uid", &uid), ("sec", &second)],
        )
        .await,
        "4000",
    );
    assert_body(
        &call(
            &app,
            "/user/checkFinishUserInfo",
            &[("uid", &uid), ("sec", &third)],
        )
        .await,
        json!({"code": "200", "check_reg": "2"}),
    );

    // Banned: wrong passwords still say 4003, the right one 4007, and the session is gone.
    app.admin("POST", &format!("/admin/users/{uid}/ban"), json!({}))
        .await;
    assert_code(
        &call(
            &app,
            "/user/login",
            &[("phone", PHONE), ("pwd", &md5_hex("wrong"))],
        )
        .await,
        "4003",
    );
    assert_code(
        &call(
            &app,
            "/user/login",
            &[("phone", PHONE), ("pwd", &md5_hex("secret"))],
        )
        .await,
        "4007",
    );
    assert_code(
        &call(
            &app,
            "/user/checkFinishUserInfo",
            &[("uid", &uid), ("sec", &third)],
        )
        .await,
        "4000",
    );
}

#[actix_web::test]
async fn a_sec_belongs_to_its_uid() {
    let app = TestApp::spawn("").await;
    let (uid, sec) = register(&app, PHONE, "secret").await;
    let (other_uid, _) = register(&app, "13800000000", "secret").await;
    assert_code(
        &call(
            &app,
            "/user/getUserInfo",
            &[("uid", &other_uid), ("sec", &sec)],
        )
        .await,
        "4000",
    );
    assert_code(
        &call(&app, "/user/getUserInfo", &[("uid", "abc"), ("sec", &sec)]).await,
        "4000",
    );
    assert_code(
        &call(&app, "/user/getUserInfo", &[("uid", &uid)]).await,
        "400",
    );
    assert_code(
        &call(&app, "/user/getUserInfo", &[("sec", &sec)]).await,
        "400",
    );
    assert_eq!(
        call(
            &app,
            "/user/getUserInfo",
            &[("uid", &uid), ("sec", &sec.to_uppercase())]
        )
        .await
        .json()["code"],
        json!("200")
    );
}

#[actix_web::test]
async fn pwd_resets_in_the_documented_order_and_ends_sessions() {
    let app = TestApp::spawn("").await;
    let (uid, sec) = register(&app, PHONE, "secret").await;
    let new = md5_hex("newer");
    assert_code(
        &call(&app, "/user/pwd", &[("phone", PHONE), ("pwd", &new)]).await,
        "400",
    );
    assert_code(
        &call(
            &app,
            "/user/pwd",
            &[("phone", PHONE), ("yzm", "000000"), ("pwd", &new)],
        )
        .await,
        "4001",
    );
    app.clock.advance_ms(60_000);
    let code = send_code(&app, PHONE).await;
    assert_code(
        &call(
            &app,
            "/user/pwd",
            &[
                ("phone", PHONE),
                ("yzm", &code),
                ("pwd", &md5_hex("secret")),
            ],
        )
        .await,
        "4006",
    );
    app.clock.advance_ms(60_000);
    let code = send_code(&app, PHONE).await;
    assert_code(
        &call(
            &app,
            "/user/pwd",
            &[
                ("phone", PHONE),
                ("xid", XID),
                ("yzm", &code),
                ("pwd", &new),
                ("utime", "1"),
            ],
        )
        .await,
        "200",
    );
    assert_code(
        &call(&app, "/user/getUserInfo", &[("uid", &uid), ("sec", &sec)]).await,
        "4000",
    );
    session_of(&call(&app, "/user/login", &[("phone", PHONE), ("pwd", &new)]).await);
    // A verified phone with no account.
    let stranger = "13700000000";
    let code = send_code(&app, stranger).await;
    assert_code(
        &call(
            &app,
            "/user/pwd",
            &[("phone", stranger), ("yzm", &code), ("pwd", &new)],
        )
        .await,
        "4002",
    );
    // A banned account, with a right code.
    app.admin("POST", &format!("/admin/users/{uid}/ban"), json!({}))
        .await;
    app.clock.advance_ms(60_000);
    let code = send_code(&app, PHONE).await;
    assert_code(
        &call(
            &app,
            "/user/pwd",
            &[("phone", PHONE), ("yzm", &code), ("pwd", &md5_hex("third"))],
        )
        .await,
        "4007",
    );
}

#[actix_web::test]
async fn reg_detail_completes_the_profile_and_get_user_info_reads_it() {
    let app = TestApp::spawn("").await;
    let (recommender, _) = register(&app, "13800000000", "secret").await;
    let (uid, sec) = register(&app, PHONE, "secret").await;
    assert_body(
        &call(&app, "/user/getUserInfo", &[("uid", &uid), ("sec", &sec)]).await,
        json!({"code": "200", "company_logo": "", "company_name": "", "company_address": "", "user_name": "", "identity_card": "", "qq_number": "", "recommend_phone": ""}),
    );
    let reply = call(
        &app,
        "/user/regDetail",
        &[
            ("uid", &uid),
            ("sec", &sec),
            ("utime", "1"),
            ("company_logo", "http://img.example.com/logo.png"),
            ("company_name", "汇梦"),
            ("company_address", "深圳"),
            ("user_name", "张三"),
            ("identity_card", "440300199001011234"),
            ("qq_number", "10001"),
            ("recommend_user_id", &recommender),
        ],
    )
    .await;
    assert_body(
        &reply,
        json!({"code": "200", "uid": uid, "sec": sec, "check_reg": "1", "user_role": "1"}),
    );
    assert_body(
        &call(&app, "/user/getUserInfo", &[("uid", &uid), ("sec", &sec)]).await,
        json!({"code": "200", "company_logo": "http://img.example.com/logo.png", "company_name": "汇梦", "company_address": "深圳", "user_name": "张三", "identity_card": "440300199001011234", "qq_number": "10001", "recommend_phone": "13800000000"}),
    );
    assert_body(
        &call(
            &app,
            "/user/checkFinishUserInfo",
            &[("uid", &uid), ("sec", &sec)],
        )
        .await,
        json!({"code": "200", "check_reg": "1"}),
    );
    // A recommender given by phone; one that names nobody is kept but shows no phone.
    call(
        &app,
        "/user/regDetail",
        &[
            ("uid", &uid),
            ("sec", &sec),
            ("recommend_user_id", "13800000000"),
        ],
    )
    .await;
    assert_eq!(
        call(&app, "/user/getUserInfo", &[("uid", &uid), ("sec", &sec)])
            .await
            .json()["recommend_phone"],
        json!("13800000000")
    );
    call(
        &app,
        "/user/regDetail",
        &[
            ("uid", &uid),
            ("sec", &sec),
            ("recommend_user_id", "nobody"),
        ],
    )
    .await;
    assert_eq!(
        call(&app, "/user/getUserInfo", &[("uid", &uid), ("sec", &sec)])
            .await
            .json()["recommend_phone"],
        json!("")
    );
    // Roles come from the core.
    app.admin(
        "PUT",
        &format!("/admin/users/{uid}/role"),
        json!({"role": "superadmin"}),
    )
    .await;
    assert_eq!(
        call(&app, "/user/regDetail", &[("uid", &uid), ("sec", &sec)])
            .await
            .json()["user_role"],
        json!("3")
    );
    assert_code(
        &call(
            &app,
            "/user/regDetail",
            &[("uid", &uid), ("sec", "0000000000000000")],
        )
        .await,
        "4000",
    );
}

#[actix_web::test]
async fn loginout_ends_the_sec() {
    let app = TestApp::spawn("").await;
    let (uid, sec) = register(&app, PHONE, "secret").await;
    assert_code(
        &call(
            &app,
            "/user/loginout",
            &[("uid", &uid), ("sec", &sec), ("utime", "1")],
        )
        .await,
        "200",
    );
    assert_code(
        &call(&app, "/user/loginout", &[("uid", &uid), ("sec", &sec)]).await,
        "4000",
    );
    assert_code(&call(&app, "/user/loginout", &[]).await, "400");
}

#[actix_web::test]
async fn bad_input_is_400_never_a_server_error() {
    let app = TestApp::spawn("").await;
    let unknown = app
        .send("code_sec", "POST", "/user/nothing", &[FORM], b"")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json(), json!({"code": "400"}));
    assert_code(
        &app.send("code_sec", "PUT", "/user/login", &[FORM], b"")
            .await,
        "400",
    );
    assert_code(
        &app.send(
            "code_sec",
            "POST",
            "/user/login",
            &[("Content-Type", "application/json")],
            b"{\"phone",
        )
        .await,
        "400",
    );
    assert_code(
        &app.send(
            "code_sec",
            "POST",
            "/user/login",
            &[FORM],
            &vec![b'a'; 100 * 1024],
        )
        .await,
        "400",
    );
    assert_code(
        &app.send(
            "code_sec",
            "POST",
            "/user/login",
            &[("Content-Type", "application/json")],
            b"{\"phone\": {\"a\": 1}, \"pwd\": \"x\"}",
        )
        .await,
        "400",
    );
    assert_code(
        &app.send(
            "code_sec",
            "POST",
            "/user/login",
            &[("Content-Type", "multipart/form-data; boundary=x")],
            b"--x--",
        )
        .await,
        "400",
    );
}
