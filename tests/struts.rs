//! The `struts` dialect (document 000) over HTTP: every action's success and each refusal,
//! exact bodies, types and headers. Compiled with the dialect's feature only.
#![cfg(feature = "struts")]

mod support;

use md5::{Digest, Md5};
use serde_json::{Value, json};
use support::{Reply, TestApp};

const CT: &str = "application/json;charset=UTF-8";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const CLIENT: &str = "F9FQXGP8FCM5";
const PHONE: &str = "13800000000";

fn md5_hex(plain: &str) -> String {
    Md5::digest(plain.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// The session headers a login answered.
#[derive(Debug, Clone)]
struct Session {
    uid: String,
    token: String,
    expire: String,
}

impl Session {
    fn headers(&self) -> Vec<(&str, &str)> {
        vec![
            FORM,
            ("uid", self.uid.as_str()),
            ("accessToken", self.token.as_str()),
            ("client", CLIENT),
            ("expire", self.expire.as_str()),
        ]
    }
}

async fn action(
    app: &TestApp,
    path: &str,
    pairs: &[(&str, &str)],
    session: Option<&Session>,
) -> Reply {
    let headers = match session {
        Some(session) => session.headers(),
        None => vec![FORM, ("client", CLIENT)],
    };
    app.send("struts", "POST", path, &headers, form(pairs).as_bytes())
        .await
}

/// HTTP 200, the exact Content-Type, and exactly this body (key order and types included).
#[track_caller]
fn assert_body(reply: &Reply, expected: Value) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some(CT));
    assert_eq!(reply.text(), serde_json::to_string(&expected).unwrap());
}

#[track_caller]
fn assert_success(reply: &Reply, info: &str) {
    assert_body(reply, json!({"success": true, "info": info}));
}

#[track_caller]
fn assert_refused(reply: &Reply, info: &str) {
    assert_body(reply, json!({"success": false, "info": info}));
}

async fn newest_code(app: &TestApp, phone: &str) -> String {
    app.service()
        .sms_outbox(Some(phone.to_owned()))
        .await
        .unwrap()[0]
        .code
        .clone()
}

async fn register(app: &TestApp, phone: &str, plain: &str) {
    let sent = action(
        app,
        "/user/user!sendRegisterCode",
        &[("userVO.userMobile", phone)],
        None,
    )
    .await;
    assert_success(&sent, "验证码已发送到手机");
    let code = newest_code(app, phone).await;
    let md5 = md5_hex(plain);
    let reply = action(
        app,
        "/user/user!register",
        &[
            ("userVO.userMobile", phone),
            ("userVO.password", &md5),
            ("telSecurityCode", &code),
        ],
        None,
    )
    .await;
    assert_success(&reply, "用户注册成功");
}

async fn login(app: &TestApp, name: &str, plain: &str) -> (Session, Value) {
    let md5 = md5_hex(plain);
    let reply = action(
        app,
        "/user/user!login",
        &[("userVO.userName", name), ("userVO.password", &md5)],
        None,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(CT));
    let body = reply.json();
    assert_eq!(body["success"], json!(true), "{body}");
    assert_eq!(body["info"], json!("登录成功"));
    assert_eq!(reply.header("client"), Some(CLIENT));
    let session = Session {
        uid: reply.header("uid").unwrap().to_owned(),
        token: reply.header("accesstoken").unwrap().to_owned(),
        expire: reply.header("expire").unwrap().to_owned(),
    };
    (session, body)
}

const USER_VO_KEYS: [&str; 17] = [
    "userId",
    "sex",
    "age",
    "phoneNumber",
    "country",
    "province",
    "city",
    "district",
    "street",
    "company",
    "occupation",
    "role",
    "degrees",
    "school",
    "nickName",
    "userPhoto",
    "signature",
];

#[actix_web::test]
async fn register_login_and_read_as_the_document_shows() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let (session, body) = login(&app, PHONE, "secret").await;
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["success", "info", "data"]
    );
    let vo = &body["data"]["userVO"];
    assert_eq!(
        vo.as_object().unwrap().keys().collect::<Vec<_>>(),
        USER_VO_KEYS
    );
    assert_eq!(
        vo["userId"],
        json!(session.uid.parse::<i64>().unwrap()),
        "a number equal to the uid header"
    );
    assert_eq!(
        vo["phoneNumber"],
        json!(PHONE),
        "the account phone until a contact phone is set"
    );
    for key in &USER_VO_KEYS[1..] {
        assert!(vo[key].is_string(), "{key} is a string: {vo}");
    }
    assert_eq!(vo["sex"], json!(""));
    let expire: i64 = session.expire.parse().unwrap();
    assert_eq!(
        expire,
        app.service().now_ms() + 30 * 86_400_000,
        "30 days in ms"
    );
    assert_eq!(session.token.len(), 64);

    let read = action(&app, "/user/user!readUser", &[], Some(&session)).await;
    assert_eq!(read.json()["info"], json!("获取用户信息成功"));
    assert_eq!(read.json()["data"], body["data"]);
    assert_eq!(read.header("uid"), Some(session.uid.as_str()));
    assert_eq!(read.header("accesstoken"), Some(session.token.as_str()));
    assert_eq!(read.header("expire"), Some(session.expire.as_str()));
}

#[actix_web::test]
async fn paths_take_the_action_suffix_an_encoded_bang_and_query_parameters() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let md5 = md5_hex("secret");
    for path in [
        "/user/user!login.action",
        "/user/user%21login",
        "/user/user%21login.action",
    ] {
        let reply = action(
            &app,
            path,
            &[("userVO.userName", PHONE), ("userVO.password", &md5)],
            None,
        )
        .await;
        assert_eq!(
            reply.json()["success"],
            json!(true),
            "{path}: {}",
            reply.text()
        );
    }
    // The same names from the query string, and GET (Struts serves any method).
    let query = form(&[("userVO.userName", PHONE), ("userVO.password", &md5)]);
    let reply = app
        .send(
            "struts",
            "GET",
            &format!("/user/user!login?{query}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(reply.json()["success"], json!(true), "{}", reply.text());
    // The query string wins over the body, as Struts binds it.
    let reply = app
        .send(
            "struts",
            "POST",
            &format!("/user/user!login?{query}"),
            &[FORM],
            form(&[("userVO.password", "wrong")]).as_bytes(),
        )
        .await;
    assert_eq!(reply.json()["success"], json!(true), "{}", reply.text());
}

#[actix_web::test]
async fn login_refusals() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let wrong = md5_hex("wrong");
    assert_refused(
        &action(
            &app,
            "/user/user!login",
            &[("userVO.userName", PHONE), ("userVO.password", &wrong)],
            None,
        )
        .await,
        "用户名或密码错误",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!login",
            &[
                ("userVO.userName", "13900000000"),
                ("userVO.password", &wrong),
            ],
            None,
        )
        .await,
        "用户名或密码错误",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!login",
            &[("userVO.password", &wrong)],
            None,
        )
        .await,
        "userVO.userName不能为空",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!login",
            &[("userVO.userName", PHONE), ("userVO.password", " ")],
            None,
        )
        .await,
        "userVO.password不能为空",
    );
    // An uppercase md5 is the same password.
    let upper = md5_hex("secret").to_uppercase();
    let reply = action(
        &app,
        "/user/user!login",
        &[("userVO.userName", PHONE), ("userVO.password", &upper)],
        None,
    )
    .await;
    assert_eq!(reply.json()["success"], json!(true));
}

#[actix_web::test]
async fn sessions_are_checked_and_bound_to_their_client() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let (session, _) = login(&app, PHONE, "secret").await;
    let not_logged_in = "用户未登录或登录已过期";
    assert_refused(
        &app.send("struts", "POST", "/user/user!readUser", &[FORM], b"")
            .await,
        not_logged_in,
    );
    let forged = Session {
        token: "0".repeat(64),
        ..session.clone()
    };
    assert_refused(
        &action(&app, "/user/user!readUser", &[], Some(&forged)).await,
        not_logged_in,
    );
    let other_uid = Session {
        uid: "1".into(),
        ..session.clone()
    };
    assert_refused(
        &action(&app, "/user/user!readUser", &[], Some(&other_uid)).await,
        not_logged_in,
    );
    let other_client = [
        FORM,
        ("uid", session.uid.as_str()),
        ("accessToken", session.token.as_str()),
        ("client", "ANOTHERCLIENT"),
    ];
    assert_refused(
        &app.send("struts", "POST", "/user/user!readUser", &other_client, b"")
            .await,
        not_logged_in,
    );
    // Without a client header the session is accepted (lenient), and nothing is echoed.
    let no_client = [
        FORM,
        ("uid", session.uid.as_str()),
        ("accessToken", session.token.as_str()),
    ];
    let reply = app
        .send("struts", "POST", "/user/user!readUser", &no_client, b"")
        .await;
    assert_eq!(reply.json()["success"], json!(true));
    assert_eq!(reply.header("client"), None);
    // Expired.
    app.clock.advance_ms(30 * 86_400_000);
    assert_refused(
        &action(&app, "/user/user!readUser", &[], Some(&session)).await,
        not_logged_in,
    );
}

#[actix_web::test]
async fn update_user_takes_either_prefix_and_keeps_what_was_not_sent() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let (session, _) = login(&app, PHONE, "secret").await;
    let reply = action(
        &app,
        "/user/user!updateUser",
        &[
            ("userVO.userId", &format!(" {}", session.uid)),
            ("userVO.sex", "1"),
            ("userExtendVO.age", "28"),
            ("userExtendVO.phoneNumber", "1362222222"),
            ("userExtendVO.country", "001"),
            ("userExtendVO.province", "44"),
            ("userExtendVO.city", "4103"),
            ("userExtendVO.district", "440304"),
            ("userExtendVO.street", "福华一路10001号"),
            ("userExtendVO.company", "汇梦互联网有限公司"),
            ("userExtendVO.occupation", "互联网/电子商务"),
            ("userExtendVO.role", "高级软件工程师"),
            ("userExtendVO.degrees", "本科"),
            ("userExtendVO.school", "深圳大学"),
            ("userExtendVO.nickName", "彪彪小王子"),
            ("userVO.signature", "这里是个性签名"),
        ],
        Some(&session),
    )
    .await;
    assert_success(&reply, "修改用户信息成功");
    assert_eq!(reply.header("uid"), Some(session.uid.as_str()));
    // Blank is "unchanged".
    let blank = action(
        &app,
        "/user/user!updateUser",
        &[("userExtendVO.nickName", ""), ("userVO.age", "")],
        Some(&session),
    )
    .await;
    assert_success(&blank, "修改用户信息成功");
    let vo = action(&app, "/user/user!readUser", &[], Some(&session))
        .await
        .json()["data"]["userVO"]
        .clone();
    assert_eq!(
        vo,
        json!({
            "userId": session.uid.parse::<i64>().unwrap(), "sex": "1", "age": "28", "phoneNumber": "1362222222",
            "country": "001", "province": "44", "city": "4103", "district": "440304", "street": "福华一路10001号",
            "company": "汇梦互联网有限公司", "occupation": "互联网/电子商务", "role": "高级软件工程师", "degrees": "本科",
            "school": "深圳大学", "nickName": "彪彪小王子", "userPhoto": "", "signature": "这里是个性签名"
        })
    );
    assert_refused(
        &action(
            &app,
            "/user/user!updateUser",
            &[("userVO.sex", "3")],
            Some(&session),
        )
        .await,
        "性别只能是1（男）或2（女）",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!updateUser",
            &[("userExtendVO.age", "二十")],
            Some(&session),
        )
        .await,
        "年龄只能是数字",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!updateUser",
            &[("userVO.userId", "1")],
            Some(&session),
        )
        .await,
        "不能修改其他用户的信息",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!updateUser",
            &[("userExtendVO.nickName", &"长".repeat(65))],
            Some(&session),
        )
        .await,
        "昵称不能超过64个字符",
    );
    assert_refused(
        &action(&app, "/user/user!updateUser", &[], None).await,
        "用户未登录或登录已过期",
    );
}

#[actix_web::test]
async fn read_user_reads_another_user_by_id() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    register(&app, "13800000001", "secret").await;
    let (me, _) = login(&app, PHONE, "secret").await;
    let (other, _) = login(&app, "13800000001", "secret").await;
    let reply = action(
        &app,
        "/user/user!readUser",
        &[("userVO.userId", &other.uid)],
        Some(&me),
    )
    .await;
    assert_eq!(
        reply.json()["data"]["userVO"]["userId"],
        json!(other.uid.parse::<i64>().unwrap())
    );
    let reply = action(
        &app,
        "/user/user!readUser",
        &[("userId", &other.uid)],
        Some(&me),
    )
    .await;
    assert_eq!(
        reply.json()["data"]["userVO"]["phoneNumber"],
        json!("13800000001")
    );
    assert_refused(
        &action(
            &app,
            "/user/user!readUser",
            &[("userId", "999999")],
            Some(&me),
        )
        .await,
        "用户不存在",
    );
    assert_refused(
        &action(&app, "/user/user!readUser", &[("userId", "x")], Some(&me)).await,
        "userVO.userId格式不正确",
    );
    // The session is judged before the parameter, whether the id is well-formed or not.
    for id in ["x", "999999"] {
        assert_refused(
            &action(&app, "/user/user!readUser", &[("userId", id)], None).await,
            "用户未登录或登录已过期",
        );
    }
}

fn multipart(field: &str, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----rosettaBoundary7MA4YWxk";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0u8; 64]);
    bytes
}

async fn upload(
    app: &TestApp,
    session: &Session,
    field: &str,
    filename: &str,
    bytes: &[u8],
) -> Reply {
    let (content_type, body) = multipart(field, filename, bytes);
    let mut headers = session.headers();
    headers[0] = ("Content-Type", content_type.as_str());
    app.send("struts", "POST", "/user/user!uploadPhoto", &headers, &body)
        .await
}

#[actix_web::test]
async fn upload_photo_checks_the_bytes_and_serves_the_photo() {
    let app = TestApp::spawn("[dialects.struts]\npublic_base_url = \"http://website\"\n").await;
    register(&app, PHONE, "secret").await;
    let (session, _) = login(&app, PHONE, "secret").await;
    let reply = upload(&app, &session, "userPhoto", "me.png", &png()).await;
    assert_success(&reply, "上传用户头像成功");
    assert_eq!(reply.header("accesstoken"), Some(session.token.as_str()));
    let vo = action(&app, "/user/user!readUser", &[], Some(&session))
        .await
        .json()["data"]["userVO"]
        .clone();
    let url = format!(
        "http://website/upload/images/userPhoto/{}_avatar.png",
        session.uid
    );
    assert_eq!(vo["userPhoto"], json!(url));
    let served = app
        .send(
            "struts",
            "GET",
            &format!("/upload/images/userPhoto/{}_avatar.png", session.uid),
            &[],
            b"",
        )
        .await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("image/png"));
    assert_eq!(served.body, png());
    let wrong_ext = app
        .send(
            "struts",
            "GET",
            &format!("/upload/images/userPhoto/{}_avatar.jpg", session.uid),
            &[],
            b"",
        )
        .await;
    assert_eq!(wrong_ext.status, 404);
    assert_eq!(
        wrong_ext.json(),
        json!({"success": false, "info": "用户头像不存在"})
    );

    assert_refused(
        &upload(&app, &session, "userPhoto", "me.gif", b"GIF89a......").await,
        "头像只能是jpg、jpeg、bmp、png格式",
    );
    assert_refused(
        &upload(&app, &session, "userPhoto", "me.png", b"not an image").await,
        "头像只能是jpg、jpeg、bmp、png格式",
    );
    assert_refused(
        &upload(&app, &session, "userPhoto", "me.txt", &png()).await,
        "头像只能是jpg、jpeg、bmp、png格式",
    );
    assert_refused(
        &upload(&app, &session, "photo", "me.png", &png()).await,
        "请选择要上传的头像",
    );
    let mut big = png();
    big.resize(3 * 1024 * 1024 + 1, 0);
    assert_refused(
        &upload(&app, &session, "userPhoto", "me.png", &big).await,
        "头像不能大于3M",
    );
    let broken = app
        .send(
            "struts",
            "POST",
            "/user/user!uploadPhoto",
            &[
                ("Content-Type", "multipart/form-data; boundary=x"),
                ("uid", session.uid.as_str()),
                ("accessToken", session.token.as_str()),
            ],
            b"--x\r\nbroken",
        )
        .await;
    assert_refused(&broken, "请求参数格式不正确");
    // Found by the multipart fuzz target: boundaries of fewer than 4 characters made the parser
    // panic on short body lines (the connection dropped without an answer); they are refused,
    // as is every boundary RFC 2046 does not allow.
    for (content_type, body) in [
        ("multipart/form-data; boundary=", &b"\n"[..]),
        ("multipart/form-data; boundary=\"\"", b"\n"),
        ("multipart/form-data", b"\n"),
        ("multipart/form-data; boundary=a{b}", b"\n"),
        ("multipart/form-data; boundary=z", b"\n"),
        ("multipart/form-data; boundary=zz", b"--"),
        ("multipart/form-data; boundary=zzz", b"--\n"),
    ] {
        let refused = app
            .send(
                "struts",
                "POST",
                "/user/user!uploadPhoto",
                &[
                    ("Content-Type", content_type),
                    ("uid", session.uid.as_str()),
                    ("accessToken", session.token.as_str()),
                ],
                body,
            )
            .await;
        assert_refused(&refused, "请求参数格式不正确");
    }
    assert_refused(
        &upload(
            &app,
            &Session {
                token: "x".into(),
                ..session.clone()
            },
            "userPhoto",
            "me.png",
            &png(),
        )
        .await,
        "用户未登录或登录已过期",
    );
}

#[actix_web::test]
async fn update_password_ends_every_session_of_the_user() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let (session, _) = login(&app, PHONE, "secret").await;
    let (other, _) = login(&app, PHONE, "secret").await;
    let (old, new) = (md5_hex("secret"), md5_hex("newer"));
    assert_refused(
        &action(
            &app,
            "/user/user!updatePassword",
            &[
                ("oldPassword", &md5_hex("wrong")),
                ("userVO.password", &new),
            ],
            Some(&session),
        )
        .await,
        "原密码错误",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!updatePassword",
            &[("oldPassword", &old)],
            Some(&session),
        )
        .await,
        "userVO.password不能为空",
    );
    assert_success(
        &action(
            &app,
            "/user/user!updatePassword",
            &[("oldPassword", &old), ("userVO.password", &new)],
            Some(&session),
        )
        .await,
        "用户密码修改成功",
    );
    for s in [&session, &other] {
        assert_refused(
            &action(&app, "/user/user!readUser", &[], Some(s)).await,
            "用户未登录或登录已过期",
        );
    }
    login(&app, PHONE, "newer").await;
}

#[actix_web::test]
async fn codes_for_register_and_reset_refuse_the_wrong_phones() {
    let app = TestApp::spawn("").await;
    assert_refused(
        &action(
            &app,
            "/user/user!sendValidateCodeByRetreve",
            &[("userVO.userMobile", PHONE)],
            None,
        )
        .await,
        "该手机号未注册",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!sendRegisterCode",
            &[("userVO.userMobile", "12345")],
            None,
        )
        .await,
        "手机号格式不正确",
    );
    assert_refused(
        &action(&app, "/user/user!sendRegisterCode", &[], None).await,
        "userVO.userMobile不能为空",
    );
    // The document's sample carries a leading space.
    let sent = action(
        &app,
        "/user/user!sendRegisterCode",
        &[("userVO.userMobile", " 13800000000")],
        None,
    )
    .await;
    assert_success(&sent, "验证码已发送到手机");
    let code = newest_code(&app, PHONE).await;
    assert_eq!(code.len(), 6);
    let md5 = md5_hex("secret");
    assert_refused(
        &action(
            &app,
            "/user/user!register",
            &[
                ("userVO.userMobile", PHONE),
                ("userVO.password", &md5),
                ("telSecurityCode", "000000x"),
            ],
            None,
        )
        .await,
        "验证码错误",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!register",
            &[("userVO.userMobile", PHONE), ("userVO.password", &md5)],
            None,
        )
        .await,
        "telSecurityCode不能为空",
    );
    assert_success(
        &action(
            &app,
            "/user/user!register",
            &[
                ("userVO.userMobile", PHONE),
                ("userVO.password", &md5),
                ("telSecurityCode", &code),
            ],
            None,
        )
        .await,
        "用户注册成功",
    );
    // Used up, and the phone is taken.
    assert_refused(
        &action(
            &app,
            "/user/user!register",
            &[
                ("userVO.userMobile", PHONE),
                ("userVO.password", &md5),
                ("telSecurityCode", &code),
            ],
            None,
        )
        .await,
        "该手机号已注册",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!sendRegisterCode",
            &[("userVO.userMobile", PHONE)],
            None,
        )
        .await,
        "该手机号已注册",
    );
    assert_refused(
        &action(
            &app,
            "/user/user!register",
            &[
                ("userVO.userMobile", "13800000001"),
                ("userVO.password", &md5),
                ("telSecurityCode", "123456"),
            ],
            None,
        )
        .await,
        "请先获取验证码",
    );

    // Reset: a code for the registered phone; it expires after 5 minutes.
    let (session, _) = login(&app, PHONE, "secret").await;
    assert_success(
        &action(
            &app,
            "/user/user!sendValidateCodeByRetreve",
            &[("userVO.userMobile", PHONE)],
            None,
        )
        .await,
        "重置密码的验证码已发送到指定手机",
    );
    let first = newest_code(&app, PHONE).await;
    app.clock.advance_ms(300_001);
    let new = md5_hex("reset");
    assert_refused(
        &action(
            &app,
            "/user/user!noLoginUpdatePassword",
            &[
                ("userVO.userMobile", PHONE),
                ("userVO.password", &new),
                ("validateCode", &first),
            ],
            None,
        )
        .await,
        "验证码已过期，请重新获取",
    );
    action(
        &app,
        "/user/user!sendValidateCodeByRetreve",
        &[("userVO.userMobile", PHONE)],
        None,
    )
    .await;
    let code = newest_code(&app, PHONE).await;
    assert_success(
        &action(
            &app,
            "/user/user!noLoginUpdatePassword",
            &[
                ("userVO.userMobile", PHONE),
                ("userVO.password", &new),
                ("validateCode", &code),
            ],
            None,
        )
        .await,
        "重置密码成功",
    );
    assert_refused(
        &action(&app, "/user/user!readUser", &[], Some(&session)).await,
        "用户未登录或登录已过期",
    );
    login(&app, PHONE, "reset").await;
}

#[actix_web::test]
async fn sending_codes_too_often_is_refused() {
    let app = TestApp::spawn("").await;
    action(
        &app,
        "/user/user!sendRegisterCode",
        &[("userVO.userMobile", PHONE)],
        None,
    )
    .await;
    assert_refused(
        &action(
            &app,
            "/user/user!sendRegisterCode",
            &[("userVO.userMobile", PHONE)],
            None,
        )
        .await,
        "验证码发送过于频繁，请稍后再试",
    );
}

#[actix_web::test]
async fn sign_out_ends_the_token() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let (session, _) = login(&app, PHONE, "secret").await;
    let reply = action(&app, "/user/user!signOut", &[], Some(&session)).await;
    assert_success(&reply, "用户注销成功");
    assert_refused(
        &action(&app, "/user/user!signOut", &[], Some(&session)).await,
        "用户未登录或登录已过期",
    );
}

#[actix_web::test]
async fn group_settings_for_oneself_and_by_managers() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    register(&app, "13800000001", "secret").await;
    register(&app, "13800000002", "secret").await;
    let (owner, _) = login(&app, PHONE, "secret").await;
    let (member, _) = login(&app, "13800000001", "secret").await;
    let (stranger, _) = login(&app, "13800000002", "secret").await;
    let group = app
        .admin(
            "POST",
            "/admin/groups",
            json!({"name": "Team", "creator_id": owner.uid.parse::<i64>().unwrap()}),
        )
        .await;
    let group_id = group.json()["id"].as_i64().unwrap().to_string();
    app.admin(
        "POST",
        &format!("/admin/groups/{group_id}/members"),
        json!({"user_id": member.uid.parse::<i64>().unwrap()}),
    )
    .await;

    let reply = action(
        &app,
        "/chat/group!setingGroup",
        &[
            ("groupId", &group_id),
            ("messageRemainMode", "2"),
            ("showName", "彪彪小王子"),
        ],
        Some(&member),
    )
    .await;
    assert_success(&reply, "群设置成功");
    assert_eq!(reply.header("uid"), Some(member.uid.as_str()));
    let members = app
        .service()
        .group_members(group_id.parse().unwrap())
        .await
        .unwrap();
    let me = members
        .iter()
        .find(|m| m.user_id.to_string() == member.uid)
        .unwrap();
    assert_eq!(me.display_name, "彪彪小王子");
    assert_eq!(me.notify_mode, rosetta::domain::social::NotifyMode::Silent);
    // Empty is "not set".
    assert_success(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[
                ("groupId", &group_id),
                ("messageRemainMode", ""),
                ("showName", ""),
            ],
            Some(&member),
        )
        .await,
        "群设置成功",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[("groupId", &group_id), ("messageRemainMode", "3")],
            Some(&member),
        )
        .await,
        "消息提醒方式只能是1或2",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[("groupId", &group_id), ("showName", "x")],
            Some(&stranger),
        )
        .await,
        "您不是该群成员",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[("groupId", "999999"), ("showName", "x")],
            Some(&member),
        )
        .await,
        "群不存在",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[("groupId", "abc")],
            Some(&member),
        )
        .await,
        "groupId格式不正确",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[("showName", "x")],
            Some(&member),
        )
        .await,
        "groupId不能为空",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[("groupId", " "), ("showName", "x")],
            Some(&member),
        )
        .await,
        "groupId不能为空",
    );
    // The creator renames a member; a member cannot rename the creator; nobody sets another's mode.
    assert_success(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[
                ("groupId", &group_id),
                ("showName", "小王"),
                ("userId", &member.uid),
            ],
            Some(&owner),
        )
        .await,
        "群设置成功",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[
                ("groupId", &group_id),
                ("showName", "x"),
                ("userId", &owner.uid),
            ],
            Some(&member),
        )
        .await,
        "没有权限进行此操作",
    );
    assert_refused(
        &action(
            &app,
            "/chat/group!setingGroup",
            &[
                ("groupId", &group_id),
                ("messageRemainMode", "1"),
                ("userId", &member.uid),
            ],
            Some(&owner),
        )
        .await,
        "没有权限进行此操作",
    );
}

#[actix_web::test]
async fn bad_input_answers_in_the_envelope() {
    let app = TestApp::spawn("").await;
    let unknown = app
        .send("struts", "POST", "/user/user!nothing", &[FORM], b"")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.header("content-type"), Some(CT));
    assert_eq!(
        unknown.json(),
        json!({"success": false, "info": "请求的操作不存在"})
    );
    let wrong_method = app
        .send("struts", "PUT", "/user/user!login", &[FORM], b"")
        .await;
    assert_refused(&wrong_method, "请求方式不正确");
    let get_upload = app
        .send("struts", "GET", "/user/user!uploadPhoto", &[], b"")
        .await;
    assert_refused(&get_upload, "请求方式不正确");
    let huge = vec![b'a'; 100 * 1024];
    assert_refused(
        &app.send("struts", "POST", "/user/user!login", &[FORM], &huge)
            .await,
        "请求内容过大",
    );
    let malformed = app
        .send(
            "struts",
            "POST",
            "/user/user!login",
            &[("Content-Type", "application/json")],
            b"{\"userVO",
        )
        .await;
    assert_refused(&malformed, "请求参数格式不正确");
    let multipart = app
        .send(
            "struts",
            "POST",
            "/user/user!login",
            &[("Content-Type", "multipart/form-data; boundary=x")],
            b"--x--",
        )
        .await;
    assert_refused(&multipart, "请求参数格式不正确");
    let invalid_utf8 = app
        .send(
            "struts",
            "POST",
            "/user/user!login",
            &[FORM],
            b"userVO.userName=%FF%FE",
        )
        .await;
    assert_eq!(invalid_utf8.json()["success"], json!(false));
}

#[actix_web::test]
async fn a_ban_ends_the_sessions_and_refuses_login() {
    let app = TestApp::spawn("").await;
    register(&app, PHONE, "secret").await;
    let (session, _) = login(&app, PHONE, "secret").await;
    let banned = app
        .admin(
            "POST",
            &format!("/admin/users/{}/ban", session.uid),
            json!({}),
        )
        .await;
    assert!(banned.status < 300, "{}", banned.text());
    assert_refused(
        &action(&app, "/user/user!readUser", &[], Some(&session)).await,
        "用户未登录或登录已过期",
    );
    let md5 = md5_hex("secret");
    assert_refused(
        &action(
            &app,
            "/user/user!login",
            &[("userVO.userName", PHONE), ("userVO.password", &md5)],
            None,
        )
        .await,
        "该账号已被禁用",
    );
}
