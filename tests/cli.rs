//! The `rosetta` command as an operator uses it: start-up refusals that name the key,
//! `migrate`, and `serve` stopping gracefully on SIGTERM with an in-flight request answered.

mod support;
#[path = "support/tls_relay.rs"]
mod tls_relay;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_rosetta");

fn write_config(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("rosetta.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn start_up_refuses_unknown_keys_and_bad_values_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[database]\nurll = \"sqlite://x.db\"\n", "urll"),
        ("[security]\nbcrypt_cost = 5\n", "security.bcrypt_cost"),
        ("[database]\nurl = \"mysql://h/db\"\n", "database.url"),
    ];
    for (text, expected) in cases {
        let config = write_config(dir.path(), text);
        let output = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{text}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{text}: {stderr}");
        // Said once, with the file it comes from.
        assert_eq!(stderr.matches(expected).count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("rosetta: {}: ", config.display())),
            "{stderr}"
        );
    }
    let empty = tempfile::tempdir().unwrap();
    for (variable, value, expected) in [
        (
            "ROSETTA__DIALECTS__ERROR_CODE__LISTEN",
            "not-an-address",
            "dialects.error_code.listen",
        ),
        (
            "ROSETTA__DATABSE__URL",
            "sqlite://x.db",
            "unknown field `databse`",
        ),
    ] {
        let output = Command::new(BIN)
            .arg("serve")
            .current_dir(empty.path())
            .env(variable, value)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.starts_with(&format!("rosetta: environment variable {variable}: ")),
            "{stderr}"
        );
        assert_eq!(stderr.matches(expected).count(), 1, "{stderr}");
    }
    let output = Command::new(BIN)
        .args(["serve", "--config", "/nonexistent/rosetta.toml"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/rosetta.toml"));
}

#[test]
fn migrate_applies_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let output = Command::new(BIN)
            .arg("migrate")
            .current_dir(dir.path())
            .env("ROSETTA__DATABASE__URL", "sqlite://m.db")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(run().contains("applied 20261121000000"));
    assert!(run().contains("database is up to date"));
}

fn http(port: u16, request: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

fn post(port: u16, path: &str, body: &str) -> std::io::Result<String> {
    http(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Starts `rosetta serve` in `dir` and waits until its ops listener answers.
fn start(dir: &std::path::Path, dialect: u16, ops: u16, bcrypt_cost: u32) -> std::process::Child {
    start_with(dir, dialect, ops, bcrypt_cost, &[])
}

fn start_with(
    dir: &std::path::Path,
    dialect: u16,
    ops: u16,
    bcrypt_cost: u32,
    env: &[(&str, &str)],
) -> std::process::Child {
    // Every other dialect on a free port, so parallel gateways do not meet on default ports.
    let others = support::other_dialects_on_port_zero("error_code");
    let mut child = Command::new(BIN)
        .env("RUST_LOG", "warn")
        .envs(others.iter().map(|(k, v)| (k.as_str(), *v)))
        .envs(env.iter().copied())
        .arg("serve")
        .current_dir(dir)
        .env(
            "ROSETTA__DIALECTS__ERROR_CODE__LISTEN",
            format!("127.0.0.1:{dialect}"),
        )
        .env("ROSETTA__OPS__LISTEN", format!("127.0.0.1:{ops}"))
        .env("ROSETTA__SECURITY__BCRYPT_COST", bcrypt_cost.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while http(
        ops,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .is_err()
    {
        // A gateway that exited (a port taken meanwhile, a bad setting) says why at once.
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("gateway exited at start ({status}): {stderr}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "gateway did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[test]
fn serve_finishes_in_flight_requests_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (dialect, ops) = (free_port(), free_port());
    // A slow hash keeps the login in flight when the signal arrives.
    let mut child = start(dir.path(), dialect, ops, 12);
    assert!(
        dir.path().join("rosetta.db").exists(),
        "the embedded SQLite file is in the working directory"
    );
    // On a loaded machine the hashing threads (which only take idle CPU) may miss their deadline
    // and answer "busy"; that is the gateway working as designed, so the sign-up is asked again.
    let busy = "Server is busy";
    let mut registered = String::new();
    for _ in 0..10 {
        registered = post(
            dialect,
            "/api/user/register",
            r#"{"username":"u","password":"p","name":"n"}"#,
        )
        .unwrap();
        if !registered.contains(busy) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        registered.ends_with(r#"{"error_code":0,"error_msg":"success"}"#),
        "{registered}"
    );

    let in_flight = std::thread::spawn(move || {
        post(
            dialect,
            "/api/user/login",
            r#"{"username":"u","password":"p"}"#,
        )
    });
    // The signal is sent once the gateway says the login is in flight, not after a guess.
    let started = Instant::now();
    loop {
        let metrics = http(
            ops,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        if metrics.contains("rosetta_requests_in_flight{dialect=\"error_code\"} 1") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the login never showed as in flight"
        );
        std::thread::yield_now();
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let answer = in_flight.join().unwrap().unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200")
            && (answer.contains(r#""token_id""#) || answer.contains(busy)),
        "the in-flight login was answered: {answer}"
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Nothing acknowledged is lost: the account is there after a restart.
    let mut again = start(dir.path(), dialect, ops, 10);
    let answer = post(
        dialect,
        "/api/user/login",
        r#"{"username":"u","password":"p"}"#,
    )
    .unwrap();
    assert!(answer.contains(r#""userid":"100000""#), "{answer}");
    Command::new("kill")
        .args(["-TERM", &again.id().to_string()])
        .status()
        .unwrap();
    assert!(again.wait().unwrap().success());
}

/// Clients must not control ERROR-level logs: requests the HTTP layer refuses as malformed are
/// counted in `/metrics` and summarised in one INFO line a minute, never logged each at ERROR.
#[test]
fn malformed_http_is_counted_and_summarised_not_logged_as_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (dialect, ops) = (free_port(), free_port());
    let mut child = start_with(dir.path(), dialect, ops, 10, &[("RUST_LOG", "info")]);
    let garbage = [
        "GARBAGE\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "GET /\u{1}\u{2} HTTP/1.1\r\n\r\n",
    ];
    for n in 0..40 {
        let answer = http(dialect, garbage[n % garbage.len()]).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
    let metrics = http(
        ops,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert!(
        metrics.contains("rosetta_http_client_errors_total 40"),
        "{metrics}"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mut log = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(!log.contains("ERROR"), "{log}");
    let summaries = log
        .lines()
        .filter(|l| l.contains("HTTP-level client errors"))
        .count();
    assert_eq!(summaries, 1, "{log}");
}

/// The error_code golden transcripts that need no settings of their own.
fn transcripts() -> Vec<std::path::PathBuf> {
    error_code_transcripts(false)
}

/// The error_code golden transcripts with (`true`) or without their own `settings`.
fn error_code_transcripts(with_settings: bool) -> Vec<std::path::PathBuf> {
    let folder =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialects/error_code/transcripts");
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            json.get("settings").is_some() == with_settings
        })
        .collect();
    files.sort();
    files
}

fn assert_valid_junit(path: &std::path::Path) -> usize {
    let xml = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut cases = 0;
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == b"testcase" =>
            {
                cases += 1
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    cases
}

#[test]
fn replay_passes_in_process_with_junit_and_fails_with_the_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let output = Command::new(BIN)
        .arg("replay")
        .args(transcripts())
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let closing = stdout.lines().last().unwrap();
    assert!(closing.ends_with("passed, 0 failed"), "{closing}");
    let passed: usize = closing.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(assert_valid_junit(&junit), passed);

    // Every answer is also one its dialect's OpenAPI document allows.
    let checked = Command::new(BIN)
        .arg("replay")
        .args(transcripts())
        .arg("--check-schema")
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );

    // A deliberately altered expected value: exit 1, the pointer with expected and actual.
    let mut altered: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            transcripts()
                .iter()
                .find(|p| p.ends_with("push.json"))
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let exchange = altered["exchanges"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["name"] == "pushable is now 0")
        .unwrap();
    exchange["response"]["json"]["data"]["pushable"] = serde_json::json!(0);
    let file = dir.path().join("altered.json");
    std::fs::write(&file, altered.to_string()).unwrap();
    let output = Command::new(BIN)
        .args(["replay"])
        .arg(&file)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(r#"/body/data/pushable: expected 0, actual "0""#),
        "{stdout}"
    );
    assert!(
        stdout.lines().last().unwrap().contains("1 failed"),
        "{stdout}"
    );
    assert!(assert_valid_junit(&junit) > 0);
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<failure")
    );
}

#[test]
fn replay_refuses_unusable_input_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("broken.json", "{", "not JSON"),
        (
            "typo.json",
            r#"{"version":1,"dialect":"error_code","exchanges":[{"name":"x","request":{"method":"GET","path":"/","bdoy":1},"response":{"status":200}}]}"#,
            "exchange 1 (x)",
        ),
        (
            "dialect.json",
            r#"{"version":1,"dialect":"klingon","exchanges":[{"name":"x","request":{"method":"GET","path":"/"},"response":{"status":200}}]}"#,
            "klingon",
        ),
        ("capture.har", r#"{"log":{"entries":[]}}"#, "--dialect"),
    ];
    for (name, text, expected) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let output = Command::new(BIN).arg("replay").arg(&file).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(name) && stderr.contains(expected),
            "{name}: {stderr}"
        );
    }
    let output = Command::new(BIN)
        .args(["replay", "/nonexistent.json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));

    // A target without its scheme, or with nothing listening, is the operator's input too.
    let transcript = transcripts().into_iter().next().unwrap();
    let nobody = format!("http://127.0.0.1:{}", free_port());
    for (target, expected) in [
        ("127.0.0.1:8085", "must be a URL like http://127.0.0.1:8085"),
        (nobody.as_str(), "nothing answers there"),
    ] {
        let output = Command::new(BIN)
            .arg("replay")
            .arg(&transcript)
            .args(["--target", target])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{target}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("--target {target}: {expected}")),
            "{stderr}"
        );
    }
}

#[test]
fn replay_converts_a_har_file() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("capture.har");
    std::fs::write(
        &har,
        r#"{"log":{"version":"1.2","entries":[
          {"request":{"method":"GET","url":"http://gw:8085/blueu/api/user/99","headers":[]},
           "response":{"status":200,"headers":[{"name":"Content-Type","value":"application/json;charset=utf-8;"}],
             "content":{"size":59,"text":"{\"error_code\":1,\"error_msg\":\"请求失败，User is no exist\"}"}}},
          {"request":{"method":"GET","url":"http://other/x","headers":[]},"response":{"status":200,"headers":[],"content":{"size":0}}}]}}"#,
    )
    .unwrap();
    let out = dir.path().join("out.json");
    let filter = [
        "--dialect",
        "error_code",
        "--host",
        "gw",
        "--prefix",
        "/blueu",
    ];
    let run = |args: &[&std::ffi::OsStr]| {
        let output = Command::new(BIN).arg("replay").args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let mut convert: Vec<&std::ffi::OsStr> = vec![
        "--convert".as_ref(),
        har.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    convert.extend(filter.iter().map(std::ffi::OsStr::new));
    assert!(run(&convert).contains("1 exchanges"));
    run(&[out.as_os_str()]);
    // Direct replay of the HAR with the same filter.
    let mut direct: Vec<&std::ffi::OsStr> = vec![har.as_os_str()];
    direct.extend(filter.iter().map(std::ffi::OsStr::new));
    run(&direct);
    let output = Command::new(BIN)
        .args(["replay", "--convert"])
        .arg(&har)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "--convert needs -o and --dialect"
    );
}

/// Replays `files` against a fresh `rosetta serve` run with `env`; returns the replayer's
/// output once the gateway has been stopped.
fn replay_against_serve(
    files: &[std::path::PathBuf],
    env: &[(&str, &str)],
) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let (dialect, ops) = (free_port(), free_port());
    let mut child = start_with(dir.path(), dialect, ops, 10, env);
    let output = Command::new(BIN)
        .arg("replay")
        .args(files)
        .args(["--target", &format!("http://127.0.0.1:{dialect}")])
        .output()
        .unwrap();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
    output
}

#[test]
fn replay_passes_against_a_running_gateway() {
    let output = replay_against_serve(&transcripts(), &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.lines().last().unwrap().ends_with("passed, 0 failed"));

    // Transcripts with settings of their own pass against a gateway run with them, and the
    // replayer says which settings the target needs.
    let with_settings = error_code_transcripts(true);
    assert!(!with_settings.is_empty());
    let output = replay_against_serve(
        &with_settings,
        &[("ROSETTA__DIALECTS__ERROR_CODE__SUCCESS_MESSAGE", "请求成功")],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("success_message = \"请求成功\""),
        "{stdout}"
    );
}

#[test]
fn recordings_are_on_disk_when_serve_stops() {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    let (dialect, ops) = (free_port(), free_port());
    let recordings_text = recordings.display().to_string();
    let mut child = start_with(
        dir.path(),
        dialect,
        ops,
        10,
        &[
            ("ROSETTA__RECORD__ENABLED", "true"),
            ("ROSETTA__RECORD__DIR", &recordings_text),
        ],
    );
    let registered = post(
        dialect,
        "/api/user/register",
        r#"{"username":"u","password":"p","name":"n"}"#,
    )
    .unwrap();
    assert!(registered.contains(r#""error_code":0"#), "{registered}");
    for _ in 0..29 {
        http(
            dialect,
            "GET /api/user/100000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let files: Vec<_> = std::fs::read_dir(&recordings)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(
        text.lines().count(),
        30,
        "every exchange is recorded by the time serve exits"
    );
    assert!(!text.contains(r#""password":"p""#), "redacted by default");
    // And the recording replays against a fresh in-process gateway.
    let output = Command::new(BIN)
        .arg("replay")
        .arg(&files[0])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn codes_go_to_an_https_webhook_that_the_trusted_roots_vouch_for() {
    let relay = tls_relay::TlsRelay::start(200, r#"{"message_id":"tls-1"}"#);
    let token = "an-admin-token-for-the-https-test";
    let serve = |trusting_the_test_authority: bool| {
        let dir = tempfile::tempdir().unwrap();
        let (dialect, ops, rest) = (free_port(), free_port(), free_port());
        let url = format!("https://localhost:{}/sms", relay.port);
        let ca = tls_relay::fixture("ca.pem").display().to_string();
        let rest_listen = format!("127.0.0.1:{rest}");
        let mut env = vec![
            ("ROSETTA__DIALECTS__REST__LISTEN", rest_listen.as_str()),
            ("ROSETTA__SMS__PROVIDER", "webhook"),
            ("ROSETTA__SMS__WEBHOOK_URL", url.as_str()),
            ("ROSETTA__OPS__ADMIN_TOKEN", token),
        ];
        if trusting_the_test_authority {
            env.push(("SSL_CERT_FILE", ca.as_str()));
        } else {
            // The system's own roots, which never vouch for the test authority.
            env.push(("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"));
        }
        let child = start_with(dir.path(), dialect, ops, 10, &env);
        (dir, child, ops, rest)
    };
    let ask = |rest: u16| {
        post(
            rest,
            "/actions/sms",
            r#"{"tel":{"dialCode":86,"number":13912345678},"action":"signup"}"#,
        )
        .unwrap()
    };

    let (_dir, mut child, ops, rest) = serve(true);
    let answer = ask(rest);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let relayed = relay.received();
    assert_eq!(relayed.len(), 1);
    assert!(
        relayed[0].head.starts_with("POST /sms HTTP/1.1"),
        "{}",
        relayed[0].head
    );
    let message: serde_json::Value = serde_json::from_slice(&relayed[0].body).unwrap();
    assert_eq!(message["phone"], "13912345678");
    assert_eq!(message["dialect"], "rest");
    let outbox = http(
        ops,
        &format!(
            "GET /admin/sms/outbox?phone=13912345678 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
    )
    .unwrap();
    let body = outbox.split("\r\n\r\n").nth(1).unwrap_or_default();
    let listed: serde_json::Value = serde_json::from_str(body).unwrap();
    let kept = &listed["messages"][0];
    assert_eq!(kept["provider"], "webhook");
    assert_eq!(kept["outcome"], "sent");
    assert_eq!(kept["message_id"], "tls-1");
    assert_eq!(kept["code"], message["code"]);
    child.kill().unwrap();
    child.wait().unwrap();

    // A gateway whose roots do not vouch for the relay's certificate sends nothing.
    let (_dir, mut child, _ops, rest) = serve(false);
    let answer = ask(rest);
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert!(answer.contains("验证码发送失败。"), "{answer}");
    assert_eq!(relay.received().len(), 1, "nothing reached the relay");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn provider_secrets_come_from_the_providers_own_environment_variables() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "[database]\nurl = \"sqlite://m.db\"\n[sms]\nprovider = \"aliyun\"\nfallback = \"tencent\"\n\
         [sms.aliyun]\nsign_name = \"罗塞塔\"\ntemplate_code = \"SMS_123456789\"\n\
         [sms.tencent]\nsdk_app_id = \"1400000000\"\nsign_name = \"罗塞塔\"\ntemplate_id = \"1234567\"\n",
    );
    let migrate = |env: &[(&str, &str)]| {
        Command::new(BIN)
            .args(["migrate", "--config"])
            .arg(&config)
            .current_dir(dir.path())
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .env_remove("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .env_remove("TENCENTCLOUD_SECRET_ID")
            .env_remove("TENCENTCLOUD_SECRET_KEY")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let secrets = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIfromTheEnvironment"),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "aliyunSecretFromTheEnvironment",
        ),
        ("TENCENTCLOUD_SECRET_ID", "AKIDfromTheEnvironment"),
        ("TENCENTCLOUD_SECRET_KEY", "tencentSecretFromTheEnvironment"),
    ];
    let output = migrate(&secrets);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Each missing one is named; none of the others is printed.
    for (at, key) in [
        (0, "sms.aliyun.access_key_id"),
        (1, "sms.aliyun.access_key_secret"),
        (2, "sms.tencent.secret_id"),
        (3, "sms.tencent.secret_key"),
    ] {
        let mut some = secrets.to_vec();
        some.remove(at);
        let output = migrate(&some);
        assert!(!output.status.success(), "{key}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(key), "{key}: {stderr}");
        for (_, value) in &some {
            assert!(!stderr.contains(value), "{stderr}");
        }
    }
    // The file (or a ROSETTA__ variable) wins over the providers' variables.
    let output = migrate(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIfromTheEnvironment"),
        (
            "ROSETTA__SMS__ALIYUN__ACCESS_KEY_SECRET",
            "fromRosettasOwnVariable",
        ),
        ("TENCENTCLOUD_SECRET_ID", "AKIDfromTheEnvironment"),
        ("TENCENTCLOUD_SECRET_KEY", "tencentSecretFromTheEnvironment"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
