//! One account, every dialect (the migration team's matrix): an account registered through any
//! dialect logs in through every dialect (5 × 5) with the password as each one's clients send it;
//! a password changed in one is the password in all and ends every other session everywhere (the
//! changer's own kept or ended as its document says); an SMS reset or a ban ends them all; a
//! profile reads back in each dialect's own field names and gender codes. The dialects are spoken
//! through the small clients of `support/dialect_clients.rs`.

mod support;

#[path = "support/dialect_clients.rs"]
mod dialect_clients;

#[cfg(feature = "code_result")]
use dialect_clients::code_result;
use dialect_clients::{DIALECTS, Session};
#[cfg(feature = "struts")]
use dialect_clients::{md5_hex, struts};
use support::TestApp;

/// A distinct mainland phone per (registering dialect, case).
fn phone(registrar: usize, case: usize) -> String {
    format!("139{:04}{:04}", registrar, case)
}

#[actix_web::test]
async fn an_account_registered_anywhere_logs_in_everywhere() {
    let app = TestApp::spawn("").await;
    for (r, registrar) in DIALECTS.iter().enumerate() {
        let phone = phone(r, 1);
        (registrar.register)(&app, &phone, "same-secret")
            .await
            .unwrap_or_else(|e| panic!("register through {}: {e}", registrar.id));
        for other in DIALECTS {
            (other.login)(&app, &phone, "same-secret")
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "registered through {}, login through {}: {e}",
                        registrar.id, other.id
                    )
                });
            assert!(
                (other.login)(&app, &phone, "wrong-secret").await.is_err(),
                "{} accepts a wrong password",
                other.id
            );
            // The phone is "already registered" in every dialect.
            assert!(
                (other.register)(&app, &phone, "another").await.is_err(),
                "{} registers a phone that {} registered",
                other.id,
                registrar.id
            );
        }
    }
}

/// A session in every dialect that has sessions.
async fn sessions_everywhere(app: &TestApp, phone: &str, password: &str) -> Vec<(usize, Session)> {
    let mut out = Vec::new();
    for (i, dialect) in DIALECTS.iter().enumerate() {
        let session = (dialect.login)(app, phone, password)
            .await
            .unwrap_or_else(|e| panic!("login through {}: {e}", dialect.id));
        if let Some(session) = session {
            assert!(
                (dialect.alive)(app, &session).await,
                "{} session",
                dialect.id
            );
            out.push((i, session));
        }
    }
    out
}

#[actix_web::test]
async fn a_password_changed_in_one_dialect_is_the_password_in_all() {
    let app = TestApp::spawn("").await;
    for (c, changer) in DIALECTS.iter().enumerate() {
        let phone = phone(c, 2);
        (DIALECTS[0].register)(&app, &phone, "first-secret")
            .await
            .expect("register");
        let others = sessions_everywhere(&app, &phone, "first-secret").await;
        let own = (changer.change_password)(&app, &phone, "first-secret", "second-secret")
            .await
            .unwrap_or_else(|e| panic!("change through {}: {e}", changer.id));
        for other in DIALECTS {
            assert!(
                (other.login)(&app, &phone, "first-secret").await.is_err(),
                "{} still takes the old password",
                other.id
            );
            (other.login)(&app, &phone, "second-secret")
                .await
                .unwrap_or_else(|e| panic!("{} refuses the new password: {e}", other.id));
        }
        // Every other session ended, in every dialect; the changer's own as its document says.
        for (i, session) in &others {
            assert!(
                !(DIALECTS[*i].alive)(&app, session).await,
                "changed through {}: a {} session survived",
                changer.id,
                DIALECTS[*i].id
            );
        }
        if let Some(own) = own {
            assert_eq!(
                (changer.alive)(&app, &own).await,
                changer.keeps_own_session,
                "{}'s own session after its change",
                changer.id
            );
        }
    }
}

/// An SMS reset, and a ban, end every session of the user in every dialect at once.
#[actix_web::test]
async fn an_sms_reset_or_a_ban_ends_every_session_everywhere() {
    use rosetta::domain::credential::PasswordInput;
    use rosetta::domain::phone::Phone;
    use rosetta::service::sms::{CodeRequest, PhoneMust, SmsRules};
    let app = TestApp::spawn("").await;
    let phone = phone(9, 3);
    (DIALECTS[0].register)(&app, &phone, "first-secret")
        .await
        .expect("register");
    let sessions = sessions_everywhere(&app, &phone, "first-secret").await;
    assert!(sessions.len() >= DIALECTS.len().saturating_sub(1));
    let service = app.service();
    let mobile = Phone::mainland(&phone).unwrap();
    app.clock.advance_ms(61_000);
    service
        .send_code(CodeRequest {
            phone: &mobile,
            purpose: "reset",
            dialect: "test",
            rules: SmsRules::global(6),
            phone_must: PhoneMust::BeRegistered,
            client_ip: None,
        })
        .await
        .unwrap();
    let code = service.sms_outbox(Some(phone.clone())).await.unwrap()[0]
        .code
        .clone();
    let verified = service
        .verify_code(&mobile, "reset", &code, None)
        .await
        .unwrap();
    service
        .reset_password(
            &verified,
            &PasswordInput::Plain("second-secret".into()),
            false,
        )
        .await
        .unwrap();
    for (i, session) in &sessions {
        assert!(
            !(DIALECTS[*i].alive)(&app, session).await,
            "{} after a reset",
            DIALECTS[*i].id
        );
    }

    let sessions = sessions_everywhere(&app, &phone, "second-secret").await;
    let id = service.find_user_by_phone(&mobile).await.unwrap().unwrap();
    let banned = app
        .admin(
            "POST",
            &format!("/admin/users/{id}/ban"),
            serde_json::json!({}),
        )
        .await;
    assert!(banned.status < 300, "{}", banned.text());
    for (i, session) in &sessions {
        assert!(
            !(DIALECTS[*i].alive)(&app, session).await,
            "{} after a ban",
            DIALECTS[*i].id
        );
    }
    for dialect in DIALECTS {
        assert!(
            (dialect.login)(&app, &phone, "second-secret")
                .await
                .is_err(),
            "{} logs a banned user in",
            dialect.id
        );
    }
}

/// An account the operator created (the admin API) logs in through every dialect.
#[actix_web::test]
async fn an_account_created_by_the_operator_logs_in_everywhere() {
    let app = TestApp::spawn("").await;
    app.create_user("13700000001", "op-secret", "op").await;
    for dialect in DIALECTS {
        (dialect.login)(&app, "13700000001", "op-secret")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", dialect.id));
    }
}

/// A nickname changed through BlueU is what SealTalk shows, and the other way round.
#[cfg(all(feature = "code_result", feature = "error_code"))]
#[actix_web::test]
async fn a_profile_edited_in_one_dialect_reads_the_same_in_another() {
    use serde_json::json;
    let app = TestApp::spawn("").await;
    let phone = "13912340001";
    (code_result::CLIENT.register)(&app, phone, "same-secret")
        .await
        .expect("register");
    let (wire_id, cookie) = code_result::cookie(&app, phone, "same-secret")
        .await
        .expect("login");
    let login = app
        .send(
            "error_code",
            "POST",
            "/api/user/login",
            &[("Content-Type", "application/json")],
            json!({"username": phone, "password": "same-secret"})
                .to_string()
                .as_bytes(),
        )
        .await
        .json();
    let token = login["data"]["token_id"].as_str().unwrap().to_owned();
    let user_id = login["data"]["userid"].as_str().unwrap().to_owned();
    let edit = app
        .send(
            "error_code",
            "POST",
            &format!("/api/user/{user_id}/edit"),
            &[
                ("Content-Type", "application/json"),
                ("X-Auth-Token", &token),
            ],
            json!({"name": "BlueU name"}).to_string().as_bytes(),
        )
        .await;
    assert_eq!(edit.json()["error_code"], json!(0), "{}", edit.text());
    let cookie_header = format!("rong_im_auth={cookie}");
    let seen = app
        .send(
            "code_result",
            "GET",
            &format!("/user/{wire_id}"),
            &[("Cookie", &cookie_header)],
            b"",
        )
        .await
        .json();
    assert_eq!(seen["result"]["nickname"], json!("BlueU name"));

    code_result::call(
        &app,
        "/user/set_nickname",
        json!({"nickname": "SealTalk name"}),
        Some(&cookie),
    )
    .await
    .expect("set_nickname");
    let detail = app
        .send(
            "error_code",
            "GET",
            &format!("/api/user/{user_id}"),
            &[],
            b"",
        )
        .await
        .json();
    assert_eq!(detail["data"]["name"], json!("SealTalk name"));
}

/// One profile through five wire formats: a nickname and a gender set through `struts` (1 =
/// male) read back as `error_code`'s `sex` "2", `rest`'s document letter "f" and SealTalk's
/// nickname; a portrait set through SealTalk is `rest`'s `avatar` and `struts`' `userPhoto`; a
/// name set through BlueU is everyone's nickname.
#[cfg(all(
    feature = "struts",
    feature = "error_code",
    feature = "rest",
    feature = "code_result",
    feature = "code_sec"
))]
#[actix_web::test]
async fn a_profile_reads_back_in_every_dialects_own_words() {
    use serde_json::{Value, json};
    let app = TestApp::spawn("").await;
    let phone = "13912340002";
    (struts::CLIENT.register)(&app, phone, "same-secret")
        .await
        .expect("register");
    let form = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).unwrap();
    let md5 = md5_hex("same-secret");
    let login = app
        .send(
            "struts",
            "POST",
            "/user/user!login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form(&[("userVO.userName", phone), ("userVO.password", &md5)]).as_bytes(),
        )
        .await;
    let uid = login.header("uid").unwrap().to_owned();
    let token = login.header("accesstoken").unwrap().to_owned();
    let struts_headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("uid", uid.as_str()),
        ("accessToken", token.as_str()),
    ];
    let edit = app
        .send(
            "struts",
            "POST",
            "/user/user!updateUser",
            &struts_headers,
            form(&[("userExtendVO.nickName", "彪彪"), ("userVO.sex", "1")]).as_bytes(),
        )
        .await;
    assert_eq!(edit.json()["success"], json!(true), "{}", edit.text());

    async fn blueu(app: &TestApp, uid: &str) -> Value {
        app.send("error_code", "GET", &format!("/api/user/{uid}"), &[], b"")
            .await
            .json()["data"]
            .clone()
    }
    async fn rest(app: &TestApp, uid: &str) -> Value {
        app.send("rest", "GET", &format!("/users/{uid}"), &[], b"")
            .await
            .json()
    }
    let detail: Value = blueu(&app, &uid).await;
    assert_eq!(
        (detail["name"].clone(), detail["sex"].clone()),
        (json!("彪彪"), json!("2"))
    );
    let user: Value = rest(&app, &uid).await;
    assert_eq!(
        (user["nickName"].clone(), user["gender"].clone()),
        (json!("彪彪"), json!("f"))
    );

    let (wire_id, cookie) = code_result::cookie(&app, phone, "same-secret")
        .await
        .unwrap();
    let cookie_header = format!("rong_im_auth={cookie}");
    let sealtalk = app
        .send(
            "code_result",
            "GET",
            &format!("/user/{wire_id}"),
            &[("Cookie", &cookie_header)],
            b"",
        )
        .await
        .json();
    assert_eq!(sealtalk["result"]["nickname"], json!("彪彪"));

    let portrait = "http://img.example.com/portrait.png";
    code_result::call(
        &app,
        "/user/set_portrait_uri",
        json!({"portraitUri": portrait}),
        Some(&cookie),
    )
    .await
    .expect("set_portrait_uri");
    assert_eq!(rest(&app, &uid).await["avatar"], json!(portrait));
    let read = app
        .send(
            "struts",
            "POST",
            "/user/user!readUser",
            &struts_headers,
            b"",
        )
        .await
        .json();
    assert_eq!(read["data"]["userVO"]["userPhoto"], json!(portrait));
    assert_eq!(read["data"]["userVO"]["sex"], json!("1"));

    let blueu_login = app
        .send(
            "error_code",
            "POST",
            "/api/user/login",
            &[("Content-Type", "application/json")],
            json!({"username": phone, "password": "same-secret"})
                .to_string()
                .as_bytes(),
        )
        .await
        .json();
    let blueu_token = blueu_login["data"]["token_id"].as_str().unwrap().to_owned();
    let renamed = app
        .send(
            "error_code",
            "POST",
            &format!("/api/user/{uid}/edit"),
            &[
                ("Content-Type", "application/json"),
                ("X-Auth-Token", &blueu_token),
            ],
            json!({"name": "BlueU"}).to_string().as_bytes(),
        )
        .await;
    assert_eq!(renamed.json()["error_code"], json!(0));
    let read = app
        .send(
            "struts",
            "POST",
            "/user/user!readUser",
            &struts_headers,
            b"",
        )
        .await
        .json();
    assert_eq!(read["data"]["userVO"]["nickName"], json!("BlueU"));
    assert_eq!(rest(&app, &uid).await["nickName"], json!("BlueU"));
    assert_eq!(blueu(&app, &uid).await["name"], json!("BlueU"));
}
