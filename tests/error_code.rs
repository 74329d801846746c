//! The `error_code` dialect (BlueU, document 004) over HTTP: every endpoint's documented success
//! and each error, exact bodies and types. Compiled with the dialect's feature only.
#![cfg(feature = "error_code")]

mod support;

use serde_json::{Value, json};
use support::{Reply, TestApp};

const CT: &str = "application/json;charset=utf-8;";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

async fn post(app: &TestApp, path: &str, body: &str, headers: &[(&str, &str)]) -> Reply {
    app.send("error_code", "POST", path, headers, body.as_bytes())
        .await
}

async fn get(app: &TestApp, path: &str) -> Reply {
    app.send("error_code", "GET", path, &[], b"").await
}

/// Status 200, the exact Content-Type, and exactly this body (key order included).
#[track_caller]
fn assert_reply(reply: &Reply, expected: Value) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(CT));
    assert_eq!(reply.json(), expected, "{}", reply.text());
    let expected_text = serde_json::to_string(&expected).unwrap();
    assert_eq!(reply.text(), expected_text, "key order and value types");
}

#[track_caller]
fn assert_error(reply: &Reply, code: u64, message: &str) {
    assert_reply(reply, json!({"error_code": code, "error_msg": message}));
}

fn success() -> Value {
    json!({"error_code": 0, "error_msg": "success"})
}

async fn register(app: &TestApp, username: &str, password: &str, name: &str) {
    let body = json!({"username": username, "password": password, "name": name}).to_string();
    assert_reply(
        &post(app, "/api/user/register", &body, &[FORM]).await,
        success(),
    );
}

/// Logs in and returns (token, user id).
async fn login(app: &TestApp, username: &str, password: &str) -> (String, String) {
    let body = json!({"username": username, "password": password}).to_string();
    let reply = post(app, "/api/user/login", &body, &[FORM]).await;
    assert_eq!(reply.status, 200);
    let json = reply.json();
    assert_eq!(json["error_code"], json!(0), "{json}");
    let data = json["data"].as_object().expect("data");
    assert_eq!(data.keys().collect::<Vec<_>>(), ["token_id", "userid"]);
    (
        data["token_id"].as_str().unwrap().to_owned(),
        data["userid"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn register_as_the_document_shows() {
    let app = TestApp::spawn("").await;
    // The document's curl sends JSON with curl's default form Content-Type.
    let body = r#"{"username":"0000000002","password":"123456","name":"张三"}"#;
    assert_reply(
        &post(&app, "/api/user/register", body, &[FORM]).await,
        success(),
    );
    // With a JSON Content-Type, and with no Content-Type at all.
    assert_reply(
        &post(&app, "/api/user/register", r#"{"username":"zhansan@test.com","password":"123456","name":"张三","sex":0,"period":"70"}"#, &[("Content-Type", "application/json")]).await,
        success(),
    );
    assert_reply(
        &post(
            &app,
            "/api/user/register",
            r#"{"username":"a3","password":"1","name":"n"}"#,
            &[],
        )
        .await,
        success(),
    );
    // Form fields are a fallback.
    assert_reply(
        &post(
            &app,
            "/api/user/register",
            "username=formuser&password=123456&name=%E5%BC%A0",
            &[FORM],
        )
        .await,
        success(),
    );
    let (_, id) = login(&app, "formuser", "123456").await;
    assert_eq!(
        get(&app, &format!("/api/user/{id}")).await.json()["data"]["name"],
        json!("张")
    );
}

#[actix_web::test]
async fn register_reports_each_missing_field_in_order() {
    let app = TestApp::spawn("").await;
    let cases = [
        (json!({}), "请求参数错误，username is not set"),
        (
            json!({"username": null, "password": "1", "name": "n"}),
            "请求参数错误，username is not set",
        ),
        (
            json!({"username": "u"}),
            "请求参数错误，password is not set",
        ),
        (
            json!({"username": "u", "password": "1"}),
            "请求参数错误，name is not set",
        ),
        (
            json!({"username": "u", "password": "1", "name": null}),
            "请求参数错误，name is not set",
        ),
        (
            json!({"username": {"a": 1}, "password": "1", "name": "n"}),
            "请求参数错误，username is not correct",
        ),
        (
            json!({"username": "u", "password": ["1"], "name": "n"}),
            "请求参数错误，password is not correct",
        ),
        (
            json!({"username": "", "password": "1", "name": "n"}),
            "请求参数错误，username is empty",
        ),
        (
            json!({"username": "a b", "password": "1", "name": "n"}),
            "请求参数错误，username is not correct",
        ),
        (
            json!({"username": "u", "password": "", "name": "n"}),
            "请求参数错误，password is empty",
        ),
        (
            json!({"username": "u", "password": "1", "name": " "}),
            "请求参数错误，name is empty",
        ),
        (
            json!({"username": "u", "password": "1", "name": "n", "sex": 3}),
            "请求参数错误，sex is not correct",
        ),
        (
            json!({"username": "u", "password": "1", "name": "x".repeat(65)}),
            "请求参数错误，name is longer than 64 characters",
        ),
    ];
    for (body, message) in cases {
        assert_error(
            &post(&app, "/api/user/register", &body.to_string(), &[]).await,
            3,
            message,
        );
    }
}

#[actix_web::test]
async fn register_refuses_a_taken_username_or_phone() {
    let app = TestApp::spawn("").await;
    register(&app, "Zhang@Test.com", "123456", "张三").await;
    let again = json!({"username": "zhang@test.com", "password": "x", "name": "y"}).to_string();
    assert_error(
        &post(&app, "/api/user/register", &again, &[]).await,
        1,
        "请求失败，zhang@test.com is already taken.",
    );
    // A mainland number is the phone identity, whatever its spelling.
    register(&app, "13912345678", "123456", "phone user").await;
    let spelled =
        json!({"username": "+86 139-1234-5678", "password": "x", "name": "y"}).to_string();
    assert_error(
        &post(&app, "/api/user/register", &spelled, &[]).await,
        1,
        "请求失败，+86 139-1234-5678 is already taken.",
    );
    // The same phone registered elsewhere (here through the admin API) is taken too.
    let created = app.create_user("13812345678", "pw", "n").await;
    let taken = json!({"username": "13812345678", "password": "x", "name": "y"}).to_string();
    assert_error(
        &post(&app, "/api/user/register", &taken, &[]).await,
        1,
        "请求失败，13812345678 is already taken.",
    );
    let (_, id) = login(&app, "13812345678", "pw").await;
    assert_eq!(id, created.to_string());
}

#[actix_web::test]
async fn login_returns_a_uuid_shaped_token_and_the_user_id() {
    let app = TestApp::spawn("").await;
    register(&app, "0000000002", "123456", "张三").await;
    let (token, id) = login(&app, "0000000002", "123456").await;
    assert_eq!(id, "100000");
    assert_eq!(token.len(), 36);
    let groups: Vec<usize> = token.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12]);
    assert!(
        token
            .chars()
            .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let (other, _) = login(&app, "0000000002", "123456").await;
    assert_ne!(token, other, "several tokens per user are allowed");
}

#[actix_web::test]
async fn login_errors() {
    let app = TestApp::spawn("").await;
    register(&app, "0000000002", "123456", "张三").await;
    let cases = [
        (json!({}), 3, "请求参数错误，username is not set"),
        (
            json!({"username": "0000000002"}),
            3,
            "请求参数错误，password is not set",
        ),
        (
            json!({"username": "nobody", "password": "123456"}),
            1,
            "请求失败，帐号无效",
        ),
        (
            json!({"username": "0000000002", "password": "654321"}),
            1,
            "请求失败，密码错误",
        ),
        (
            json!({"username": "", "password": "654321"}),
            1,
            "请求失败，帐号无效",
        ),
    ];
    for (body, code, message) in cases {
        assert_error(
            &post(&app, "/api/user/login", &body.to_string(), &[]).await,
            code,
            message,
        );
    }
    // A banned account is refused once the password is right.
    let id = login(&app, "0000000002", "123456").await.1;
    assert_eq!(
        app.admin("POST", &format!("/admin/users/{id}/ban"), json!({}))
            .await
            .status,
        200
    );
    let body = json!({"username": "0000000002", "password": "123456"}).to_string();
    assert_error(
        &post(&app, "/api/user/login", &body, &[]).await,
        1,
        "请求失败，Account is disabled",
    );
}

#[actix_web::test]
async fn tokens_fail_in_the_three_documented_ways() {
    let app = TestApp::spawn("[dialects.error_code]\ntoken_ttl_seconds = 60\n").await;
    register(&app, "0000000002", "123456", "张三").await;
    let (token, _) = login(&app, "0000000002", "123456").await;
    let body = r#"{"password":"123456","newpassword":"654321"}"#;
    assert_error(
        &post(&app, "/api/user/resetpwd", body, &[]).await,
        4,
        "token无效，Token not set",
    );
    assert_error(
        &post(&app, "/api/user/resetpwd", body, &[("X-Auth-Token", "")]).await,
        4,
        "token无效，Token not set",
    );
    assert_error(
        &post(
            &app,
            "/api/user/resetpwd",
            body,
            &[("X-Auth-Token", "00320d40-89f8-4b28-d18e-fe12abefcf47")],
        )
        .await,
        4,
        "token无效，Token not exist",
    );
    app.clock.advance_ms(60_000);
    assert_error(
        &post(
            &app,
            "/api/user/resetpwd",
            body,
            &[("X-Auth-Token", &token)],
        )
        .await,
        4,
        "token无效，Token has expired",
    );
}

#[actix_web::test]
async fn resetpwd_keeps_the_callers_token_and_ends_the_others() {
    let app = TestApp::spawn("").await;
    register(&app, "0000000002", "123456", "张三").await;
    let (token, id) = login(&app, "0000000002", "123456").await;
    let (other, _) = login(&app, "0000000002", "123456").await;
    let auth = [("X-Auth-Token", token.as_str())];
    // Missing fields are reported before the token is looked at.
    assert_error(
        &post(&app, "/api/user/resetpwd", "{}", &[]).await,
        3,
        "请求参数错误，password is not set",
    );
    assert_error(
        &post(&app, "/api/user/resetpwd", r#"{"password":"1"}"#, &[]).await,
        3,
        "请求参数错误，newpassword is not set",
    );
    assert_error(
        &post(
            &app,
            "/api/user/resetpwd",
            r#"{"password":"wrong","newpassword":"654321"}"#,
            &auth,
        )
        .await,
        1,
        "请求失败，密码错误",
    );
    assert_error(
        &post(
            &app,
            "/api/user/resetpwd",
            r#"{"password":"123456","newpassword":""}"#,
            &auth,
        )
        .await,
        3,
        "请求参数错误，newpassword is empty",
    );
    assert_reply(
        &post(
            &app,
            "/api/user/resetpwd",
            r#"{"password":"123456","newpassword":"654321"}"#,
            &auth,
        )
        .await,
        success(),
    );
    // Every other token of the user ended with the change…
    assert_error(
        &post(
            &app,
            "/api/user/resetpwd",
            r#"{"password":"654321","newpassword":"1"}"#,
            &[("X-Auth-Token", other.as_str())],
        )
        .await,
        4,
        "token无效，Token not exist",
    );
    // …while the caller carries on with its own, as BlueU's clients do.
    assert_reply(
        &post(&app, &format!("/api/user/{id}/edit"), "{}", &auth).await,
        success(),
    );
    login(&app, "0000000002", "654321").await;
}

#[actix_web::test]
async fn header_credentials_are_an_alternative_to_the_token() {
    let app = TestApp::spawn("").await;
    register(&app, "zhangsan", "zhangsan", "张三").await;
    let body = r#"{"password":"zhangsan","newpassword":"lisi"}"#;
    let headers = |user: &'static str, password: &'static str| {
        [("X-Auth-Username", user), ("X-Auth-Password", password)]
    };
    assert_error(
        &post(&app, "/api/user/resetpwd", body, &headers("nobody", "x")).await,
        1,
        "请求失败，帐号无效",
    );
    assert_error(
        &post(&app, "/api/user/resetpwd", body, &headers("zhangsan", "x")).await,
        1,
        "请求失败，密码错误",
    );
    assert_reply(
        &post(
            &app,
            "/api/user/resetpwd",
            body,
            &headers("zhangsan", "zhangsan"),
        )
        .await,
        success(),
    );
    // Logout with header credentials has no token to end: success, nothing done.
    assert_reply(
        &post(
            &app,
            "/api/user/logout",
            r#"{"username":"zhangsan"}"#,
            &headers("zhangsan", "lisi"),
        )
        .await,
        success(),
    );
    // One header alone is not enough: the token is required then.
    assert_error(
        &post(
            &app,
            "/api/user/resetpwd",
            body,
            &[("X-Auth-Username", "zhangsan")],
        )
        .await,
        4,
        "token无效，Token not set",
    );
}

#[actix_web::test]
async fn logout_ends_the_token_of_the_named_user_only() {
    let app = TestApp::spawn("").await;
    register(&app, "13912345678", "123456", "张三").await;
    register(&app, "lisi", "123456", "李四").await;
    let (token, _) = login(&app, "13912345678", "123456").await;
    let auth = [("X-Auth-Token", token.as_str())];
    assert_error(
        &post(&app, "/api/user/logout", "{}", &auth).await,
        3,
        "请求参数错误，username is not set",
    );
    assert_error(
        &post(
            &app,
            "/api/user/logout",
            r#"{"username":"13912345678"}"#,
            &[],
        )
        .await,
        4,
        "token无效，Token not set",
    );
    assert_error(
        &post(&app, "/api/user/logout", r#"{"username":"lisi"}"#, &auth).await,
        1,
        "请求失败，Illegal identity",
    );
    assert_error(
        &post(&app, "/api/user/logout", r#"{"username":"ghost"}"#, &auth).await,
        1,
        "请求失败，Illegal identity",
    );
    // `password` is listed by the document but ignored; the phone may be spelled any way.
    assert_reply(
        &post(
            &app,
            "/api/user/logout",
            r#"{"username":"+8613912345678","password":"whatever"}"#,
            &auth,
        )
        .await,
        success(),
    );
    assert_error(
        &post(
            &app,
            "/api/user/logout",
            r#"{"username":"13912345678"}"#,
            &auth,
        )
        .await,
        4,
        "token无效，Token not exist",
    );
}

#[actix_web::test]
async fn edit_changes_only_the_name_of_the_caller() {
    let app = TestApp::spawn("").await;
    register(&app, "zhangsan", "123456", "张三").await;
    register(&app, "lisi", "123456", "李四").await;
    let (token, id) = login(&app, "zhangsan", "123456").await;
    let (_, other) = login(&app, "lisi", "123456").await;
    let auth = [("X-Auth-Token", token.as_str())];
    let path = format!("/api/user/{id}/edit");
    assert_error(
        &post(&app, &path, r#"{"name":"王五"}"#, &[]).await,
        4,
        "token无效，Token not set",
    );
    assert_error(
        &post(
            &app,
            &format!("/api/user/{other}/edit"),
            r#"{"name":"王五"}"#,
            &auth,
        )
        .await,
        1,
        "请求失败，Illegal request",
    );
    assert_error(
        &post(&app, &path, r#"{"name":"王五","sex":"2"}"#, &auth).await,
        1,
        "请求失败，sex Not editable",
    );
    assert_error(
        &post(&app, &path, r#"{"name":""}"#, &auth).await,
        3,
        "请求参数错误，name is empty",
    );
    assert_reply(
        &post(&app, &path, r#"{"name":"王五"}"#, &auth).await,
        success(),
    );
    // Setting the same name again is a success (the original's "请求失败" quirk is not kept).
    assert_reply(
        &post(&app, &path, r#"{"name":"王五"}"#, &auth).await,
        success(),
    );
    assert_reply(&post(&app, &path, "{}", &auth).await, success());
    // A body that cannot be read is bad input, not an edit of nothing.
    let gzip = [
        ("X-Auth-Token", token.as_str()),
        ("Content-Encoding", "gzip"),
    ];
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let unreadable: [(Headers<'_>, &[u8], &str); 4] = [
        (
            &gzip,
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
            "neither a JSON object nor a form",
        ),
        (
            &auth,
            b"\xff\xfe\x00garbage",
            "neither a JSON object nor a form",
        ),
        (&auth, br#"[{"name":"x"}]"#, "a JSON object was expected"),
        (&auth, b"\"just a string\"", "a JSON object was expected"),
    ];
    for (headers, body, detail) in unreadable {
        assert_error(
            &app.send("error_code", "POST", &path, headers, body).await,
            3,
            &format!("请求参数错误，body: {detail}"),
        );
    }
    assert_eq!(
        get(&app, &format!("/api/user/{id}")).await.json()["data"]["name"],
        json!("王五")
    );
    assert_error(
        &app.send("error_code", "GET", &path, &auth, b"").await,
        2,
        "请求方法错误，Please use POST method",
    );
}

#[actix_web::test]
async fn push_switches_both_ways() {
    let app = TestApp::spawn("").await;
    register(&app, "zhangsan", "123456", "张三").await;
    let (token, id) = login(&app, "zhangsan", "123456").await;
    let auth = [("X-Auth-Token", token.as_str())];
    let path = format!("/api/user/{id}/push");
    assert_error(
        &post(&app, &path, "{}", &auth).await,
        3,
        "请求参数错误，enable is not set",
    );
    assert_error(
        &post(&app, &path, r#"{"enable":1}"#, &[]).await,
        4,
        "token无效，Token not set",
    );
    assert_error(
        &post(&app, "/api/user/1/push", r#"{"enable":1}"#, &auth).await,
        1,
        "请求失败，Illegal request",
    );
    for bad in [
        r#"{"enable":2}"#,
        r#"{"enable":"yes"}"#,
        r#"{"enable":[1]}"#,
    ] {
        assert_error(
            &post(&app, &path, bad, &auth).await,
            3,
            "请求参数错误，enable is not correct",
        );
    }
    let detail = format!("/api/user/{id}");
    assert_eq!(
        get(&app, &detail).await.json()["data"]["pushable"],
        json!("1"),
        "on by default"
    );
    // Turning it off works, unlike the original (README: Known quirks).
    for (body, expected) in [
        (r#"{"enable":0}"#, "0"),
        (r#"{"enable":"on"}"#, "1"),
        (r#"{"enable":"False"}"#, "0"),
        (r#"{"enable":true}"#, "1"),
        (r#"{"enable":"0"}"#, "0"),
        (r#"{"enable":"1"}"#, "1"),
    ] {
        assert_reply(&post(&app, &path, body, &auth).await, success());
        assert_eq!(
            get(&app, &detail).await.json()["data"]["pushable"],
            json!(expected),
            "{body}"
        );
    }
}

#[actix_web::test]
async fn detail_renders_every_value_as_a_string_or_null() {
    let app = TestApp::spawn("").await;
    register(&app, "plain", "123456", "王五").await;
    let full = json!({"username": "13912345678", "password": "1", "name": "张三", "sex": 2, "century": "80", "mobile": "1362222222"});
    assert_reply(
        &post(&app, "/api/user/register", &full.to_string(), &[]).await,
        success(),
    );
    assert_reply(
        &get(&app, "/api/user/100000").await,
        json!({"error_code": 0, "error_msg": "success", "data": {"id": "100000", "name": "王五", "sex": "0", "century": null, "mobile": null, "pushable": "1"}}),
    );
    assert_reply(
        &get(&app, "/api/user/100001").await,
        json!({"error_code": 0, "error_msg": "success", "data": {"id": "100001", "name": "张三", "sex": "2", "century": "80", "mobile": "1362222222", "pushable": "1"}}),
    );
    // The document's curl uses POST: served too.
    assert_eq!(
        post(&app, "/api/user/100001", "", &[]).await.json()["data"]["id"],
        json!("100001")
    );
    // `period` is the document's name for `century`.
    let period = json!({"username": "p", "password": "1", "name": "n", "sex": "1", "period": "70"});
    assert_reply(
        &post(&app, "/api/user/register", &period.to_string(), &[]).await,
        success(),
    );
    let data = get(&app, "/api/user/100002").await.json()["data"].clone();
    assert_eq!(
        (data["sex"].clone(), data["century"].clone()),
        (json!("1"), json!("70"))
    );
    assert_error(
        &get(&app, "/api/user/99").await,
        1,
        "请求失败，User is no exist",
    );
    assert_error(
        &app.send("error_code", "PUT", "/api/user/100000", &[], b"")
            .await,
        2,
        "请求方法错误，Please use POST method",
    );
}

#[actix_web::test]
async fn wrong_methods_answer_code_2() {
    let app = TestApp::spawn("").await;
    for path in [
        "/api/user/register",
        "/api/user/login",
        "/api/user/resetpwd",
        "/api/user/logout",
        "/api/user/1/edit",
        "/api/user/1/push",
    ] {
        for method in ["GET", "PUT", "DELETE"] {
            assert_error(
                &app.send("error_code", method, path, &[], b"").await,
                2,
                "请求方法错误，Please use POST method",
            );
        }
    }
}

#[actix_web::test]
async fn bad_input_gets_the_envelope() {
    let app = TestApp::spawn("").await;
    for body in [&b"{"[..], b"\xff\xfe\xfd", b"[1,2,3]", b"null", b"username"] {
        let reply = app
            .send(
                "error_code",
                "POST",
                "/api/user/register",
                &[("Content-Type", "application/json")],
                body,
            )
            .await;
        assert_error(&reply, 3, "请求参数错误，username is not set");
    }
    let huge = format!(
        r#"{{"username":"u","password":"p","name":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    assert_error(
        &post(&app, "/api/user/register", &huge, &[]).await,
        3,
        "请求参数错误，request body is too large",
    );
    // Unknown routes: Yii's 404 with code 999, in the envelope.
    let reply = get(&app, "/api/user/xyz").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.header("content-type"), Some(CT));
    assert_eq!(
        reply.text(),
        r#"{"error_code":999,"error_msg":"程序错误，Unable to resolve the request \"api/user/xyz\"."}"#
    );
    for path in ["/", "/api/site/index", "/api/user/1/delete", "/api/user/-1"] {
        let reply = post(&app, path, "{}", &[]).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.json()["error_code"], json!(999), "{path}");
    }
}

#[actix_web::test]
async fn a_prefix_mounts_the_dialect_under_a_path() {
    let app = TestApp::spawn("[dialects.error_code]\nprefix = \"/blueu\"\n").await;
    let body = r#"{"username":"u1","password":"p","name":"n"}"#;
    assert_reply(
        &post(&app, "/blueu/api/user/register", body, &[]).await,
        success(),
    );
    for path in ["/api/user/register", "/blueu/nothing", "/other"] {
        let reply = post(&app, path, body, &[]).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.header("content-type"), Some(CT), "{path}");
        assert_eq!(reply.json()["error_code"], json!(999), "{path}");
    }
}

#[actix_web::test]
async fn one_account_for_every_phone_spelling() {
    let app = TestApp::spawn("").await;
    register(&app, "139 1234 5678", "123456", "张三").await;
    let (_, a) = login(&app, "13912345678", "123456").await;
    let (_, b) = login(&app, "+86-139-1234-5678", "123456").await;
    let (_, c) = login(&app, "008613912345678", "123456").await;
    assert_eq!((a.as_str(), b.as_str()), (c.as_str(), c.as_str()));
}

#[actix_web::test]
async fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn("").await;
    let reply = get(&app, "/api/user/1").await;
    assert_eq!(reply.header("x-request-id").map(str::len), Some(16));
    let echoed = app
        .send(
            "error_code",
            "GET",
            "/api/user/1",
            &[("X-Request-Id", "trace-42")],
            b"",
        )
        .await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42"));
}
