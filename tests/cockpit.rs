//! The migration cockpit: traffic per dialect and client app, and `rosetta traffic`.

mod support;

use std::process::Command;

use support::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_rosetta");

/// A line of `rosetta_requests_total` with its labels in the order the gateway writes them.
fn requests_line(dialect: &str, endpoint: &str, outcome: &str, client: &str) -> String {
    format!(
        r#"rosetta_requests_total{{dialect="{dialect}",endpoint="{endpoint}",outcome="{outcome}",client="{client}"}}"#
    )
}

#[actix_web::test]
async fn requests_are_counted_per_client_app_with_a_bounded_label_set() {
    let app = TestApp::spawn("[ops]\nclient_labels = 2\n").await;
    let sms =
        |phone: &str, xid: &str| format!("phone={phone}&xid={xid}&utime=1&sec=1").into_bytes();
    // struts names its client in the `client` header; code_sec in the prefix of `xid`; the
    // others by the User-Agent's first product.
    for (client, user_agent) in [("Android", "okhttp/4.9"), ("iOS 12", "okhttp/4.9")] {
        app.send(
            "struts",
            "POST",
            "/user/user!readUser.action",
            &[("client", client), ("User-Agent", user_agent)],
            b"",
        )
        .await;
    }
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    for xid in [
        "ios-5b0e7c",
        "android-77aa01",
        "android-9f00c2",
        "harmony-1",
    ] {
        app.send(
            "code_sec",
            "POST",
            "/user/sms",
            &form,
            &sms("13390633695", xid),
        )
        .await;
    }
    for user_agent in [
        "okhttp/4.9.0",
        "Dalvik/2.1.0 (Linux; U; Android 9)",
        "curl/8.0",
        "Wget",
    ] {
        app.send(
            "rest",
            "GET",
            "/users/1",
            &[("User-Agent", user_agent)],
            b"",
        )
        .await;
    }
    let text = app.send("ops", "GET", "/metrics", &[], b"").await.text();
    for (line, count) in [
        (
            requests_line(
                "struts",
                "/user/user{bang}readUser{suffix}",
                "auth_error",
                "android",
            ),
            1,
        ),
        (
            requests_line(
                "struts",
                "/user/user{bang}readUser{suffix}",
                "auth_error",
                "ios",
            ),
            1,
        ),
        (
            requests_line("code_sec", "/user/sms", "client_error", "ios"),
            1,
        ),
        (
            requests_line("code_sec", "/user/sms", "client_error", "android"),
            2,
        ),
        (
            requests_line("code_sec", "/user/sms", "client_error", "other"),
            1,
        ),
        (
            requests_line("rest", "/users/{userId}", "client_error", "okhttp"),
            1,
        ),
        (
            requests_line("rest", "/users/{userId}", "client_error", "dalvik"),
            1,
        ),
        (
            requests_line("rest", "/users/{userId}", "client_error", "other"),
            2,
        ),
    ] {
        assert!(
            text.contains(&format!("{line} {count}\n")),
            "missing {line} {count} in\n{text}"
        );
    }
    assert!(!text.contains("harmony"), "beyond the bound: {text}");

    let ops_url = app.url("ops", "");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["traffic", "--ops-url", &ops_url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8(output.stdout).unwrap();
    let row = |dialect: &str, client: &str| {
        table
            .lines()
            .find(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.first() == Some(&dialect) && l.contains(client)
            })
            .unwrap_or_else(|| panic!("no {dialect} {client} row in\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<String>>()
    };
    assert_eq!(
        row("code_sec", "android")[1..],
        ["android", "2", "50.0%", "0", "2", "0"],
        "{table}"
    );
    assert_eq!(row("code_sec", "(all clients)")[3], "4", "{table}");
    assert_eq!(row("rest", "other")[1..3], ["other", "2"], "{table}");

    let unreachable = Command::new(BIN)
        .args(["traffic", "--ops-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unreachable.stderr).contains("is the gateway running?"),
        "{unreachable:?}"
    );
}
