//! Database outages. PostgreSQL going away under load (a proxy between the gateway and the
//! server drops every connection and refuses new ones, as a stopped server does): every dialect
//! answers its own "server error" within 2 s, `/readyz` says 503, and once the database is back
//! the service resumes within 5 s without a restart. SQLite's disk filling up: writes answer
//! the dialect's error, reads keep working, and writes work again once there is room.

mod support;

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{Reply, TestApp, TestDb, raw_http, test_settings};

const MD5_OF_SECRET: &str = "5ebe2294ecd0e0f08eab7690d2a6ee69";

/// A TCP proxy to the PostgreSQL server that can be cut and restored.
struct Proxy {
    port: u16,
    open: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (accepting, kept) = (open.clone(), streams.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if !accepting.load(Ordering::SeqCst) {
                    // A stopped server: the connection ends at once.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut kept = kept.lock().unwrap();
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server.try_clone().unwrap(), client.try_clone().unwrap()),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                kept.push(client);
                kept.push(server);
            }
        });
        Proxy {
            port,
            open,
            streams,
        }
    }

    /// The database goes away: every connection ends, new ones are turned away.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// A request of each dialect that needs the database, and whether an answer is that dialect's
/// "server error".
struct Probe {
    dialect: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    server_error: fn(&Reply) -> bool,
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/json");

fn probes() -> Vec<Probe> {
    vec![
        Probe {
            dialect: "code_result",
            method: "POST",
            path: "/user/login",
            headers: &[JSON],
            body: r#"{"region":"86","phone":"13900000001","password":"secret"}"#,
            server_error: |r| r.status == 500 && r.text() == "Internal server error.",
        },
        Probe {
            dialect: "code_sec",
            method: "POST",
            path: "/user/login",
            headers: &[FORM],
            body: "phone=13900000001&pwd=5ebe2294ecd0e0f08eab7690d2a6ee69",
            server_error: |r| r.status == 200 && r.json() == json!({"code": "400"}),
        },
        Probe {
            dialect: "error_code",
            method: "GET",
            path: "/api/user/100000",
            headers: &[],
            body: "",
            server_error: |r| r.status == 200 && r.json()["error_code"] == json!(999),
        },
        Probe {
            dialect: "rest",
            method: "GET",
            path: "/users/100000",
            headers: &[],
            body: "",
            server_error: |r| r.status == 500 && r.json()["code"] == json!(500),
        },
        Probe {
            dialect: "struts",
            method: "POST",
            path: "/user/user!login.action",
            headers: &[FORM],
            body: "userVO.userName=13900000001&userVO.password=5ebe2294ecd0e0f08eab7690d2a6ee69",
            server_error: |r| {
                r.status == 200 && r.json() == json!({"success": false, "info": "服务器内部错误"})
            },
        },
    ]
    .into_iter()
    .filter(|p| rosetta::dialects::find(p.dialect).is_some())
    .collect()
}

async fn send(app: &TestApp, probe: &Probe) -> Reply {
    app.send(
        probe.dialect,
        probe.method,
        probe.path,
        probe.headers,
        probe.body.as_bytes(),
    )
    .await
}

async fn register(app: &TestApp) {
    let body = json!({"username": "13900000001", "password": "secret", "name": "n"});
    let reply = app
        .send(
            "error_code",
            "POST",
            "/api/user/register",
            &[],
            body.to_string().as_bytes(),
        )
        .await;
    assert_eq!(reply.json()["error_code"], json!(0), "{}", reply.text());
}

/// Reads and writes from two threads until told to stop; the slowest answer they saw.
fn load(port: u16, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Duration> {
    std::thread::spawn(move || {
        let mut slowest = Duration::ZERO;
        let mut n = 0;
        while !stop.load(Ordering::SeqCst) {
            n += 1;
            let request = if n % 2 == 0 {
                "GET /api/user/100000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_owned()
            } else {
                let body = format!(r#"{{"username":"load{n}","password":"p","name":"n"}}"#);
                format!(
                    "POST /api/user/register HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            };
            let started = Instant::now();
            let address = SocketAddr::from(([127, 0, 0, 1], port));
            match raw_http::send(address, request.as_bytes(), Duration::from_secs(30), false) {
                Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                _ => slowest = slowest.max(started.elapsed()),
            }
        }
        slowest
    })
}

#[actix_web::test]
async fn a_postgresql_outage_is_answered_fast_and_recovered_from_without_a_restart() {
    let Some(db) = TestDb::postgres() else {
        // The SQLite half below runs everywhere; this half needs the PostgreSQL of CI.
        eprintln!(
            "{} is not set: the PostgreSQL outage is not exercised",
            support::PG_ENV
        );
        return;
    };
    let (host_port, name) = {
        let rest = db.url.split_once("://").unwrap().1;
        let host = rest.split('@').next_back().unwrap();
        let (host_port, name) = host.split_once('/').unwrap();
        (host_port.to_owned(), name.to_owned())
    };
    let proxy = Proxy::start(host_port);
    let through_proxy = format!(
        "[database]\nurl = \"postgres://postgres@127.0.0.1:{}/{name}\"\n",
        proxy.port
    );
    let app = TestApp::spawn_with(db, move |db| test_settings(db, &through_proxy)).await;
    register(&app).await;
    let probes = probes();

    let stop = Arc::new(AtomicBool::new(false));
    let loaders: Vec<_> = (0..2)
        .map(|_| load(app.address("error_code").unwrap().port(), stop.clone()))
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    proxy.cut();
    for probe in &probes {
        let started = Instant::now();
        let reply = send(&app, probe).await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(2),
            "{} took {took:?} during the outage",
            probe.dialect
        );
        assert!(
            (probe.server_error)(&reply),
            "{} during the outage: {} {}",
            probe.dialect,
            reply.status,
            reply.text()
        );
    }
    let ready = app.send("ops", "GET", "/readyz", &[], b"").await;
    assert_eq!(ready.status, 503);

    proxy.restore();
    let started = Instant::now();
    loop {
        let reply = send(&app, &probes[0]).await;
        if !(probes[0].server_error)(&reply) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not back 5 s after the database returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for probe in &probes {
        let reply = send(&app, probe).await;
        assert!(
            !(probe.server_error)(&reply) && reply.status < 500,
            "{} after the outage: {} {}",
            probe.dialect,
            reply.status,
            reply.text()
        );
    }
    assert_eq!(
        app.send("ops", "GET", "/readyz", &[], b"").await.status,
        200
    );

    stop.store(true, Ordering::SeqCst);
    for loader in loaders {
        let slowest = loader.join().unwrap();
        assert!(
            slowest < Duration::from_millis(2500),
            "a request under load waited {slowest:?}"
        );
    }
    let metrics = app.send("ops", "GET", "/metrics", &[], b"").await.text();
    for probe in &probes {
        let counted = metrics.lines().any(|line| {
            line.contains(&format!("dialect=\"{}\"", probe.dialect))
                && line.contains("outcome=\"server_error\"")
        });
        assert!(
            counted,
            "{} not counted as a server error:\n{metrics}",
            probe.dialect
        );
    }
}

/// A tmpfs of its own, unmounted when dropped (after the gateway that uses it).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(
            status.success(),
            "mounting a tmpfs failed: the disk-full test needs root (as on CI)"
        );
        SmallDisk { dir }
    }

    /// Fills the disk to the last byte; the filler's path.
    fn fill(&self) -> std::path::PathBuf {
        let path = self.dir.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let mut byte = [0u8; 1];
        while file.write_all(&byte).is_ok() {
            byte[0] = 1;
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

#[actix_web::test]
async fn a_full_disk_fails_sqlite_writes_in_the_envelope_and_reads_go_on() {
    let disk = SmallDisk::mount();
    let db = TestDb::sqlite_at(&disk.dir.path().join("rosetta.db"));
    let app = TestApp::spawn_on(db, "").await;
    register(&app).await;
    let struts_login = app
        .send(
            "struts",
            "POST",
            "/user/user!login.action",
            &[FORM],
            format!("userVO.userName=13900000001&userVO.password={MD5_OF_SECRET}").as_bytes(),
        )
        .await;
    let (uid, token) = (
        struts_login.header("uid").unwrap().to_owned(),
        struts_login.header("accesstoken").unwrap().to_owned(),
    );

    let filler = disk.fill();
    // Writes: the dialect's own error, promptly.
    let started = Instant::now();
    let write = app
        .send(
            "error_code",
            "POST",
            "/api/user/register",
            &[],
            br#"{"username":"13900000002","password":"p","name":"n"}"#,
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(write.status, 200);
    assert_eq!(write.json()["error_code"], json!(999), "{}", write.text());
    let update_nickname = |name: &'static str| {
        let (app, uid, token) = (&app, uid.clone(), token.clone());
        async move {
            app.send(
                "struts",
                "POST",
                "/user/user!updateUser.action",
                &[FORM, ("uid", &uid), ("accessToken", &token)],
                format!("userVO.nickName={name}").as_bytes(),
            )
            .await
        }
    };
    let update = update_nickname("full").await;
    assert_eq!(
        update.json(),
        json!({"success": false, "info": "服务器内部错误"}),
        "{}",
        update.text()
    );
    // Reads go on.
    let read = app
        .send("error_code", "GET", "/api/user/100000", &[], b"")
        .await;
    assert_eq!(read.json()["data"]["name"], json!("n"), "{}", read.text());
    let read = app
        .send(
            "struts",
            "POST",
            "/user/user!readUser.action",
            &[("uid", &uid), ("accessToken", &token)],
            b"",
        )
        .await;
    assert_eq!(read.json()["success"], json!(true), "{}", read.text());
    assert_eq!(
        app.send("rest", "GET", "/users/100000", &[], b"")
            .await
            .status,
        200
    );

    // Room again: writes work again, without a restart.
    std::fs::remove_file(filler).unwrap();
    let write = app
        .send(
            "error_code",
            "POST",
            "/api/user/register",
            &[],
            br#"{"username":"13900000002","password":"p","name":"n"}"#,
        )
        .await;
    assert_eq!(write.json()["error_code"], json!(0), "{}", write.text());
    let reply: Value = update_nickname("room").await.json();
    assert_eq!(reply["success"], json!(true), "{reply}");
    drop(app);
}
