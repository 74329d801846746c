//! Crash safety: a served gateway (the `rosetta` binary) is killed with SIGKILL while four
//! clients register accounts, change passwords and edit profiles through it; after every
//! restart, every write that was acknowledged is there — on SQLite and on PostgreSQL. 20 cycles
//! per backend in the suite; `ROSETTA_CRASH_CYCLES=100` by hand.

mod support;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TestDb, free_port, raw_http};

const BIN: &str = env!("CARGO_BIN_EXE_rosetta");
const WRITERS: usize = 4;

/// One request; the JSON answer, or `None` when no whole answer came (the gateway died).
fn call(port: u16, method: &str, path: &str, body: &Value, token: Option<&str>) -> Option<Value> {
    let body = body.to_string();
    let auth = token.map_or(String::new(), |t| format!("X-Auth-Token: {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    raw_http::exchange(address, request.as_bytes(), Duration::from_secs(20))?.json()
}

fn succeeded(answer: &Option<Value>) -> bool {
    answer.as_ref().is_some_and(|a| a["error_code"] == json!(0))
}

/// What the clients know of one account: the acknowledged state, and a write that was sent
/// but not acknowledged (it may or may not have happened).
#[derive(Clone, Debug, Default)]
struct Account {
    password: String,
    name: String,
    pending_password: Option<String>,
    pending_name: Option<String>,
}

type Ledger = Arc<Mutex<BTreeMap<String, Account>>>;

/// Registers, logs in, edits and changes passwords until the gateway stops answering.
fn write_until_killed(port: u16, writer: usize, cycle: usize, ledger: Ledger) {
    for n in 0.. {
        let username = format!("1{cycle:03}{writer:02}{n:05}");
        let password = format!("pw-{cycle}-{writer}-{n}-0");
        let name = format!("n{n}");
        let register = call(
            port,
            "POST",
            "/api/user/register",
            &json!({"username": username, "password": password, "name": name}),
            None,
        );
        if !succeeded(&register) {
            return;
        }
        let login = call(
            port,
            "POST",
            "/api/user/login",
            &json!({"username": username, "password": password}),
            None,
        );
        if !succeeded(&login) {
            // Registered and acknowledged: the account must be there, id unknown yet.
            ledger.lock().unwrap().insert(
                username,
                Account {
                    password,
                    name,
                    ..Account::default()
                },
            );
            return;
        }
        let data = &login.as_ref().unwrap()["data"];
        let (token, id) = (
            data["token_id"].as_str().unwrap_or_default().to_owned(),
            data["userid"].as_str().unwrap_or_default().to_owned(),
        );
        let mut account = Account {
            password,
            name,
            ..Account::default()
        };
        ledger
            .lock()
            .unwrap()
            .insert(username.clone(), account.clone());
        for step in 1..=3 {
            let new_name = format!("n{n}-{step}");
            account.pending_name = Some(new_name.clone());
            ledger
                .lock()
                .unwrap()
                .insert(username.clone(), account.clone());
            let edit = call(
                port,
                "POST",
                &format!("/api/user/{id}/edit"),
                &json!({"name": new_name}),
                Some(&token),
            );
            if !succeeded(&edit) {
                return;
            }
            account.name = new_name;
            account.pending_name = None;
            let new_password = format!("pw-{cycle}-{writer}-{n}-{step}");
            account.pending_password = Some(new_password.clone());
            ledger
                .lock()
                .unwrap()
                .insert(username.clone(), account.clone());
            let change = call(
                port,
                "POST",
                "/api/user/resetpwd",
                &json!({"password": account.password, "newpassword": new_password}),
                Some(&token),
            );
            if !succeeded(&change) {
                return;
            }
            account.password = new_password;
            account.pending_password = None;
            ledger
                .lock()
                .unwrap()
                .insert(username.clone(), account.clone());
        }
    }
}

struct Gateway {
    child: Child,
    port: u16,
}

fn start(db: &TestDb, dir: &std::path::Path) -> Gateway {
    // A port found free can be taken by another process before the gateway binds it: then the
    // gateway says so and exits, and it is started again on other ports.
    for _ in 0..5 {
        if let Some(gateway) = try_start(db, dir) {
            return gateway;
        }
    }
    panic!("the gateway could not bind free ports five times");
}

fn try_start(db: &TestDb, dir: &std::path::Path) -> Option<Gateway> {
    let (port, ops) = (free_port(), free_port());
    let others = support::other_dialects_on_port_zero("error_code");
    let log_path = dir.join("gateway.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .envs(others.iter().map(|(k, v)| (k.as_str(), *v)))
        .env("ROSETTA__DATABASE__URL", &db.url)
        .env(
            "ROSETTA__DIALECTS__ERROR_CODE__LISTEN",
            format!("127.0.0.1:{port}"),
        )
        .env("ROSETTA__OPS__LISTEN", format!("127.0.0.1:{ops}"))
        .env("ROSETTA__TESTING__ENABLED", "true")
        .env("ROSETTA__SECURITY__BCRYPT_COST", "4")
        .env("ROSETTA__SECURITY__LOGIN_ATTEMPTS_PER_IP_PER_MINUTE", "0")
        .env("ROSETTA__SECURITY__FAILED_GUESSES_PER_IP_PER_MINUTE", "0")
        // The checks try an acknowledged password before a pending one: no lockout for that.
        .env("ROSETTA__SECURITY__LOCKOUT_THRESHOLD", "0")
        .env("RUST_LOG", "warn")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if lost_its_port(&mut child, &log_path) {
            return None;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the gateway did not start within 60 s: {said}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Listening is not yet serving: the checks start once the database answers too.
    let readyz = b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let ops = SocketAddr::from(([127, 0, 0, 1], ops));
    while raw_http::exchange(ops, readyz, Duration::from_secs(5)).is_none_or(|a| a.status != 200) {
        // What answered on the dialect's port may have been another test's server, taken
        // between the pick and the bind, and this gateway gone.
        if lost_its_port(&mut child, &log_path) {
            return None;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let said = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("the gateway was not ready within 60 s: {said}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Gateway { child, port })
}

/// True when the gateway exited at start because a port it was given was taken (it is then
/// started again on others); an exit for any other reason fails the test.
fn lost_its_port(child: &mut Child, log_path: &std::path::Path) -> bool {
    let Ok(Some(status)) = child.try_wait() else {
        return false;
    };
    let said = std::fs::read_to_string(log_path).unwrap_or_default();
    if said.contains("binding") || said.contains("in use") {
        return true;
    }
    panic!("the gateway exited at start ({status}): {said}");
}

/// Every acknowledged write is there: the account logs in with its acknowledged password (or
/// the one a write in flight set), and reads back its acknowledged name (or the pending one).
fn check_everything_acknowledged(port: u16, ledger: &Ledger) -> usize {
    let accounts = ledger.lock().unwrap().clone();
    for (username, account) in &accounts {
        let passwords: Vec<&String> = std::iter::once(&account.password)
            .chain(account.pending_password.iter())
            .collect();
        let mut answers = Vec::new();
        let logged_in = passwords.iter().find_map(|password| {
            let answer = call(
                port,
                "POST",
                "/api/user/login",
                &json!({"username": username, "password": password}),
                None,
            );
            answers.push(answer.clone());
            succeeded(&answer).then(|| answer.unwrap()["data"]["userid"].clone())
        });
        let Some(id) = logged_in else {
            panic!(
                "{username}: no acknowledged password logs in ({account:?}); the gateway answered {answers:?}"
            );
        };
        let detail = call(
            port,
            "GET",
            &format!("/api/user/{}", id.as_str().unwrap()),
            &json!({}),
            None,
        )
        .unwrap_or_else(|| panic!("{username}: no answer to the detail"));
        let name = detail["data"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            name == account.name || account.pending_name.as_deref() == Some(name.as_str()),
            "{username}: name {name:?}, acknowledged {:?} (pending {:?})",
            account.name,
            account.pending_name
        );
    }
    accounts.len()
}

fn cycles() -> usize {
    std::env::var("ROSETTA_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    for db in TestDb::every_backend() {
        let dir = tempfile::tempdir().unwrap();
        let ledger: Ledger = Arc::default();
        let cycles = cycles();
        for cycle in 0..cycles {
            let mut gateway = start(&db, dir.path());
            check_everything_acknowledged(gateway.port, &ledger);
            let writers: Vec<_> = (0..WRITERS)
                .map(|writer| {
                    let ledger = ledger.clone();
                    let port = gateway.port;
                    std::thread::spawn(move || write_until_killed(port, writer, cycle, ledger))
                })
                .collect();
            // A different moment in each cycle, so kills land in every kind of write.
            std::thread::sleep(Duration::from_millis(150 + (cycle as u64 * 37) % 400));
            gateway.child.kill().unwrap();
            gateway.child.wait().unwrap();
            for writer in writers {
                writer.join().unwrap();
            }
        }
        let mut gateway = start(&db, dir.path());
        let accounts = check_everything_acknowledged(gateway.port, &ledger);
        gateway.child.kill().unwrap();
        gateway.child.wait().unwrap();
        assert!(
            accounts >= cycles,
            "too little was written to prove anything: {accounts} accounts"
        );
        println!(
            "{}: {cycles} kill -9 cycles, {accounts} accounts checked, no acknowledged write lost",
            if db.is_postgres() {
                "PostgreSQL"
            } else {
                "SQLite"
            }
        );
    }
}
