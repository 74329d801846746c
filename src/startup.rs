//! Builds the gateway from settings: the core, one `HttpServer` per listen address with the
//! enabled dialects mounted at their prefixes, and the ops listener. Production and tests share
//! this code; tests listen on port 0.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;

use crate::cutover::Cutover;
use crate::cutover::middleware::{DialectCutover, carry_out};
use crate::dialects::kit::failure::{install_extractor_handlers, not_found, render_failures};
use crate::dialects::kit::request::BodyTimeout;
use crate::dialects::{self, DialectContext, DialectSpec, FrameworkError};
use crate::ops::metrics::Metrics;
use crate::ops::observe::{ListenerMap, observe};
use crate::ops::{self, OpsState};
use crate::providers::aliyun_sms::{AliyunSignature, AliyunSms};
use crate::providers::tencent_sms::TencentSms;
use crate::replay::recorder::{Recorder, record};
use crate::service::sms_sender::{self, WebhookSender};
use crate::service::{
    Clock, CoreConfig, Database, LoginPolicy, PasswordHasher, Service, SmsDelivery, SmsPolicy,
    SmsSender, SystemClock, TestHooks,
};
use crate::settings::{HttpSettings, Settings, SmsProvider, SmsSettings};
use crate::storage::{self, DatabaseUrl};

/// How long a request may wait for a pooled connection before it fails.
const POOL_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a password hash may take, waiting for a hashing thread included, before the core
/// answers "busy": with the login's database work, which queues behind a read flood too, the
/// answer goes out within 2 s (measured: 1.9 s at the p99 with a 1.5 s deadline).
const HASH_DEADLINE: Duration = Duration::from_millis(1250);
/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE_SECS: u64 = 30;

/// Opens the database, applies migrations and builds the account core.
pub async fn build_service(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Service> {
    let url = DatabaseUrl::parse(&settings.database.url)?;
    let pool_size = settings.database.pool_size;
    let failures = storage::ConnectFailures::default();
    let recorded = failures.clone();
    let pool_url = url.clone();
    let pool = tokio::task::spawn_blocking(move || -> anyhow::Result<storage::Pool> {
        let url = pool_url;
        let pool = storage::build_pool(&url, pool_size, POOL_CHECKOUT_TIMEOUT, recorded)
            .with_context(|| format!("opening {}", storage::redact_url(&display_url(&url))))?;
        let mut conn = pool.get()?;
        let applied = storage::run_migrations(&mut conn)?;
        for version in applied {
            tracing::info!(%version, "migration applied");
        }
        Ok(pool)
    })
    .await??;

    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let cost = settings.security.bcrypt_cost;
    let hasher =
        tokio::task::spawn_blocking(move || PasswordHasher::new(cost, cores, HASH_DEADLINE))
            .await??;
    tokio::task::spawn_blocking(crate::providers::https::preload).await?;
    let sms = SmsDelivery {
        primary: sms_sender(&settings.sms, settings.sms.provider),
        fallback: settings
            .sms
            .fallback
            .map(|fallback| sms_sender(&settings.sms, fallback)),
        attempt_timeout: sms_sender::ATTEMPT_TIMEOUT,
        deadline: sms_sender::DELIVERY_DEADLINE,
    };
    let config = CoreConfig {
        sms: SmsPolicy {
            code_ttl: settings.code_ttl(),
            resend_interval: Duration::from_secs(settings.sms.resend_interval_seconds),
            daily_limit_per_phone: settings.sms.daily_limit_per_phone,
            hourly_limit_per_ip: settings.sms.hourly_limit_per_ip,
        },
        login: LoginPolicy {
            lockout_threshold: settings.security.lockout_threshold,
            attempts_per_ip_per_minute: settings.security.login_attempts_per_ip_per_minute,
            guesses_per_ip_per_minute: settings.security.failed_guesses_per_ip_per_minute,
        },
        testing: TestHooks {
            enabled: settings.testing.enabled,
            fixed_code: settings.testing.fixed_code.clone(),
        },
    };
    Ok(Service::new(
        Database {
            pool,
            failures,
            threads: storage_threads(&url, pool_size, cores),
            url,
        },
        clock,
        config,
        hasher,
        sms,
    )?)
}

/// The sender of a provider the settings have checked.
fn sms_sender(sms: &SmsSettings, provider: SmsProvider) -> SmsSender {
    match provider {
        SmsProvider::Log => SmsSender::Log,
        SmsProvider::Webhook => SmsSender::Webhook(WebhookSender {
            url: sms.webhook_url.clone().unwrap_or_default(),
        }),
        SmsProvider::Aliyun => SmsSender::Aliyun(AliyunSms {
            access_key_id: sms.aliyun.access_key_id.trim().to_owned(),
            access_key_secret: sms.aliyun.access_key_secret.expose().trim().to_owned(),
            sign_name: sms.aliyun.sign_name.clone(),
            template_code: sms.aliyun.template_code.trim().to_owned(),
            endpoint: sms.aliyun.endpoint.clone(),
            signature: if sms.aliyun.signature == "v2" {
                AliyunSignature::V2
            } else {
                AliyunSignature::V3
            },
        }),
        SmsProvider::Tencent => SmsSender::Tencent(TencentSms {
            secret_id: sms.tencent.secret_id.trim().to_owned(),
            secret_key: sms.tencent.secret_key.expose().trim().to_owned(),
            sdk_app_id: sms.tencent.sdk_app_id.trim().to_owned(),
            sign_name: sms.tencent.sign_name.clone(),
            template_id: sms.tencent.template_id.trim().to_owned(),
            region: sms.tencent.region.trim().to_owned(),
            endpoint: sms.tencent.endpoint.clone(),
        }),
    }
}

/// How many threads run database work. One connection of the pool stays free for readiness
/// probes. SQLite work is CPU work on pages in memory, which more threads than cores only
/// slow down with switching (its writes go to the writer thread, outside the pool);
/// PostgreSQL work mostly waits for the server, so each connection gets a thread.
fn storage_threads(url: &DatabaseUrl, pool_size: u32, cores: usize) -> usize {
    let spare = usize::try_from(pool_size.saturating_sub(1).max(1)).unwrap_or(1);
    match url.backend() {
        storage::Backend::Sqlite => spare.min(cores),
        storage::Backend::Postgres => spare,
    }
}

fn display_url(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite { path } => format!("sqlite://{path}"),
        DatabaseUrl::Postgres { url } => url.clone(),
    }
}

/// Applies migrations and exits (`rosetta migrate`).
pub async fn migrate(settings: &Settings) -> anyhow::Result<Vec<String>> {
    let url = DatabaseUrl::parse(&settings.database.url)?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let pool = storage::build_pool(&url, 1, POOL_CHECKOUT_TIMEOUT, Default::default())?;
        let mut conn = pool.get()?;
        Ok(storage::run_migrations(&mut conn)?)
    })
    .await?
}

/// A built gateway whose listeners are bound but not yet serving.
pub struct Application {
    servers: Vec<Server>,
    addresses: BTreeMap<String, SocketAddr>,
    service: Service,
    recorder: Option<Arc<Recorder>>,
    cutover: Arc<Cutover>,
}

/// A gateway serving in the background (tests, the replayer).
pub struct RunningApplication {
    handles: Vec<ServerHandle>,
    pub addresses: BTreeMap<String, SocketAddr>,
    pub service: Service,
    recorder: Option<Arc<Recorder>>,
    /// The task that follows the stored dialect modes.
    follower: actix_web::rt::task::JoinHandle<()>,
}

impl RunningApplication {
    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        self.addresses.get(name).copied()
    }

    /// Stops the listeners (in-flight requests finish), then flushes the recordings.
    pub async fn stop(self) {
        for handle in self.handles {
            handle.stop(true).await;
        }
        self.follower.abort();
        if let Some(recorder) = self.recorder {
            let flushed =
                actix_web::web::block(move || recorder.finish(Duration::from_secs(10))).await;
            if !matches!(flushed, Ok(true)) {
                tracing::warn!("the last recorded exchanges may not all be on disk");
            }
        }
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let service = build_service(&settings, Arc::new(SystemClock)).await?;
        let stored = service.stored_modes().await?;
        let application = Application::with_service(settings, service)?;
        // The modes the admin API chose, before the first request is served.
        application.cutover.follow(&stored);
        Ok(application)
    }

    /// Binds every listener for an already built core.
    pub fn with_service(settings: Settings, service: Service) -> anyhow::Result<Application> {
        for warning in &settings.warnings {
            tracing::warn!("{warning}");
        }
        let metrics = Arc::new(Metrics::new(settings.ops.client_labels));
        let cutover = Arc::new(Cutover::new(&settings).map_err(anyhow::Error::msg)?);
        for dialect in cutover.modes().iter().filter(|d| d.mode != "serve") {
            tracing::warn!(dialect = dialect.id, mode = dialect.mode, legacy_url = ?dialect.legacy_url, "not serving: legacy backend in use");
        }
        let recorder: Option<Arc<Recorder>> = settings.record.enabled.then(|| {
            tracing::info!(dir = %settings.record.dir, redact = settings.record.redact, "recording every exchange");
            Recorder::start(settings.record.dir.clone().into(), settings.record.redact)
        });
        let mut addresses = BTreeMap::new();
        let mut documents = ops::openapi::Documents::new();
        let mut servers = Vec::new();
        let workers = std::thread::available_parallelism().map_or(2, usize::from);

        for group in listener_groups(&settings) {
            let listener = TcpListener::bind(group.address)
                .with_context(|| format!("binding {} for {}", group.address, group.names()))?;
            let bound = listener.local_addr()?;
            for (spec, prefix) in &group.dialects {
                addresses.insert(spec.id.to_owned(), bound);
                let url = ops::openapi::server_url(bound, prefix);
                documents.insert(spec.id, ops::openapi::render(spec, &url));
            }
            let contexts: Vec<(&'static DialectSpec, DialectCutover)> = group
                .dialects
                .iter()
                .map(|(spec, _)| {
                    let ctx = DialectContext {
                        service: service.clone(),
                        settings: settings.dialects[spec.id].clone(),
                    };
                    let cut = DialectCutover::new(
                        cutover.clone(),
                        spec,
                        ctx,
                        settings.http.body_timeout(),
                    );
                    (*spec, cut)
                })
                .collect();
            let map = ListenerMap {
                metrics: metrics.clone(),
                prefixes: Arc::new(
                    group
                        .dialects
                        .iter()
                        .map(|(spec, prefix)| (prefix.clone(), spec.id))
                        .collect(),
                ),
                in_flight: Arc::new(
                    group
                        .dialects
                        .iter()
                        .map(|(spec, _)| (spec.id, metrics.in_flight_counter(spec.id)))
                        .collect(),
                ),
            };
            let recorder = recorder.clone();
            let body_timeout = BodyTimeout(settings.http.body_timeout());
            let server = HttpServer::new(move || {
                dialect_app(contexts.clone(), map.clone(), recorder.clone()).app_data(body_timeout)
            })
            .disable_signals()
            .shutdown_timeout(SHUTDOWN_GRACE_SECS)
            .workers(workers)
            .client_request_timeout(settings.http.header_timeout())
            .keep_alive(keep_alive(&settings.http))
            // actix counts connections per worker.
            .max_connections((settings.http.max_connections as usize).div_ceil(workers))
            .listen(listener)?
            .run();
            tracing::info!(address = %bound, dialects = %group.names(), "listening");
            servers.push(server);
        }

        let ops_listener = TcpListener::bind(settings.ops_listen)
            .with_context(|| format!("binding ops listener {}", settings.ops_listen))?;
        let ops_bound = ops_listener.local_addr()?;
        addresses.insert("ops".to_owned(), ops_bound);
        let state = OpsState {
            service: service.clone(),
            metrics,
            cutover: cutover.clone(),
            admin_token: settings.ops.admin_token.clone(),
            openapi: Arc::new(documents),
        };
        if state.admin_token.is_none() {
            tracing::info!("admin API off (ops.admin_token is not set)");
        }
        let ops_server = HttpServer::new(move || ops::app(state.clone()))
            .disable_signals()
            .shutdown_timeout(SHUTDOWN_GRACE_SECS)
            .listen(ops_listener)?
            .run();
        tracing::info!(address = %ops_bound, "ops listening");
        servers.push(ops_server);

        Ok(Application {
            servers,
            addresses,
            service,
            recorder,
            cutover,
        })
    }

    pub fn address(&self, name: &str) -> Option<SocketAddr> {
        self.addresses.get(name).copied()
    }

    /// Every bound listener by name (dialect ids and `ops`).
    pub fn addresses(&self) -> &BTreeMap<String, SocketAddr> {
        &self.addresses
    }

    /// Handles that stop the listeners from anywhere.
    pub fn handles(&self) -> Vec<ServerHandle> {
        self.servers.iter().map(Server::handle).collect()
    }

    /// Follows the dialect modes stored through the admin API (by any process), in the
    /// background of the current runtime.
    fn follow_stored_modes(&self) -> actix_web::rt::task::JoinHandle<()> {
        actix_web::rt::spawn(crate::cutover::follow_stored_modes(
            self.service.clone(),
            self.cutover.clone(),
        ))
    }

    /// Serves until every listener has been stopped through its handle.
    pub async fn serve(self) -> std::io::Result<()> {
        let follower = self.follow_stored_modes();
        let results = futures_util::future::join_all(self.servers).await;
        follower.abort();
        for result in results {
            result?;
        }
        Ok(())
    }

    /// Serves in the background and returns at once.
    pub fn spawn(self) -> RunningApplication {
        let follower = self.follow_stored_modes();
        let handles = self.servers.iter().map(Server::handle).collect();
        for server in self.servers {
            actix_web::rt::spawn(server);
        }
        RunningApplication {
            handles,
            addresses: self.addresses,
            service: self.service,
            recorder: self.recorder,
            follower,
        }
    }

    /// Every dialect's mode, switchable while serving.
    pub fn cutover(&self) -> Arc<Cutover> {
        self.cutover.clone()
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish and stops. On
    /// SIGHUP, `reload` reads the settings again and the dialects' modes and legacy URLs (and the
    /// shadow rules) take effect at once.
    pub async fn run_until_stopped(
        self,
        reload: impl Fn() -> Result<Settings, crate::settings::SettingsError> + 'static,
    ) -> anyhow::Result<()> {
        let reloader =
            actix_web::rt::spawn(reload_on_hangup(self.cutover.clone(), hangups(), reload));
        let service = self.service.clone();
        let janitor = actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(600));
            loop {
                tick.tick().await;
                match service.purge_expired().await {
                    Ok((sessions, others)) if sessions + others > 0 => {
                        tracing::info!(sessions, others, "expired rows purged");
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "purging expired rows failed"),
                }
            }
        });
        let running = self.spawn();
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        janitor.abort();
        reloader.abort();
        running.stop().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Applies the reloaded settings' modes on every hangup; a reload that fails changes nothing.
async fn reload_on_hangup(
    cutover: Arc<Cutover>,
    mut hangups: impl futures_util::Stream<Item = ()> + Unpin,
    reload: impl Fn() -> Result<Settings, crate::settings::SettingsError>,
) {
    use futures_util::StreamExt;
    while hangups.next().await.is_some() {
        let applied = reload()
            .map_err(|err| err.to_string())
            .and_then(|settings| cutover.reload(&settings));
        match applied {
            Ok(changes) if changes.is_empty() => {
                tracing::info!("SIGHUP: settings read again, no mode changed");
            }
            Ok(changes) => {
                for change in changes {
                    tracing::warn!(%change, "SIGHUP: applied");
                }
                tracing::info!(
                    "SIGHUP: dialect modes, legacy URLs and legacy.accept are applied; other \
                     settings take effect at the next start"
                );
            }
            Err(err) => {
                tracing::error!(error = %err, "SIGHUP: settings not reloaded, nothing changed");
            }
        }
    }
}

/// Every SIGHUP the process gets, from now on (the signal no longer ends it).
fn hangups() -> futures_util::stream::LocalBoxStream<'static, ()> {
    use futures_util::StreamExt;
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => futures_util::stream::unfold(signal, |mut signal| async move {
            signal.recv().await.map(|()| ((), signal))
        })
        .boxed_local(),
        Err(err) => {
            tracing::error!(error = %err, "cannot listen for SIGHUP: modes change through the admin API only");
            futures_util::stream::pending().boxed_local()
        }
    }
    #[cfg(not(unix))]
    futures_util::stream::pending().boxed_local()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Dialects that share one listen address (port 0 always gets a listener of its own).
struct ListenerGroup {
    address: SocketAddr,
    /// `(dialect, prefix)`, longest prefix first.
    dialects: Vec<(&'static DialectSpec, String)>,
}

impl ListenerGroup {
    fn names(&self) -> String {
        self.dialects
            .iter()
            .map(|(spec, prefix)| {
                if prefix.is_empty() {
                    spec.id.to_owned()
                } else {
                    format!("{}@{prefix}", spec.id)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn listener_groups(settings: &Settings) -> Vec<ListenerGroup> {
    let mut groups: Vec<ListenerGroup> = Vec::new();
    for spec in dialects::registry() {
        let Some(dialect) = settings.dialects.get(spec.id).filter(|d| d.enabled) else {
            continue;
        };
        let shared = dialect.listen.port() != 0;
        match groups
            .iter_mut()
            .find(|g| shared && g.address == dialect.listen)
        {
            Some(group) => group.dialects.push((*spec, dialect.prefix.clone())),
            None => groups.push(ListenerGroup {
                address: dialect.listen,
                dialects: vec![(*spec, dialect.prefix.clone())],
            }),
        }
    }
    for group in &mut groups {
        group
            .dialects
            .sort_by_key(|(_, prefix)| std::cmp::Reverse(prefix.len()));
    }
    groups
}

/// Records the exchange when recording is on.
async fn maybe_record(
    recorder: Option<Arc<Recorder>>,
    map: ListenerMap,
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    match recorder {
        Some(recorder) => record(recorder, map, req, next).await,
        None => next
            .call(req)
            .await
            .map(actix_web::dev::ServiceResponse::map_into_boxed_body),
    }
}

/// actix's keep-alive setting from `http.keep_alive_seconds` (0 turns it off).
fn keep_alive(http: &HttpSettings) -> KeepAlive {
    match http.keep_alive_seconds {
        0 => KeepAlive::Disabled,
        _ => KeepAlive::Timeout(http.keep_alive()),
    }
}

/// One listener's application: each dialect in a scope at its prefix, unknown paths answered in
/// the envelope of the dialect that owns them.
fn dialect_app(
    dialects: Vec<(&'static DialectSpec, DialectCutover)>,
    map: ListenerMap,
    recorder: Option<Arc<Recorder>>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let observed = map.clone();
    let recorded = map.clone();
    let mut app = App::new()
        .wrap(from_fn(move |req, next| {
            maybe_record(recorder.clone(), recorded.clone(), req, next)
        }))
        .wrap(from_fn(move |req, next| {
            observe(observed.clone(), req, next)
        }));
    let mut sole_owner: Option<(&'static DialectSpec, DialectContext)> = None;
    if let [(spec, cut)] = dialects.as_slice() {
        sole_owner = Some((*spec, cut.ctx.clone()));
    }
    for (spec, cut) in dialects {
        let ctx = cut.ctx.clone();
        // Shared by every request of the dialect: one reference count, not a copy of its settings.
        let cut = Arc::new(cut);
        let prefix = ctx.settings.prefix.clone();
        let hook_ctx = ctx.clone();
        app = app.service(
            web::scope(&prefix)
                .configure(install_extractor_handlers)
                .configure(|cfg| (spec.mount)(cfg, &ctx))
                .default_service(web::to(not_found))
                .wrap(from_fn(move |req, next| {
                    render_failures(spec.framework_error, hook_ctx.clone(), req, next)
                }))
                // Outermost in the scope: a proxied answer is the legacy backend's, untouched.
                .wrap(from_fn(move |req, next| carry_out(cut.clone(), req, next))),
        );
    }
    // Paths outside every prefix: the listener's only dialect answers them, if it has one.
    app.default_service(web::to(move |req: HttpRequest| {
        let owner = sole_owner.clone();
        async move {
            match owner {
                Some((spec, ctx)) => (spec.framework_error)(req, ctx, FrameworkError::NotFound)
                    .await
                    .to_response(),
                None => HttpResponse::NotFound().finish(),
            }
        }
    }))
}
