//! The ops listener: health, readiness, metrics and the admin API of the operator contract.

mod support;

use rosetta::domain::phone::Phone;
use rosetta::domain::profile::Role;
use rosetta::service::sms::{CodeRequest, PhoneMust, SmsRules};
use serde_json::{Value, json};
use support::{ADMIN_TOKEN, TestApp};

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn("").await;
    let health = app.send("ops", "GET", "/healthz", &[], b"").await;
    assert_eq!(
        (health.status, health.json()),
        (200, json!({"status": "ok"}))
    );
    let ready = app.send("ops", "GET", "/readyz", &[], b"").await;
    assert_eq!(
        (ready.status, ready.json()),
        (200, json!({"status": "ready"}))
    );
    let unknown = app.send("ops", "GET", "/nope", &[], b"").await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (404, json!({"error": "not found"}))
    );
}

#[actix_web::test]
async fn readiness_fails_quickly_when_the_database_is_gone() {
    // Only PostgreSQL can be taken away from under a running gateway; on SQLite this test has
    // nothing to do (CI runs it on PostgreSQL).
    let Some(db) = support::TestDb::postgres() else {
        eprintln!(
            "readiness failure is tested on PostgreSQL only ({} unset)",
            support::PG_ENV
        );
        return;
    };
    let name = db
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let app = TestApp::spawn_on(db, "").await;
    assert_eq!(
        app.send("ops", "GET", "/readyz", &[], b"").await.status,
        200
    );
    let admin_url = std::env::var(support::PG_ENV).unwrap();
    let mut admin = <diesel::PgConnection as diesel::Connection>::establish(&admin_url).unwrap();
    use diesel::RunQueryDsl;
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .execute(&mut admin)
    .unwrap();
    let started = std::time::Instant::now();
    let reply = app.send("ops", "GET", "/readyz", &[], b"").await;
    assert_eq!(
        (reply.status, reply.json()),
        (503, json!({"status": "database unreachable"}))
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered in {:?}",
        started.elapsed()
    );
    let health = app.send("ops", "GET", "/healthz", &[], b"").await;
    assert_eq!(health.status, 200, "the process itself is fine");
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .unwrap();
}

#[actix_web::test]
async fn metrics_count_requests_by_dialect_endpoint_and_outcome() {
    let app = TestApp::spawn("").await;
    let register = r#"{"username":"u","password":"p","name":"n"}"#;
    app.send(
        "error_code",
        "POST",
        "/api/user/register",
        &[],
        register.as_bytes(),
    )
    .await;
    app.send(
        "error_code",
        "POST",
        "/api/user/register",
        &[],
        register.as_bytes(),
    )
    .await;
    app.send(
        "error_code",
        "POST",
        "/api/user/resetpwd",
        &[],
        br#"{"password":"a","newpassword":"b"}"#,
    )
    .await;
    app.send("error_code", "GET", "/api/user/100000", &[], b"")
        .await;
    app.send("error_code", "GET", "/missing", &[], b"").await;
    let reply = app.send("ops", "GET", "/metrics", &[], b"").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = reply.text();
    for line in [
        r#"rosetta_requests_total{dialect="error_code",endpoint="/api/user/register",outcome="ok",client="unknown"} 1"#,
        r#"rosetta_requests_total{dialect="error_code",endpoint="/api/user/register",outcome="client_error",client="unknown"} 1"#,
        r#"rosetta_requests_total{dialect="error_code",endpoint="/api/user/resetpwd",outcome="auth_error",client="unknown"} 1"#,
        r#"rosetta_requests_total{dialect="error_code",endpoint="/api/user/{id}",outcome="ok",client="unknown"} 1"#,
        r#"rosetta_requests_total{dialect="error_code",endpoint="unmatched",outcome="client_error",client="unknown"} 1"#,
        r#"rosetta_request_duration_seconds_count{dialect="error_code",endpoint="/api/user/register"} 2"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

/// A scanner's unknown paths and methods are the client's fault in every dialect, whatever
/// code the dialect's envelope carries.
#[actix_web::test]
async fn unknown_routes_are_never_counted_as_server_errors() {
    let app = TestApp::spawn("").await;
    for spec in rosetta::dialects::registry() {
        for (method, path) in [
            ("GET", "/no/such/route"),
            ("POST", "/wp-login.php"),
            ("PUT", "/"),
            ("DELETE", "/.env"),
        ] {
            let reply = app.send(spec.id, method, path, &[], b"").await;
            assert!(reply.status < 500, "{} {method} {path}", spec.id);
        }
    }
    let text = app.send("ops", "GET", "/metrics", &[], b"").await.text();
    assert!(text.contains("rosetta_requests_total"), "{text}");
    assert!(!text.contains(r#"outcome="server_error""#), "{text}");
}

#[actix_web::test]
async fn the_admin_api_needs_its_token() {
    let app = TestApp::spawn("").await;
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("Authorization", ADMIN_TOKEN)],
    ] {
        let reply = app
            .send("ops", "GET", "/admin/sms/outbox", &headers, b"")
            .await;
        assert_eq!(reply.status, 401, "{headers:?}");
        assert!(reply.json()["error"].is_string());
    }
}

#[actix_web::test]
async fn the_admin_api_is_off_without_a_token() {
    let app = TestApp::spawn_with(support::TestDb::fresh(), |db| {
        let mut settings = support::test_settings(db, "");
        settings.ops.admin_token = None;
        settings
    })
    .await;
    let reply = app.admin("GET", "/admin/sms/outbox", Value::Null).await;
    assert_eq!(reply.status, 404);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("ops.admin_token")
    );
}

#[actix_web::test]
async fn the_outbox_lists_codes_newest_first() {
    let app = TestApp::spawn("").await;
    for number in ["13912345678", "13812345678"] {
        let phone = Phone::mainland(number).unwrap();
        app.service()
            .send_code(CodeRequest {
                phone: &phone,
                purpose: "register",
                dialect: "struts",
                rules: SmsRules::global(6),
                phone_must: PhoneMust::BeAny,
                client_ip: None,
            })
            .await
            .unwrap();
        app.clock.advance_ms(1);
    }
    let all = app.admin("GET", "/admin/sms/outbox", Value::Null).await;
    assert_eq!(all.status, 200);
    let messages = all.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["phone"], json!("13812345678"), "newest first");
    let one = app
        .admin("GET", "/admin/sms/outbox?phone=13912345678", Value::Null)
        .await
        .json();
    let message = &one["messages"][0];
    assert_eq!(one["messages"].as_array().unwrap().len(), 1);
    let keys: Vec<&str> = message
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "region",
            "phone",
            "code",
            "purpose",
            "dialect",
            "sent_at",
            "provider",
            "outcome",
            "message_id",
            "request_id",
            "detail"
        ]
    );
    // The log provider's message: sent, without a receipt of its own.
    assert_eq!(
        (
            message["provider"].clone(),
            message["outcome"].clone(),
            message["message_id"].clone(),
            message["detail"].clone()
        ),
        (json!("log"), json!("sent"), Value::Null, Value::Null)
    );
    assert_eq!(
        (
            message["region"].clone(),
            message["purpose"].clone(),
            message["dialect"].clone()
        ),
        (json!("86"), json!("register"), json!("struts"))
    );
    assert!(message["code"].as_str().unwrap().len() == 6);
    assert!(message["sent_at"].is_i64());
    let none = app
        .admin("GET", "/admin/sms/outbox?phone=13700000000", Value::Null)
        .await
        .json();
    assert_eq!(none, json!({"messages": []}));
}

#[actix_web::test]
async fn admin_users_bans_and_roles() {
    let app = TestApp::spawn("").await;
    let created = app.admin("POST", "/admin/users", json!({"region": "86", "phone": "13912345678", "password": "pw", "nickname": "Tom", "username": "tom"})).await;
    assert_eq!(
        (created.status, created.json()),
        (201, json!({"id": 100000}))
    );
    let numeric = app
        .admin(
            "POST",
            "/admin/users",
            json!({"region": 86, "phone": 13812345678u64, "password": "pw", "nickname": "Jerry"}),
        )
        .await;
    assert_eq!(numeric.status, 201);
    for (body, status) in [
        (
            json!({"region": "86", "phone": "13912345678", "password": "pw", "nickname": "again"}),
            409,
        ),
        (
            json!({"region": "86", "phone": "12345", "password": "pw", "nickname": "x"}),
            400,
        ),
        (
            json!({"region": "86", "phone": "13700000000", "password": "pw"}),
            400,
        ),
        (
            json!({"region": "86", "phone": "13700000000", "password": "pw", "nickname": "x", "username": "tom"}),
            409,
        ),
        (
            json!({"region": "86", "phone": "13700000000", "password": "pw", "nickname": "x", "extra": 1}),
            400,
        ),
    ] {
        let reply = app.admin("POST", "/admin/users", body.clone()).await;
        assert_eq!(reply.status, status, "{body} -> {}", reply.text());
        assert!(reply.json()["error"].is_string());
    }
    let broken = app
        .send(
            "ops",
            "POST",
            "/admin/users",
            &[
                ("Authorization", &format!("Bearer {ADMIN_TOKEN}")),
                ("Content-Type", "application/json"),
            ],
            b"{",
        )
        .await;
    assert_eq!(broken.status, 400);
    assert!(broken.json()["error"].is_string());
    // A JSON body labelled as a form (as `curl -d` sends it) or not labelled at all is read as
    // the JSON it is.
    for (n, label) in [
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        None,
    ]
    .into_iter()
    .enumerate()
    {
        let bearer = format!("Bearer {ADMIN_TOKEN}");
        let mut headers = vec![("Authorization", bearer.as_str())];
        headers.extend(label.map(|label| ("Content-Type", label)));
        let phone = format!("1360000000{n}");
        let body = json!({"region": "86", "phone": phone, "password": "pw", "nickname": "curl"});
        let reply = app
            .send(
                "ops",
                "POST",
                "/admin/users",
                &headers,
                body.to_string().as_bytes(),
            )
            .await;
        assert_eq!(reply.status, 201, "{label:?}: {}", reply.text());
    }
    // A real form is no JSON: refused in the admin API's own envelope.
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let form = app
        .send(
            "ops",
            "POST",
            "/admin/users",
            &[
                ("Authorization", bearer.as_str()),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            b"region=86&phone=13600000009",
        )
        .await;
    assert_eq!(form.status, 400);
    assert!(form.json()["error"].is_string(), "{}", form.text());

    assert_eq!(
        app.admin("POST", "/admin/users/100000/ban", json!({}))
            .await
            .status,
        200
    );
    assert!(app.service().profile(100_000).await.unwrap().banned);
    assert_eq!(
        app.admin("POST", "/admin/users/100000/unban", json!({}))
            .await
            .status,
        200
    );
    assert!(!app.service().profile(100_000).await.unwrap().banned);
    assert_eq!(
        app.admin("POST", "/admin/users/1/ban", json!({}))
            .await
            .status,
        404
    );
    assert_eq!(
        app.admin("POST", "/admin/users/abc/ban", json!({}))
            .await
            .status,
        404
    );

    assert_eq!(
        app.admin(
            "PUT",
            "/admin/users/100000/role",
            json!({"role": "service"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.service().profile(100_000).await.unwrap().role,
        Role::Service
    );
    assert_eq!(
        app.admin("PUT", "/admin/users/100000/role", json!({"role": "god"}))
            .await
            .status,
        400
    );
    assert_eq!(
        app.admin("PUT", "/admin/users/1/role", json!({"role": "normal"}))
            .await
            .status,
        404
    );
    assert_eq!(
        app.admin("GET", "/admin/nothing", Value::Null).await.status,
        404
    );
}

#[actix_web::test]
async fn admin_groups_members_and_friendships() {
    let app = TestApp::spawn("").await;
    for (phone, name) in [
        ("13912345678", "a"),
        ("13812345678", "b"),
        ("13712345678", "c"),
    ] {
        let reply = app
            .admin(
                "POST",
                "/admin/users",
                json!({"region": "86", "phone": phone, "password": "pw", "nickname": name}),
            )
            .await;
        assert_eq!(reply.status, 201);
    }
    let group = app.admin("POST", "/admin/groups", json!({"name": "Team 1", "creator_id": 100000, "portrait_uri": "http://test.com/g.jpg"})).await;
    assert_eq!((group.status, group.json()), (201, json!({"id": 100000})));
    assert_eq!(
        app.admin(
            "POST",
            "/admin/groups",
            json!({"name": "Team", "creator_id": 1})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.admin(
            "POST",
            "/admin/groups",
            json!({"name": "T", "creator_id": 100000})
        )
        .await
        .status,
        400
    );

    let member = app
        .admin(
            "POST",
            "/admin/groups/100000/members",
            json!({"user_id": 100001, "role": "manager", "display_name": "B"}),
        )
        .await;
    assert_eq!(member.status, 201);
    assert_eq!(
        app.admin(
            "POST",
            "/admin/groups/100000/members",
            json!({"user_id": 100001})
        )
        .await
        .status,
        409
    );
    assert_eq!(
        app.admin(
            "POST",
            "/admin/groups/100000/members",
            json!({"user_id": 100002, "role": "king"})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        app.admin(
            "POST",
            "/admin/groups/5/members",
            json!({"user_id": 100002})
        )
        .await
        .status,
        404
    );
    let members = app.service().group_members(100_000).await.unwrap();
    assert_eq!(members.len(), 2);

    assert_eq!(
        app.admin(
            "POST",
            "/admin/friendships",
            json!({"user_id": 100000, "friend_id": 100002, "display_name": "C"})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        app.admin(
            "POST",
            "/admin/friendships",
            json!({"user_id": 100000, "friend_id": 9})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.admin(
            "POST",
            "/admin/friendships",
            json!({"user_id": 100000, "friend_id": 100000})
        )
        .await
        .status,
        400
    );
    let both_ways = app.service().friendships_since(100_002, 0).await.unwrap();
    assert_eq!(both_ways.len(), 1, "friendships are mutual");
}
