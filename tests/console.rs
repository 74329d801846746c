//! The ops console in a real browser: Debian's headless Chromium, driven through ChromeDriver
//! (the WebDriver protocol), checking what a person sees and can do. It needs
//! `/usr/bin/chromium` and `/usr/bin/chromedriver`, which `.ci/run` installs before it runs
//! this test with `cargo test --test console -- --ignored` on both backends.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{ADMIN_TOKEN, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// One headless Chromium session.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    client: awc::Client,
}

impl Browser {
    async fn start() -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: apt-get install chromium chromium-driver (.ci/run does)"
            );
        }
        let port = support::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let started = Instant::now();
        loop {
            if let Ok(mut answer) = client.get(format!("{base}/status")).send().await
                && let Ok(status) = answer.json::<Value>().await
                && status["value"]["ready"] == true
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            client,
        };
        let created = browser
            .call(
                "POST",
                "/session",
                json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1280,2000"]
                }}}}),
            )
            .await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let request = self
            .client
            .request(method.parse().unwrap(), url)
            .insert_header(("Content-Type", "application/json"));
        let mut answer = if method == "GET" || method == "DELETE" {
            request.send().await
        } else {
            request.send_body(body.to_string()).await
        }
        .expect("chromedriver answers");
        let value: Value = answer.json().limit(16 * 1024 * 1024).await.expect("JSON");
        value["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// The text a person sees in the element `css` selects (`null` when there is none).
    async fn text(&self, css: &str) -> Value {
        self.script(&format!(
            "const e = document.querySelector({}); return e ? e.innerText : null;",
            json!(css)
        ))
        .await
    }

    /// Waits up to 15 s until the text of `css` contains `wanted`.
    async fn wait_for_text(&self, css: &str, wanted: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text(css).await;
            if let Some(text) = text.as_str()
                && text.contains(wanted)
            {
                return text.to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{css} never showed {wanted:?}; it shows {text}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call("POST", &format!("/element/{id}/clear"), json!({}))
            .await;
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        let clicked = self
            .call("POST", &format!("/element/{id}/click"), json!({}))
            .await;
        assert!(clicked.is_null(), "clicking {css}: {clicked}");
    }

    async fn visible(&self, css: &str) -> bool {
        self.script(&format!(
            "const e = document.querySelector({}); return !!e && e.offsetParent !== null;",
            json!(css)
        ))
        .await
            == true
    }

    async fn quit(self) {
        self.call("DELETE", "", json!({})).await;
        // Drop stops the driver.
    }
}

/// Ends the browser even when the test failed half-way: a DELETE of the session (which closes
/// Chromium), then the driver.
impl Drop for Browser {
    fn drop(&mut self) {
        use std::io::{Read, Write};
        if !self.session.is_empty()
            && let Some(address) = self.base.strip_prefix("http://")
            && let Ok(mut stream) = std::net::TcpStream::connect(address)
        {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                stream,
                "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
                self.session
            );
            let _ = stream.read_to_end(&mut Vec::new());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[actix_web::test]
#[ignore = "needs Debian's chromium and chromium-driver: .ci/run installs them and runs it"]
async fn the_console_shows_traffic_shadow_differences_the_outbox_and_a_user() {
    let legacy = TestApp::spawn("[dialects.error_code]\nsuccess_message = \"请求成功\"\n").await;
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        rules.path(),
        "[[rule]]\nname = \"retired banner\"\nheader = \"x-powered-by\"\nignore = true\n",
    )
    .unwrap();
    let gateway = TestApp::spawn(&format!(
        "[dialects.error_code]\nmode = \"shadow\"\nlegacy_url = \"{}\"\n[legacy]\naccept = \"{}\"\n",
        legacy.url("error_code", ""),
        rules.path().display()
    ))
    .await;
    // One account on both sides; a read of it differs in the success message.
    let mut id = 0;
    for app in [&legacy, &gateway] {
        id = app.create_user("13800000001", "secret1", "张三").await;
    }
    gateway
        .send("error_code", "GET", &format!("/api/user/{id}"), &[], b"")
        .await;
    // Traffic from an Android app, a code sent, a session opened in code_result.
    for _ in 0..3 {
        gateway
            .send(
                "struts",
                "POST",
                "/user/user!readUser.action",
                &[("client", "Android")],
                b"",
            )
            .await;
    }
    let json_body = [("Content-Type", "application/json")];
    gateway
        .send(
            "code_result",
            "POST",
            "/user/send_code",
            &json_body,
            br#"{"region":"86","phone":"13912345678"}"#,
        )
        .await;
    let login = gateway
        .send(
            "code_result",
            "POST",
            "/user/login",
            &json_body,
            br#"{"region":"86","phone":"13800000001","password":"secret1"}"#,
        )
        .await;
    assert_eq!(login.json()["code"], 200, "{}", login.text());

    let browser = Browser::start().await;
    browser.goto(&gateway.url("ops", "/console")).await;
    assert!(
        browser.visible("#sign-in-panel").await,
        "asked for the token first"
    );
    assert!(!browser.visible("#console").await);

    browser.type_into("#token", "not-the-token").await;
    browser.click("#sign-in button").await;
    browser
        .wait_for_text("#sign-in-error", "missing or wrong admin token")
        .await;

    browser.type_into("#token", ADMIN_TOKEN).await;
    browser.click("#sign-in button").await;
    browser.wait_for_text("#status", "signed in").await;
    assert!(browser.visible("#console").await);

    // Traffic per dialect and client, drawn.
    browser
        .wait_for_text("#traffic-legend", "struts · android (3)")
        .await;
    let lines = browser
        .script("return document.querySelectorAll('#traffic polyline').length;")
        .await;
    assert!(
        lines.as_u64().unwrap() >= 3,
        "a line per dialect and client: {lines}"
    );

    // The dialects' modes.
    let modes = browser
        .wait_for_text("#modes tr[data-dialect=error_code]", "shadow")
        .await;
    assert!(modes.contains(&legacy.url("error_code", "")), "{modes}");

    // The shadow difference, then side by side.
    browser
        .wait_for_text("#shadow-endpoints", "/api/user/{id}")
        .await;
    let counts = browser.text("#shadow-endpoints tbody tr").await;
    assert_eq!(
        counts.as_str().unwrap().split('\t').collect::<Vec<_>>(),
        ["error_code", "/api/user/{id}", "0", "0", "1", "0", "0"],
        "{counts}"
    );
    browser
        .click("#shadow-differences tbody tr.clickable")
        .await;
    let listed = browser
        .wait_for_text("#difference-list", "/body/error_msg")
        .await;
    assert!(
        listed.contains("\"请求成功\"") && listed.contains("\"success\""),
        "{listed}"
    );
    browser
        .wait_for_text("#difference-legacy", "请求成功")
        .await;
    let ours = browser.text("#difference-rosetta").await;
    assert!(
        ours.as_str()
            .unwrap()
            .contains("\"error_msg\": \"success\""),
        "{ours}"
    );

    // The SMS outbox.
    browser.wait_for_text("#outbox", "13912345678").await;
    // Its provider and outcome.
    browser.wait_for_text("#outbox tbody", "log").await;
    browser.wait_for_text("#outbox tbody", "sent").await;

    // A user by phone: sessions per dialect, then banned and unbanned.
    browser.type_into("#lookup-query", "13800000001").await;
    browser.click("#lookup button").await;
    browser.wait_for_text("#user-nickname", "张三").await;
    browser.wait_for_text("#sessions", "code_result").await;
    assert_eq!(browser.text("#user-state").await, "active");
    browser.click("#ban").await;
    browser.wait_for_text("#user-state", "banned").await;
    let profile = gateway.service().profile(id).await.unwrap();
    assert!(profile.banned, "the ban is real");
    browser.wait_for_text("#ban", "Unban").await;
    browser.click("#ban").await;
    browser.wait_for_text("#user-state", "active").await;
    assert!(!gateway.service().profile(id).await.unwrap().banned);
    browser.type_into("#lookup-query", "13899999999").await;
    browser.click("#lookup button").await;
    browser
        .wait_for_text("#lookup-error", "no account has +86 13899999999")
        .await;

    // The cutover switch.
    browser
        .click("#modes tr[data-dialect=error_code] button.switch-serve")
        .await;
    browser
        .wait_for_text("#modes tr[data-dialect=error_code] td.mode", "serve")
        .await;
    let modes = gateway
        .admin("GET", "/admin/dialects", json!({}))
        .await
        .json();
    assert!(
        modes["dialects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == "error_code" && d["mode"] == "serve"),
        "{modes}"
    );

    // What the operator saw, kept for a person to look at (target/console.png).
    let shot = browser.call("GET", "/screenshot", json!({})).await;
    if let Some(png) = shot.as_str() {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png)
            .unwrap();
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console.png"),
            bytes,
        );
    }

    // Signing out forgets the token.
    browser.click("#sign-out").await;
    assert!(browser.visible("#sign-in-panel").await);
    let stored = browser
        .script("return sessionStorage.getItem('rosetta-admin-token');")
        .await;
    assert!(stored.is_null(), "{stored}");
    browser.quit().await;
}
