//! Slow and many clients (`[http]` settings): a body that trickles or never comes is answered
//! in the dialect's envelope when the body timeout ends, a request head that never ends is cut
//! off, idle kept-alive connections are closed, a `Connection: Upgrade` request is answered at
//! once, 200 slow-header connections do not delay a normal request, and the connection cap holds.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::TestApp;
use support::raw_http::{self, read_answer, status_of};

/// A body-reading route of each dialect, with a body that starts like a real one.
const BODY_ROUTES: &[(&str, &str, &str)] = &[
    ("code_result", "/user/login", r#"{"region":"86","#),
    ("code_sec", "/user/login", "phone=139"),
    ("error_code", "/api/user/register", r#"{"username":"#),
    ("rest", "/users/signin", r#"{"tel":"#),
    ("struts", "/user/user!login.action", "userVO.userName=139"),
];

fn content_type(body: &str) -> &'static str {
    if body.starts_with('{') {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    }
}

fn connect(address: SocketAddr) -> TcpStream {
    raw_http::connect(address, Duration::from_secs(10)).expect("connect")
}

#[actix_web::test]
async fn a_body_that_never_arrives_whole_is_answered_when_the_body_timeout_ends() {
    let app = TestApp::spawn("[http]\nbody_timeout_seconds = 1\n").await;
    for (dialect, path, partial) in BODY_ROUTES {
        let mut stream = connect(app.address(dialect).unwrap());
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {}\r\nContent-Length: 400\r\n\r\n",
            content_type(partial)
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(partial.as_bytes()).unwrap();
        let started = Instant::now();
        let answer = read_answer(&mut stream);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(800) && waited < Duration::from_secs(4),
            "{dialect}: answered after {waited:?}"
        );
        assert!(status_of(&answer) < 500, "{dialect}: {answer}");
        assert!(
            !answer.contains("payload") && !answer.contains("EOF"),
            "{dialect} leaks the framework's words: {answer}"
        );
    }
}

#[actix_web::test]
async fn an_upgrade_request_with_a_short_body_is_answered_at_once() {
    let app = TestApp::spawn("").await;
    let mut stream = connect(app.address("error_code").unwrap());
    stream
        .write_all(
            b"POST /api/user/register HTTP/1.1\r\nHost: test\r\nConnection: Upgrade\r\n\
              Upgrade: websocket\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        )
        .unwrap();
    let started = Instant::now();
    let answer = read_answer(&mut stream);
    assert!(started.elapsed() < Duration::from_secs(2), "{answer}");
    assert_eq!(status_of(&answer), 200, "{answer}");
    assert!(
        answer.ends_with(r#"{"error_code":3,"error_msg":"请求参数错误，username is not set"}"#),
        "{answer}"
    );
}

#[actix_web::test]
async fn an_unfinished_head_is_cut_off_and_idle_connections_are_closed() {
    let app = TestApp::spawn("[http]\nheader_timeout_seconds = 1\nkeep_alive_seconds = 1\n").await;
    let address = app.address("error_code").unwrap();

    let mut slow = connect(address);
    slow.write_all(b"GET /api/user/100000 HTTP/1.1\r\nHost: te")
        .unwrap();
    let started = Instant::now();
    let answer = read_answer(&mut slow);
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(answer.is_empty() || status_of(&answer) == 408, "{answer}");

    let mut idle = connect(address);
    idle.write_all(b"GET /api/user/100000 HTTP/1.1\r\nHost: test\r\n\r\n")
        .unwrap();
    assert_eq!(status_of(&read_answer(&mut idle)), 200);
    let started = Instant::now();
    let mut rest = Vec::new();
    let closed = idle.read_to_end(&mut rest);
    assert!(closed.is_ok(), "{closed:?}");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(4), "kept for {waited:?}");
}

/// The time of one normal request on a fresh connection.
fn timed_read(address: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut stream = connect(address);
    stream
        .write_all(b"GET /api/user/100000 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = read_answer(&mut stream);
    assert_eq!(status_of(&answer), 200, "{answer}");
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[actix_web::test]
async fn two_hundred_slow_clients_do_not_delay_a_normal_request() {
    let app = TestApp::spawn("").await;
    let address = app.address("error_code").unwrap();
    app.send(
        "error_code",
        "POST",
        "/api/user/register",
        &[],
        br#"{"username":"13900000000","password":"p","name":"n"}"#,
    )
    .await;
    let alone = median((0..9).map(|_| timed_read(address)).collect());
    let slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut stream = connect(address);
            stream
                .write_all(b"GET /api/user/100000 HTTP/1.1\r\nHo")
                .unwrap();
            stream
        })
        .collect();
    let beside_them = median((0..9).map(|_| timed_read(address)).collect());
    assert!(
        beside_them < alone + Duration::from_millis(100),
        "alone {alone:?}, beside 200 slow clients {beside_them:?}"
    );
    drop(slow);
}

#[actix_web::test]
async fn the_connection_cap_holds_new_connections_back() {
    let app = TestApp::spawn("[http]\nmax_connections = 1\nheader_timeout_seconds = 1\n").await;
    let address = app.address("error_code").unwrap();
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    // One held connection per worker (actix counts per worker) fills the cap.
    let held: Vec<TcpStream> = (0..workers)
        .map(|_| {
            let mut stream = connect(address);
            stream.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let waited = timed_read(address);
    assert!(
        waited >= Duration::from_millis(500),
        "served at once ({waited:?}) although every slot was held"
    );
    drop(held);
    assert!(timed_read(address) < Duration::from_secs(1));
}
