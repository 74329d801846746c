//! Token and code guessing are bounded (`security.failed_guesses_per_ip_per_minute`): after that
//! many wrong session tokens or SMS codes from one address in a minute, every further attempt
//! from there is refused — a right one too — in the dialect's own words, until the minute ends.
//! One test per dialect and kind (`rest` checks no session, `error_code` sends no codes).

mod support;

#[path = "support/dialect_clients.rs"]
mod dialect_clients;

use serde_json::{Value, json};
use support::{Reply, TestApp};

const LIMIT: usize = 3;
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/json");

async fn spawn() -> TestApp {
    TestApp::spawn(&format!(
        "[security]\nfailed_guesses_per_ip_per_minute = {LIMIT}\nlogin_attempts_per_ip_per_minute = 0\n"
    ))
    .await
}

/// The answer to a throttled attempt.
struct Throttled {
    answer: Value,
    /// `code_sec`'s document has no "too many attempts": a throttled attempt gets the answer of
    /// a wrong guess (what proves the bound is that the right guess is refused too).
    looks_like_a_wrong_guess: bool,
}

fn throttled(answer: Value) -> Throttled {
    Throttled {
        answer,
        looks_like_a_wrong_guess: false,
    }
}

/// Sends `wrong` [`LIMIT`] times (each refused, but not yet as throttled), then `right`, which
/// must be refused with `throttled`; a minute later `right` must pass (`passed`).
async fn bounded<W, R>(
    app: &TestApp,
    wrong: impl Fn(usize) -> W,
    right: impl Fn() -> R,
    throttled: Throttled,
    passed: impl Fn(&Reply) -> bool,
) where
    W: Future<Output = Reply>,
    R: Future<Output = Reply>,
{
    for n in 0..LIMIT {
        let reply = wrong(n).await;
        assert!(!passed(&reply), "a wrong guess passed: {}", reply.text());
        if !throttled.looks_like_a_wrong_guess {
            assert_ne!(
                reply_json(&reply),
                throttled.answer,
                "throttled before the limit"
            );
        }
    }
    let reply = right().await;
    assert_eq!(reply_json(&reply), throttled.answer, "{}", reply.text());
    app.clock.advance_ms(60_000);
    let reply = right().await;
    assert!(passed(&reply), "not back after a minute: {}", reply.text());
}

fn reply_json(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body).unwrap_or(Value::Null)
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

#[cfg(feature = "error_code")]
#[actix_web::test]
async fn error_code_token_guessing() {
    let app = spawn().await;
    let body = json!({"username": "13900000001", "password": "secret", "name": "n"});
    app.send(
        "error_code",
        "POST",
        "/api/user/register",
        &[],
        body.to_string().as_bytes(),
    )
    .await;
    let login = app
        .send(
            "error_code",
            "POST",
            "/api/user/login",
            &[],
            br#"{"username":"13900000001","password":"secret"}"#,
        )
        .await
        .json();
    let token = login["data"]["token_id"].as_str().unwrap().to_owned();
    let path = format!(
        "/api/user/{}/edit",
        login["data"]["userid"].as_str().unwrap()
    );
    let edit = |token: String| {
        let (app, path) = (&app, path.clone());
        async move {
            app.send(
                "error_code",
                "POST",
                &path,
                &[("X-Auth-Token", &token)],
                b"{}",
            )
            .await
        }
    };
    bounded(
        &app,
        |n| edit(format!("00000000-0000-0000-0000-00000000000{n}")),
        || edit(token.clone()),
        throttled(
            json!({"error_code": 4, "error_msg": "token无效，Too many attempts, try again later"}),
        ),
        |r| r.json()["error_code"] == json!(0),
    )
    .await;
}

#[cfg(feature = "struts")]
#[actix_web::test]
async fn struts_token_and_code_guessing() {
    let app = spawn().await;
    let refused = json!({"success": false, "info": "尝试过于频繁，请稍后再试"});
    let phone = "13900000002";
    let md5 = dialect_clients::md5_hex("secret");
    let send = |path: &'static str, headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.send("struts", "POST", path, &headers, &body).await
        }
    };
    send(
        "/user/user!sendRegisterCode",
        vec![form_type()],
        form(&[("userVO.userMobile", phone)]),
    )
    .await;
    let code = dialect_clients::sent_code(&app, phone).await.unwrap();
    let register = |code: String| {
        send(
            "/user/user!register",
            vec![form_type()],
            form(&[
                ("userVO.userMobile", phone),
                ("userVO.password", &md5),
                ("telSecurityCode", &code),
            ]),
        )
    };
    bounded(
        &app,
        |n| register(format!("00000{n}")),
        || register(code.clone()),
        throttled(refused.clone()),
        |r| r.json()["success"] == json!(true),
    )
    .await;

    let login = send(
        "/user/user!login",
        vec![form_type()],
        form(&[("userVO.userName", phone), ("userVO.password", &md5)]),
    )
    .await;
    let (uid, token) = (
        login.header("uid").unwrap().to_owned(),
        login.header("accesstoken").unwrap().to_owned(),
    );
    let read = |token: String| {
        send(
            "/user/user!readUser",
            vec![("uid", uid.clone()), ("accessToken", token)],
            Vec::new(),
        )
    };
    bounded(
        &app,
        |n| read(format!("wrong-token-{n}")),
        || read(token.clone()),
        throttled(refused.clone()),
        |r| r.json()["success"] == json!(true),
    )
    .await;
}

fn form_type() -> (&'static str, String) {
    (FORM.0, FORM.1.to_owned())
}

#[cfg(feature = "code_sec")]
#[actix_web::test]
async fn code_sec_token_and_code_guessing() {
    let app = spawn().await;
    let phone = "13900000003";
    let md5 = dialect_clients::md5_hex("secret");
    let post = |path: &'static str, body: Vec<u8>| {
        let app = &app;
        async move { app.send("code_sec", "POST", path, &[FORM], &body).await }
    };
    let utime = (app.service().now_ms() / 1000).to_string();
    let sec = (13_900_000_003i64 - app.service().now_ms() / 1000)
        .rem_euclid(49_477)
        .to_string();
    post(
        "/user/sms",
        form(&[("phone", phone), ("utime", &utime), ("sec", &sec)]),
    )
    .await;
    let code = dialect_clients::sent_code(&app, phone).await.unwrap();
    let register = |code: String| {
        post(
            "/user/reg",
            form(&[("phone", phone), ("yzm", &code), ("pwd", &md5)]),
        )
    };
    bounded(
        &app,
        |n| register(format!("00000{n}")),
        || register(code.clone()),
        Throttled {
            answer: json!({"code": "4001"}),
            looks_like_a_wrong_guess: true,
        },
        |r| r.json()["code"] == json!("200"),
    )
    .await;

    let login = post("/user/login", form(&[("phone", phone), ("pwd", &md5)]))
        .await
        .json();
    let (uid, sec) = (
        login["uid"].as_str().unwrap().to_owned(),
        login["sec"].as_str().unwrap().to_owned(),
    );
    let info = |sec: String| post("/user/getUserInfo", form(&[("uid", &uid), ("sec", &sec)]));
    bounded(
        &app,
        |n| info(format!("000000000000000{n}")),
        || info(sec.clone()),
        Throttled {
            answer: json!({"code": "4000"}),
            looks_like_a_wrong_guess: true,
        },
        |r| r.json()["code"] == json!("200"),
    )
    .await;
}

#[cfg(feature = "rest")]
#[actix_web::test]
async fn rest_code_guessing() {
    let app = spawn().await;
    let tel = json!({"dialCode": 86, "number": 13_900_000_004u64});
    app.send(
        "rest",
        "POST",
        "/actions/sms",
        &[JSON],
        json!({"tel": tel, "action": "signup"})
            .to_string()
            .as_bytes(),
    )
    .await;
    let code = dialect_clients::sent_code(&app, "13900000004")
        .await
        .unwrap();
    let register = |captcha: String| {
        let (app, tel) = (&app, tel.clone());
        async move {
            let body = json!({"tel": tel, "password": "secret", "captcha": captcha});
            app.send(
                "rest",
                "POST",
                "/users",
                &[JSON],
                body.to_string().as_bytes(),
            )
            .await
        }
    };
    let without_time = |r: &Reply| {
        let mut answer = r.json();
        answer["timestamp"] = json!(0);
        answer
    };
    for n in 0..LIMIT {
        let reply = register(format!("00000{n}")).await;
        assert_ne!(reply.status, 200);
        assert_ne!(
            without_time(&reply)["error"],
            json!("尝试过于频繁，请稍后再试。")
        );
    }
    let reply = register(code.clone()).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        without_time(&reply),
        json!({"timestamp": 0, "code": 403, "error": "尝试过于频繁，请稍后再试。"})
    );
    app.clock.advance_ms(60_000);
    assert_eq!(register(code).await.status, 200);
}

#[cfg(feature = "code_result")]
#[actix_web::test]
async fn code_result_token_and_code_guessing() {
    let app = spawn().await;
    let refused = json!({"code": 5000, "message": "Throttle limit exceeded."});
    let phone = "13900000005";
    let post = |path: &'static str, body: Value, cookie: Option<String>| {
        let app = &app;
        async move {
            let cookie = cookie.as_deref().map(|c| ("rong_im_auth", c));
            app.post_json("code_result", path, &body, cookie).await
        }
    };
    post(
        "/user/send_code",
        json!({"region": "86", "phone": phone}),
        None,
    )
    .await;
    let code = dialect_clients::sent_code(&app, phone).await.unwrap();
    let verify = |code: String| {
        post(
            "/user/verify_code",
            json!({"region": "86", "phone": phone, "code": code}),
            None,
        )
    };
    bounded(
        &app,
        |n| verify(format!("000{n}")),
        || verify(code.clone()),
        throttled(refused.clone()),
        |r| r.json()["code"] == json!(200),
    )
    .await;

    (dialect_clients::code_result::CLIENT.register)(&app, "13900000006", "secret")
        .await
        .unwrap();
    let (_, cookie) = dialect_clients::code_result::cookie(&app, "13900000006", "secret")
        .await
        .unwrap();
    let blacklist = |cookie: String| {
        let app = &app;
        async move {
            let cookie = format!("rong_im_auth={cookie}");
            app.send(
                "code_result",
                "GET",
                "/user/blacklist",
                &[("Cookie", &cookie)],
                b"",
            )
            .await
        }
    };
    // The minute of the code guesses above is over: the address starts afresh.
    app.clock.advance_ms(60_000);
    bounded(
        &app,
        |n| blacklist(format!("wrong-cookie-{n}")),
        || blacklist(cookie.clone()),
        throttled(refused.clone()),
        |r| r.status == 200 && r.json()["code"] == json!(200),
    )
    .await;
}
