//! Shared test harness: a fresh database per test (SQLite, or PostgreSQL when
//! `ROSETTA_TEST_DATABASE_URL` is set), an in-process gateway on port 0, and an HTTP helper.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]

pub mod raw_http;

use std::sync::Arc;

use diesel::{Connection, PgConnection, RunQueryDsl};
use rosetta::service::{Clock, ManualClock, Service};
use rosetta::settings::Settings;
use std::collections::BTreeMap;
use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use rosetta::startup::{self, Application};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
pub const PG_ENV: &str = "ROSETTA_TEST_DATABASE_URL";

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(
        #[allow(
            dead_code,
            reason = "held so the directory lives as long as the database"
        )]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// A file somewhere the test owns (and removes) itself.
    Nothing,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("rosetta.db").display());
        TestDb {
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A SQLite database at `path`, in a place the test owns (a disk of its own, say).
    pub fn sqlite_at(path: &std::path::Path) -> TestDb {
        TestDb {
            url: format!("sqlite://{}", path.display()),
            cleanup: Cleanup::Nothing,
        }
    }

    /// A fresh database on the server `ROSETTA_TEST_DATABASE_URL` names; `None` when unset.
    /// A set but unreachable server fails the test: CI must never skip PostgreSQL silently.
    pub fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())?;
        let name = format!("rosetta_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        Some(TestDb {
            url: replace_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// The backend the integration tests run on: PostgreSQL when configured, else SQLite.
    pub fn fresh() -> TestDb {
        TestDb::postgres().unwrap_or_else(TestDb::sqlite)
    }

    /// SQLite always, plus PostgreSQL when configured (the storage story runs on both).
    pub fn every_backend() -> Vec<TestDb> {
        let mut all = vec![TestDb::sqlite()];
        all.extend(TestDb::postgres());
        all
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A settings builder for [`TestApp::spawn_with`] with an extra TOML layer.
pub fn test_settings_for(extra: &str) -> impl FnOnce(&TestDb) -> Settings + '_ {
    move |db| test_settings(db, extra)
}

/// Settings for a test gateway: test mode, cheap bcrypt, every listener on port 0.
pub fn test_settings(db: &TestDb, extra: &str) -> Settings {
    let text = format!(
        r#"
[database]
url = "{url}"
pool_size = 4

[ops]
listen = "127.0.0.1:0"
admin_token = "{ADMIN_TOKEN}"

[security]
bcrypt_cost = 4

[testing]
enabled = true

"#,
        url = db.url
    );
    let listeners: String = rosetta::dialects::registry()
        .iter()
        .map(|spec| format!("[dialects.{}]\nlisten = \"127.0.0.1:0\"\n", spec.id))
        .collect();
    Settings::from_toml_layers(&[&text, &listeners, extra])
        .unwrap_or_else(|e| panic!("test settings: {e}"))
}

/// A code request of the `test` dialect for any phone, six digits under the global rules.
pub fn code_request<'a>(
    phone: &'a rosetta::domain::phone::Phone,
    purpose: &'a str,
    ip: Option<&'a str>,
) -> rosetta::service::sms::CodeRequest<'a> {
    use rosetta::service::sms::{CodeRequest, PhoneMust, SmsRules};
    CodeRequest {
        phone,
        purpose,
        dialect: "test",
        rules: SmsRules::global(6),
        phone_must: PhoneMust::BeAny,
        client_ip: ip,
    }
}

/// The core alone, on a manual clock.
pub async fn test_service(db: &TestDb, extra: &str) -> (Service, Arc<ManualClock>) {
    let settings = test_settings(db, extra);
    let clock = Arc::new(ManualClock::new(1_795_190_400_000));
    let service = startup::build_service(&settings, clock.clone() as Arc<dyn Clock>)
        .await
        .expect("service");
    (service, clock)
}

/// A gateway serving on its own thread and actix system. Dropping it stops the listeners and
/// waits until they have released the core (and so its database pool) before the test database
/// is removed: a pool left behind would keep reconnecting to a dropped database while the
/// process exits.
pub struct TestApp {
    addresses: BTreeMap<String, SocketAddr>,
    service: Option<Service>,
    handles: Vec<ServerHandle>,
    thread: Option<std::thread::JoinHandle<()>>,
    pub clock: Arc<ManualClock>,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(extra: &str) -> TestApp {
        TestApp::spawn_on(TestDb::fresh(), extra).await
    }

    pub async fn spawn_on(db: TestDb, extra: &str) -> TestApp {
        TestApp::spawn_with(db, test_settings_for(extra)).await
    }

    /// Serves with settings built from the test database (`settings(&db)`).
    pub async fn spawn_with(db: TestDb, settings: impl FnOnce(&TestDb) -> Settings) -> TestApp {
        let settings = settings(&db);
        let clock = Arc::new(ManualClock::new(1_795_190_400_000));
        let service = startup::build_service(&settings, clock.clone() as Arc<dyn Clock>)
            .await
            .expect("service");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let core = service.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::with_service(settings, core).expect("bind");
                ready_tx
                    .send((app.addresses().clone(), app.handles()))
                    .expect("test waits");
                app.serve().await.expect("serve");
            });
        });
        let (addresses, handles) = ready_rx.recv().expect("gateway started");
        TestApp {
            addresses,
            service: Some(service),
            handles,
            thread: Some(thread),
            clock,
            db,
        }
    }

    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        self.addresses.get(name).copied()
    }

    pub fn url(&self, listener: &str, path: &str) -> String {
        let address = self
            .address(listener)
            .unwrap_or_else(|| panic!("no listener {listener}"));
        format!("http://{address}{path}")
    }

    pub fn service(&self) -> &Service {
        self.service.as_ref().expect("service lives until drop")
    }

    pub async fn send(
        &self,
        listener: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let client = awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .finish();
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = client.request(method, self.url(listener, path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let mut response = request.send_body(body.to_vec()).await.expect("request");
        let body = response.body().limit(16 * 1024 * 1024).await.expect("body");
        Reply {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: body.to_vec(),
        }
    }

    /// A JSON POST to a dialect, with a `Cookie: <name>=<value>` when given.
    pub async fn post_json(
        &self,
        listener: &str,
        path: &str,
        body: &serde_json::Value,
        cookie: Option<(&str, &str)>,
    ) -> Reply {
        let cookie = cookie.map(|(name, value)| format!("{name}={value}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(cookie) = &cookie {
            headers.push(("Cookie", cookie.as_str()));
        }
        self.send(
            listener,
            "POST",
            path,
            &headers,
            body.to_string().as_bytes(),
        )
        .await
    }

    pub async fn admin(&self, method: &str, path: &str, body: serde_json::Value) -> Reply {
        let bearer = format!("Bearer {ADMIN_TOKEN}");
        self.send(
            "ops",
            method,
            path,
            &[
                ("Authorization", bearer.as_str()),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
        .await
    }

    /// Creates an account (+86 `phone`) through the admin API, as an operator or an import
    /// would, and gives its id.
    pub async fn create_user(&self, phone: &str, password: &str, nickname: &str) -> i64 {
        let created = self
            .admin(
                "POST",
                "/admin/users",
                serde_json::json!({"region": "86", "phone": phone, "password": password, "nickname": nickname}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text());
        created.json()["id"]
            .as_i64()
            .expect("the admin API gives the new account's id")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for handle in &self.handles {
            // The stop command is sent at once; the gateway's own thread carries it out.
            drop(handle.stop(false));
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.service = None;
    }
}

/// An HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[test]
fn database_names_are_replaced_in_urls() {
    assert_eq!(
        replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        replace_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
    assert_eq!(
        replace_database("postgres://h/db?sslmode=disable", "x"),
        "postgres://h/x?sslmode=disable"
    );
}

/// A port nobody listens on right now (another process may still take it before it is used).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `ROSETTA__DIALECTS__<ID>__LISTEN=127.0.0.1:0` for every dialect but `except`, so that
/// gateways started by tests in parallel never meet on default ports.
pub fn other_dialects_on_port_zero(except: &str) -> Vec<(String, &'static str)> {
    rosetta::dialects::registry()
        .iter()
        .filter(|spec| spec.id != except)
        .map(|spec| {
            (
                format!(
                    "ROSETTA__DIALECTS__{}__LISTEN",
                    spec.id.to_ascii_uppercase()
                ),
                "127.0.0.1:0",
            )
        })
        .collect()
}
