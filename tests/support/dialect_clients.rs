//! Small clients of every dialect, for the tests that drive one account through all of them
//! (the cross-dialect matrix, the database copy): register, log in, check a session, change the
//! password, each in the dialect's own wire format with the password the way its clients send
//! it. Each dialect plugs in one [`DialectClient`] in [`DIALECTS`].
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the clients"
)]

use std::future::Future;
use std::pin::Pin;

use crate::support::{Reply, TestApp};

pub type Step<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;
/// A live session as its dialect carries it (a cookie, a token, `uid` + `sec` …).
pub type Session = Vec<(&'static str, String)>;
/// A login's session, or `None` for a dialect whose sessions nothing checks (`rest`).
pub type Opened<'a> = Pin<Box<dyn Future<Output = Result<Option<Session>, String>> + 'a>>;
pub type Alive<'a> = Pin<Box<dyn Future<Output = bool> + 'a>>;
/// A dialect's raw answer.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Reply> + 'a>>;

/// What the cross-dialect tests need from a dialect, spoken in its own wire format with the
/// password the way its clients send it (md5 hex from `struts` and `code_sec`, plain from the
/// others).
pub struct DialectClient {
    pub id: &'static str,
    /// Registers the phone (an 11-digit mainland number) with a plain password.
    pub register: for<'a> fn(&'a TestApp, &'a str, &'a str) -> Step<'a>,
    /// Logs in with the phone and a plain password; `Err` when refused.
    pub login: for<'a> fn(&'a TestApp, &'a str, &'a str) -> Opened<'a>,
    /// Whether a session still opens the dialect's authenticated endpoints.
    pub alive: for<'a> fn(&'a TestApp, &'a Session) -> Alive<'a>,
    /// Logs in, then changes the password from `old` to `new`; the session that did it.
    pub change_password: for<'a> fn(&'a TestApp, &'a str, &'a str, &'a str) -> Opened<'a>,
    /// Whether that session survives the change, as the dialect's document says.
    pub keeps_own_session: bool,
    /// Asks for a sign-up code for the phone; the dialect's raw answer. `None` for a dialect
    /// without SMS.
    pub request_code: Option<for<'a> fn(&'a TestApp, &'a str) -> Answer<'a>>,
}

/// The app-side hash of `struts` and `code_sec` clients.
#[cfg_attr(
    not(any(feature = "struts", feature = "code_sec")),
    expect(dead_code, reason = "only md5-sending dialects use it")
)]
pub fn md5_hex(plain: &str) -> String {
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
pub fn field<'a>(session: &'a Session, name: &str) -> &'a str {
    session
        .iter()
        .find(|(k, _)| *k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The latest SMS code sent to the phone, read from the outbox.
pub async fn sent_code(app: &TestApp, phone: &str) -> Result<String, String> {
    app.service()
        .sms_outbox(Some(phone.to_owned()))
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .find(|m| m.was_sent())
        .map(|m| m.code.clone())
        .ok_or_else(|| "no code was sent".to_owned())
}

/// Every dialect of this build that the tests know how to speak.
pub const DIALECTS: &[DialectClient] = &[
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
pub mod rest {
    use serde_json::{Value, json};

    use super::{Alive, Answer, DialectClient, Opened, Session, Step, TestApp};

    pub const CLIENT: DialectClient = DialectClient {
        id: "rest",
        register,
        login,
        alive,
        change_password,
        keeps_own_session: false,
        request_code: Some(request_code),
    };

    fn request_code<'a>(app: &'a TestApp, phone: &'a str) -> Answer<'a> {
        Box::pin(async move {
            let body = json!({"tel": tel(phone), "action": "signup"});
            let json = ("Content-Type", "application/json");
            app.send(
                "rest",
                "POST",
                "/actions/sms",
                &[json],
                body.to_string().as_bytes(),
            )
            .await
        })
    }

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
            let asked = request_code(app, phone).await;
            if asked.status != 200 {
                return Err(format!("{} {}", asked.status, asked.text()));
            }
            let code = super::sent_code(app, phone).await?;
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
pub mod struts {
    use serde_json::{Value, json};

    use super::{Alive, Answer, DialectClient, Opened, Session, Step, TestApp, field, md5_hex};

    pub const CLIENT: DialectClient = DialectClient {
        id: "struts",
        register,
        login,
        alive,
        change_password,
        // "重置密码成功后，后台会注销登陆信息，app需要重新登陆。"
        keeps_own_session: false,
        request_code: Some(request_code),
    };

    fn request_code<'a>(app: &'a TestApp, phone: &'a str) -> Answer<'a> {
        Box::pin(async move {
            let body =
                serde_urlencoded::to_string([("userVO.userMobile", phone)]).unwrap_or_default();
            let form = ("Content-Type", "application/x-www-form-urlencoded");
            app.send(
                "struts",
                "POST",
                "/user/user!sendRegisterCode",
                &[form],
                body.as_bytes(),
            )
            .await
        })
    }

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
            let asked = request_code(app, phone).await.json();
            if asked["success"] != json!(true) {
                return Err(asked.to_string());
            }
            let code = super::sent_code(app, phone).await?;
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
pub mod code_sec {
    use serde_json::{Value, json};

    use super::{Alive, Answer, DialectClient, Opened, Session, Step, TestApp, field, md5_hex};

    pub const CLIENT: DialectClient = DialectClient {
        id: "code_sec",
        register,
        login,
        alive,
        change_password,
        // "APP端修改密码后需要重新登录".
        keeps_own_session: false,
        request_code: Some(request_code),
    };

    /// `/user/sms` with its checksum.
    fn request_code<'a>(app: &'a TestApp, phone: &'a str) -> Answer<'a> {
        Box::pin(async move {
            let utime = app.service().now_ms() / 1000;
            let national: i64 = phone.parse().unwrap_or_default();
            let sec = (national - utime).rem_euclid(49_477).to_string();
            let utime = utime.to_string();
            let pairs = [("phone", phone), ("utime", &utime), ("sec", &sec)];
            let body = serde_urlencoded::to_string(pairs).unwrap_or_default();
            let form = ("Content-Type", "application/x-www-form-urlencoded");
            app.send("code_sec", "POST", "/user/sms", &[form], body.as_bytes())
                .await
        })
    }

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
        let asked = request_code(app, phone).await.json();
        if asked["code"] != json!("200") {
            return Err(asked.to_string());
        }
        super::sent_code(app, phone).await
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
pub mod code_result {
    use serde_json::{Value, json};

    use super::{Alive, Answer, DialectClient, Opened, Session, Step, TestApp, field};

    pub const CLIENT: DialectClient = DialectClient {
        id: "code_result",
        register,
        login,
        alive,
        change_password,
        // The original kept the cookie, and its clients carry on with it.
        keeps_own_session: true,
        request_code: Some(request_code),
    };

    fn request_code<'a>(app: &'a TestApp, phone: &'a str) -> Answer<'a> {
        Box::pin(async move {
            let body = json!({"region": "86", "phone": phone}).to_string();
            let json = ("Content-Type", "application/json");
            app.send(
                "code_result",
                "POST",
                "/user/send_code",
                &[json],
                body.as_bytes(),
            )
            .await
        })
    }

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
            let code = super::sent_code(app, phone).await?;
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
pub mod error_code {
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
        request_code: None,
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
