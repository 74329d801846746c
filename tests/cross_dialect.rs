//! One account, every dialect (the migration team's matrix): an account registered through any
//! dialect logs in through every dialect (5 × 5) with the password as each one's clients send it;
//! a password changed in one is the password in all and ends every other session everywhere (the
//! changer's own kept or ended as its document says); an SMS reset or a ban ends them all; a
//! profile reads back in each dialect's own field names and gender codes. Each dialect plugs in a
//! small client (register, log in, check a session, change the password) in [`DIALECTS`].

mod support;

use std::future::Future;
use std::pin::Pin;

use support::TestApp;

type Step<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;
/// A live session as its dialect carries it (a cookie, a token, `uid` + `sec` …).
type Session = Vec<(&'static str, String)>;
/// A login's session, or `None` for a dialect whose sessions nothing checks (`rest`).
type Opened<'a> = Pin<Box<dyn Future<Output = Result<Option<Session>, String>> + 'a>>;
type Alive<'a> = Pin<Box<dyn Future<Output = bool> + 'a>>;

/// What the cross-dialect tests need from a dialect, spoken in its own wire format with the
/// password the way its clients send it (md5 hex from `struts` and `code_sec`, plain from the
/// others).
struct DialectClient {
    id: &'static str,
    /// Registers the phone (an 11-digit mainland number) with a plain password.
    register: for<'a> fn(&'a TestApp, &'a str, &'a str) -> Step<'a>,
    /// Logs in with the phone and a plain password; `Err` when refused.
    login: for<'a> fn(&'a TestApp, &'a str, &'a str) -> Opened<'a>,
    /// Whether a session still opens the dialect's authenticated endpoints.
    alive: for<'a> fn(&'a TestApp, &'a Session) -> Alive<'a>,
    /// Logs in, then changes the password from `old` to `new`; the session that did it.
    change_password: for<'a> fn(&'a TestApp, &'a str, &'a str, &'a str) -> Opened<'a>,
    /// Whether that session survives the change, as the dialect's document says.
    keeps_own_session: bool,
}

/// The app-side hash of `struts` and `code_sec` clients.
#[cfg_attr(
    not(any(feature = "struts", feature = "code_sec")),
    expect(dead_code, reason = "only md5-sending dialects use it")
)]
fn md5_hex(plain: &str) -> String {
    use md5::{Digest, Md5};
    Md5::digest(plain.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg_attr(
    not(any(
        feature = "struts",
        feature = "code_sec",
        feature = "code_result",
        feature = "error_code"
    )),
    expect(dead_code, reason = "only dialects with sessions read them")
)]
fn field<'a>(session: &'a Session, name: &str) -> &'a str {
    session
        .iter()
        .find(|(k, _)| *k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Every dialect of this build that the tests know how to speak.
const DIALECTS: &[DialectClient] = &[
    #[cfg(feature = "code_result")]
    code_result::CLIENT,
    #[cfg(feature = "code_sec")]
    code_sec::CLIENT,
    #[cfg(feature = "error_code")]
    error_code::CLIENT,
    #[cfg(feature = "rest")]
    rest::CLIENT,
    #[cfg(feature = "struts")]
    struts::CLIENT,
];

#[cfg(feature = "rest")]
mod rest {
    use serde_json::{Value, json};

    use super::{Alive, DialectClient, Opened, Session, Step, TestApp};

    pub const CLIENT: DialectClient = DialectClient {
        id: "rest",
        register,
        login,
        alive,
        change_password,
        keeps_own_session: false,
    };

    fn alive<'a>(_app: &'a TestApp, _session: &'a Session) -> Alive<'a> {
        // The document's sessions are checked nowhere: there is nothing to end.
        Box::pin(async { false })
    }

    async fn call(app: &TestApp, path: &str, body: Value) -> Result<Value, String> {
        let reply = app
            .send(
                "rest",
                "POST",
                path,
                &[("Content-Type", "application/json")],
                body.to_string().as_bytes(),
            )
            .await;
        if reply.status == 200 {
            Ok(reply.json())
        } else {
            Err(format!("{} {}", reply.status, reply.text()))
        }
    }

    fn tel(phone: &str) -> Value {
        json!({"dialCode": 86, "number": phone.parse::<u64>().unwrap_or_default()})
    }

    fn register<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Step<'a> {
        Box::pin(async move {
            call(
                app,
                "/actions/sms",
                json!({"tel": tel(phone), "action": "signup"}),
            )
            .await?;
            let code = app
                .service()
                .sms_outbox(Some(phone.to_owned()))
                .await
                .map_err(|e| e.to_string())?
                .first()
                .map(|m| m.code.clone())
                .ok_or("no code was sent")?;
            let body = json!({"tel": tel(phone), "password": password, "captcha": code});
            call(app, "/users", body).await.map(drop)
        })
    }

    fn login<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Opened<'a> {
        Box::pin(async move {
            let body = json!({"tel": tel(phone), "password": password});
            call(app, "/users/signin", body).await.map(|_| None)
        })
    }

    /// The document has no change of password: another dialect's reset stands for it, and
    /// this client only checks the old password first.
    fn change_password<'a>(
        app: &'a TestApp,
        phone: &'a str,
        old: &'a str,
        new: &'a str,
    ) -> Opened<'a> {
        Box::pin(async move {
            let body = json!({"tel": tel(phone), "password": old});
            call(app, "/users/signin", body).await?;
            let phone =
                rosetta::domain::phone::Phone::mainland(phone).map_err(|e| e.to_string())?;
            let id = app
                .service()
                .find_user_by_phone(&phone)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("no account")?;
            let session = rosetta::service::accounts::CallerSession::End;
            app.service()
                .change_password(
                    id,
                    &rosetta::domain::credential::PasswordInput::Plain(old.to_owned()),
                    &rosetta::domain::credential::PasswordInput::Plain(new.to_owned()),
                    session,
                )
                .await
                .map(|()| None)
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(feature = "struts")]
mod struts {
    use serde_json::{Value, json};

    use super::{Alive, DialectClient, Opened, Session, Step, TestApp, field, md5_hex};

    pub const CLIENT: DialectClient = DialectClient {
        id: "struts",
        register,
        login,
        alive,
        change_password,
        // "重置密码成功后，后台会注销登陆信息，app需要重新登陆。"
        keeps_own_session: false,
    };

    fn alive<'a>(app: &'a TestApp, session: &'a Session) -> Alive<'a> {
        Box::pin(async move {
            let pair = (
                field(session, "uid").to_owned(),
                field(session, "token").to_owned(),
            );
            call(app, "/user/user!readUser", &[], Some(&pair))
                .await
                .is_ok()
        })
    }

    /// Posts a form; `Ok` with the answer and its `uid` / `accessToken` headers on success.
    async fn call(
        app: &TestApp,
        path: &str,
        pairs: &[(&str, &str)],
        session: Option<&(String, String)>,
    ) -> Result<(Value, Option<(String, String)>), String> {
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if let Some((uid, token)) = session {
            headers.push(("uid", uid.as_str()));
            headers.push(("accessToken", token.as_str()));
        }
        let body = serde_urlencoded::to_string(pairs).map_err(|e| e.to_string())?;
        let reply = app
            .send("struts", "POST", path, &headers, body.as_bytes())
            .await;
        let answer = reply.json();
        if answer["success"] != json!(true) {
            return Err(answer.to_string());
        }
        let session = match (reply.header("uid"), reply.header("accesstoken")) {
            (Some(uid), Some(token)) => Some((uid.to_owned(), token.to_owned())),
            _ => None,
        };
        Ok((answer, session))
    }

    fn register<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Step<'a> {
        Box::pin(async move {
            app.clock.advance_ms(61_000);
            let mobile = [("userVO.userMobile", phone)];
            call(app, "/user/user!sendRegisterCode", &mobile, None).await?;
            let code = app
                .service()
                .sms_outbox(Some(phone.to_owned()))
                .await
                .map_err(|e| e.to_string())?
                .first()
                .map(|m| m.code.clone())
                .ok_or("no code was sent")?;
            let md5 = md5_hex(password);
            let form = [
                ("userVO.userMobile", phone),
                ("userVO.password", md5.as_str()),
                ("telSecurityCode", code.as_str()),
            ];
            call(app, "/user/user!register", &form, None)
                .await
                .map(drop)
        })
    }

    async fn session(
        app: &TestApp,
        phone: &str,
        password: &str,
    ) -> Result<(String, String), String> {
        let md5 = md5_hex(password);
        let form = [
            ("userVO.userName", phone),
            ("userVO.password", md5.as_str()),
        ];
        let (_, session) = call(app, "/user/user!login", &form, None).await?;
        session.ok_or_else(|| "login sent no session headers".to_owned())
    }

    fn login<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Opened<'a> {
        Box::pin(async move {
            let (uid, token) = session(app, phone, password).await?;
            Ok(Some(vec![("uid", uid), ("token", token)]))
        })
    }

    fn change_password<'a>(
        app: &'a TestApp,
        phone: &'a str,
        old: &'a str,
        new: &'a str,
    ) -> Opened<'a> {
        Box::pin(async move {
            let session = session(app, phone, old).await?;
            let (old, new) = (md5_hex(old), md5_hex(new));
            let form = [
                ("oldPassword", old.as_str()),
                ("userVO.password", new.as_str()),
            ];
            call(app, "/user/user!updatePassword", &form, Some(&session)).await?;
            Ok(Some(vec![("uid", session.0), ("token", session.1)]))
        })
    }
}

#[cfg(feature = "code_sec")]
mod code_sec {
    use serde_json::{Value, json};

    use super::{Alive, DialectClient, Opened, Session, Step, TestApp, field, md5_hex};

    pub const CLIENT: DialectClient = DialectClient {
        id: "code_sec",
        register,
        login,
        alive,
        change_password,
        // "APP端修改密码后需要重新登录".
        keeps_own_session: false,
    };

    fn alive<'a>(app: &'a TestApp, session: &'a Session) -> Alive<'a> {
        Box::pin(async move {
            let pairs = [
                ("uid", field(session, "uid")),
                ("sec", field(session, "sec")),
            ];
            call(app, "/user/checkFinishUserInfo", &pairs).await.is_ok()
        })
    }

    async fn open(app: &TestApp, phone: &str, password: &str) -> Result<Option<Session>, String> {
        let md5 = md5_hex(password);
        let answer = call(
            app,
            "/user/login",
            &[("phone", phone), ("pwd", md5.as_str())],
        )
        .await?;
        let text = |key: &str| answer[key].as_str().unwrap_or_default().to_owned();
        Ok(Some(vec![("uid", text("uid")), ("sec", text("sec"))]))
    }

    /// Posts a form; `Ok` for `{"code":"200"}`.
    async fn call(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> Result<Value, String> {
        let body = serde_urlencoded::to_string(pairs).map_err(|e| e.to_string())?;
        let reply = app
            .send(
                "code_sec",
                "POST",
                path,
                &[("Content-Type", "application/x-www-form-urlencoded")],
                body.as_bytes(),
            )
            .await;
        let answer = reply.json();
        if answer["code"] == json!("200") {
            Ok(answer)
        } else {
            Err(answer.to_string())
        }
    }

    /// A code sent to the phone through `/user/sms` (checksum included).
    async fn code(app: &TestApp, phone: &str) -> Result<String, String> {
        app.clock.advance_ms(61_000);
        let utime = app.service().now_ms() / 1000;
        let national: i64 = phone.parse().map_err(|_| "phone")?;
        let sec = (national - utime).rem_euclid(49_477).to_string();
        let utime = utime.to_string();
        call(
            app,
            "/user/sms",
            &[("phone", phone), ("utime", &utime), ("sec", &sec)],
        )
        .await?;
        app.service()
            .sms_outbox(Some(phone.to_owned()))
            .await
            .map_err(|e| e.to_string())?
            .first()
            .map(|m| m.code.clone())
            .ok_or_else(|| "no code was sent".to_owned())
    }

    fn register<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Step<'a> {
        Box::pin(async move {
            let code = code(app, phone).await?;
            let md5 = md5_hex(password);
            let form = [
                ("phone", phone),
                ("yzm", code.as_str()),
                ("pwd", md5.as_str()),
            ];
            call(app, "/user/reg", &form).await.map(drop)
        })
    }

    fn login<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Opened<'a> {
        Box::pin(open(app, phone, password))
    }

    /// The document has no logged-in change of password: a reset by SMS code stands for it,
    /// after checking the old password by logging in.
    fn change_password<'a>(
        app: &'a TestApp,
        phone: &'a str,
        old: &'a str,
        new: &'a str,
    ) -> Opened<'a> {
        Box::pin(async move {
            let own = open(app, phone, old).await?;
            let code = code(app, phone).await?;
            let new = md5_hex(new);
            let form = [
                ("phone", phone),
                ("yzm", code.as_str()),
                ("pwd", new.as_str()),
            ];
            call(app, "/user/pwd", &form).await?;
            Ok(own)
        })
    }
}

#[cfg(feature = "code_result")]
mod code_result {
    use serde_json::{Value, json};

    use super::{Alive, DialectClient, Opened, Session, Step, TestApp, field};

    pub const CLIENT: DialectClient = DialectClient {
        id: "code_result",
        register,
        login,
        alive,
        change_password,
        // The original kept the cookie, and its clients carry on with it.
        keeps_own_session: true,
    };

    fn alive<'a>(app: &'a TestApp, session: &'a Session) -> Alive<'a> {
        Box::pin(async move {
            let cookie = format!("rong_im_auth={}", field(session, "cookie"));
            let reply = app
                .send(
                    "code_result",
                    "GET",
                    "/user/blacklist",
                    &[("Cookie", &cookie)],
                    b"",
                )
                .await;
            reply.status == 200
        })
    }

    /// Posts JSON; `Ok` with the cookie (if one was set) for `{"code":200}`.
    pub async fn call(
        app: &TestApp,
        path: &str,
        body: Value,
        cookie: Option<&str>,
    ) -> Result<(Value, Option<String>), String> {
        let cookie = cookie.map(|c| format!("rong_im_auth={c}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(cookie) = &cookie {
            headers.push(("Cookie", cookie.as_str()));
        }
        let reply = app
            .send(
                "code_result",
                "POST",
                path,
                &headers,
                body.to_string().as_bytes(),
            )
            .await;
        if reply.status != 200 {
            return Err(format!("{} {}", reply.status, reply.text()));
        }
        let answer = reply.json();
        if answer["code"] != json!(200) {
            return Err(answer.to_string());
        }
        let set = reply
            .header("set-cookie")
            .and_then(|c| c.strip_prefix("rong_im_auth="))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned);
        Ok((answer, set))
    }

    fn register<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Step<'a> {
        Box::pin(async move {
            // Past the resend interval of any earlier code to this phone.
            app.clock.advance_ms(61_000);
            let region_phone = json!({"region": "86", "phone": phone});
            call(app, "/user/send_code", region_phone, None).await?;
            let code = app
                .service()
                .sms_outbox(Some(phone.to_owned()))
                .await
                .map_err(|e| e.to_string())?
                .first()
                .map(|m| m.code.clone())
                .ok_or("no code was sent")?;
            let verify = json!({"region": "86", "phone": phone, "code": code});
            let (answer, _) = call(app, "/user/verify_code", verify, None).await?;
            let token = answer["result"]["verification_token"].clone();
            let body =
                json!({"nickname": "跨方言", "password": password, "verification_token": token});
            call(app, "/user/register", body, None).await.map(drop)
        })
    }

    /// Logs in; the wire id and the cookie.
    pub async fn cookie(
        app: &TestApp,
        phone: &str,
        password: &str,
    ) -> Result<(String, String), String> {
        let body = json!({"region": "86", "phone": phone, "password": password});
        let (answer, cookie) = call(app, "/user/login", body, None).await?;
        let id = answer["result"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok((id, cookie.ok_or("login set no cookie")?))
    }

    fn login<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Opened<'a> {
        Box::pin(async move {
            let (_, cookie) = cookie(app, phone, password).await?;
            Ok(Some(vec![("cookie", cookie)]))
        })
    }

    fn change_password<'a>(
        app: &'a TestApp,
        phone: &'a str,
        old: &'a str,
        new: &'a str,
    ) -> Opened<'a> {
        Box::pin(async move {
            let (_, cookie) = cookie(app, phone, old).await?;
            let body = json!({"oldPassword": old, "newPassword": new});
            call(app, "/user/change_password", body, Some(&cookie)).await?;
            Ok(Some(vec![("cookie", cookie)]))
        })
    }
}

#[cfg(feature = "error_code")]
mod error_code {
    use serde_json::json;

    use super::{Alive, DialectClient, Opened, Session, Step, TestApp, field};

    pub const CLIENT: DialectClient = DialectClient {
        id: "error_code",
        register,
        login,
        alive,
        change_password,
        // The original kept the token that changed the password.
        keeps_own_session: true,
    };

    fn alive<'a>(app: &'a TestApp, session: &'a Session) -> Alive<'a> {
        Box::pin(async move {
            let path = format!("/api/user/{}/edit", field(session, "uid"));
            call(app, &path, json!({}), Some(field(session, "token")))
                .await
                .is_ok()
        })
    }

    async fn call(
        app: &TestApp,
        path: &str,
        body: serde_json::Value,
        token: Option<&str>,
    ) -> Result<serde_json::Value, String> {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(token) = token {
            headers.push(("X-Auth-Token", token));
        }
        let reply = app
            .send(
                "error_code",
                "POST",
                path,
                &headers,
                body.to_string().as_bytes(),
            )
            .await;
        let answer = reply.json();
        if answer["error_code"] == json!(0) {
            Ok(answer)
        } else {
            Err(answer.to_string())
        }
    }

    fn register<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Step<'a> {
        Box::pin(async move {
            let body = json!({"username": phone, "password": password, "name": "跨方言"});
            call(app, "/api/user/register", body, None).await.map(drop)
        })
    }

    async fn open(app: &TestApp, phone: &str, password: &str) -> Result<Session, String> {
        let body = json!({"username": phone, "password": password});
        let answer = call(app, "/api/user/login", body, None).await?;
        let text = |key: &str| answer["data"][key].as_str().unwrap_or_default().to_owned();
        Ok(vec![("token", text("token_id")), ("uid", text("userid"))])
    }

    fn login<'a>(app: &'a TestApp, phone: &'a str, password: &'a str) -> Opened<'a> {
        Box::pin(async move { open(app, phone, password).await.map(Some) })
    }

    fn change_password<'a>(
        app: &'a TestApp,
        phone: &'a str,
        old: &'a str,
        new: &'a str,
    ) -> Opened<'a> {
        Box::pin(async move {
            let session = open(app, phone, old).await?;
            let body = json!({"password": old, "newpassword": new});
            call(
                app,
                "/api/user/resetpwd",
                body,
                Some(field(&session, "token")),
            )
            .await?;
            Ok(Some(session))
        })
    }
}

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
    let created = app
        .admin(
            "POST",
            "/admin/users",
            serde_json::json!({"region": "86", "phone": "13700000001", "password": "op-secret", "nickname": "op"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
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
