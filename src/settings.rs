//! Typed settings, layered with the `config` crate: built-in defaults, then a TOML file
//! (`--config FILE`, else `./rosetta.toml` if present), then `ROSETTA__<SECTION>__<KEY>`
//! environment variables. An unknown key or a bad value stops start-up with the key's name.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, Environment, File, FileFormat, Value, ValueKind};
use serde::Deserialize;

use crate::dialects::{self, OwnDefault, OwnKey, OwnKind};

/// The ids of the operator contract, whether or not this build serves them yet.
pub const CONTRACT_DIALECTS: [&str; 5] =
    ["struts", "code_sec", "rest", "code_result", "error_code"];

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    // Not a `#[source]`: its text is the whole message, and a chain would print it twice.
    #[error("configuration: {0}")]
    Load(config::ConfigError),
    /// An error that one source alone causes, named: the file, or the environment variable.
    #[error("{origin}: {error}")]
    In {
        origin: String,
        error: Box<SettingsError>,
    },
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl From<config::ConfigError> for SettingsError {
    fn from(err: config::ConfigError) -> SettingsError {
        SettingsError::Load(err)
    }
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://rosetta.db".into(),
            pool_size: 8,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsSettings {
    pub listen: String,
    pub admin_token: Option<String>,
    /// Distinct client labels per dialect in the metrics; later clients are `other`.
    pub client_labels: usize,
}

impl Default for OpsSettings {
    fn default() -> Self {
        OpsSettings {
            listen: "127.0.0.1:8080".into(),
            admin_token: None,
            client_labels: crate::ops::metrics::DEFAULT_CLIENT_LABELS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    Log,
    Webhook,
    Aliyun,
    Tencent,
}

impl SmsProvider {
    pub fn name(self) -> &'static str {
        match self {
            SmsProvider::Log => "log",
            SmsProvider::Webhook => "webhook",
            SmsProvider::Aliyun => "aliyun",
            SmsProvider::Tencent => "tencent",
        }
    }
}

/// A credential: read like any other setting, never printed.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "<empty>"
        } else {
            "<secret>"
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsSettings {
    pub provider: SmsProvider,
    /// Takes the messages the provider failed to deliver.
    pub fallback: Option<SmsProvider>,
    pub webhook_url: Option<String>,
    pub code_ttl_seconds: u64,
    pub resend_interval_seconds: u64,
    pub daily_limit_per_phone: u32,
    pub hourly_limit_per_ip: u32,
    pub aliyun: AliyunSettings,
    pub tencent: TencentSettings,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            provider: SmsProvider::Log,
            fallback: None,
            webhook_url: None,
            code_ttl_seconds: 300,
            resend_interval_seconds: 60,
            daily_limit_per_phone: 10,
            hourly_limit_per_ip: 30,
            aliyun: AliyunSettings::default(),
            tencent: TencentSettings::default(),
        }
    }
}

impl SmsSettings {
    /// Whether the provider or the fallback is `provider`.
    pub fn uses(&self, provider: SmsProvider) -> bool {
        self.provider == provider || self.fallback == Some(provider)
    }

    /// Checks that every provider in use has what it needs.
    fn validate(&mut self) -> Result<(), SettingsError> {
        let role = |provider: SmsProvider| {
            if self.provider == provider {
                format!("sms.provider = \"{}\"", provider.name())
            } else {
                format!("sms.fallback = \"{}\"", provider.name())
            }
        };
        match self.fallback {
            Some(fallback) if fallback == self.provider => {
                return Err(invalid(
                    "sms.fallback",
                    "must be another provider than sms.provider",
                ));
            }
            Some(SmsProvider::Log) => {
                return Err(invalid(
                    "sms.fallback",
                    "cannot be \"log\": it reaches no phone (use webhook, aliyun or tencent)",
                ));
            }
            _ => {}
        }
        if self.uses(SmsProvider::Webhook) {
            let why = role(SmsProvider::Webhook);
            let url = self
                .webhook_url
                .as_deref()
                .ok_or_else(|| invalid("sms.webhook_url", format!("is required when {why}")))?;
            // A relay's URL may carry a query (a key of its own), unlike a base URL.
            let url = url.trim();
            let authority = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .and_then(|rest| rest.split(['/', '?']).next())
                .unwrap_or_default();
            if authority.is_empty() || url.contains(char::is_whitespace) {
                return Err(invalid(
                    "sms.webhook_url",
                    format!("`{url}` must be a URL like https://relay.example.com/sms"),
                ));
            }
            self.webhook_url = Some(url.to_owned());
        }
        if self.uses(SmsProvider::Aliyun) {
            let why = role(SmsProvider::Aliyun);
            let aliyun = &mut self.aliyun;
            require(
                "sms.aliyun",
                &why,
                &[
                    ("access_key_id", aliyun.access_key_id.as_str()),
                    ("access_key_secret", aliyun.access_key_secret.expose()),
                    ("sign_name", aliyun.sign_name.as_str()),
                    ("template_code", aliyun.template_code.as_str()),
                ],
            )?;
            if !matches!(aliyun.signature.as_str(), "v3" | "v2") {
                return Err(invalid(
                    "sms.aliyun.signature",
                    format!("`{}` is not \"v3\" or \"v2\"", aliyun.signature),
                ));
            }
            aliyun.endpoint = check_base_url(&aliyun.endpoint, "https://dysmsapi.aliyuncs.com")
                .map_err(|message| invalid("sms.aliyun.endpoint", message))?;
        }
        if self.uses(SmsProvider::Tencent) {
            let why = role(SmsProvider::Tencent);
            let tencent = &mut self.tencent;
            require(
                "sms.tencent",
                &why,
                &[
                    ("secret_id", tencent.secret_id.as_str()),
                    ("secret_key", tencent.secret_key.expose()),
                    ("sdk_app_id", tencent.sdk_app_id.as_str()),
                    ("sign_name", tencent.sign_name.as_str()),
                    ("template_id", tencent.template_id.as_str()),
                    ("region", tencent.region.as_str()),
                ],
            )?;
            tencent.endpoint = check_base_url(&tencent.endpoint, "https://sms.tencentcloudapi.com")
                .map_err(|message| invalid("sms.tencent.endpoint", message))?;
        }
        Ok(())
    }
}

/// The first of `keys` of `section` left empty, named with `why` it is needed.
fn require(section: &str, why: &str, keys: &[(&str, &str)]) -> Result<(), SettingsError> {
    match keys.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((key, _)) => Err(invalid(
            format!("{section}.{key}"),
            format!("is required when {why}"),
        )),
        None => Ok(()),
    }
}

/// Aliyun SMS (`[sms.aliyun]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AliyunSettings {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    pub sign_name: String,
    pub template_code: String,
    pub endpoint: String,
    /// `v3` (`ACS3-HMAC-SHA256`) or `v2` (HMAC-SHA1).
    pub signature: String,
}

impl Default for AliyunSettings {
    fn default() -> Self {
        AliyunSettings {
            access_key_id: String::new(),
            access_key_secret: Secret::default(),
            sign_name: String::new(),
            template_code: String::new(),
            endpoint: "https://dysmsapi.aliyuncs.com".into(),
            signature: "v3".into(),
        }
    }
}

/// Tencent Cloud SMS (`[sms.tencent]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TencentSettings {
    pub secret_id: String,
    pub secret_key: Secret,
    pub sdk_app_id: String,
    pub sign_name: String,
    pub template_id: String,
    pub region: String,
    pub endpoint: String,
}

impl Default for TencentSettings {
    fn default() -> Self {
        TencentSettings {
            secret_id: String::new(),
            secret_key: Secret::default(),
            sdk_app_id: String::new(),
            sign_name: String::new(),
            template_id: String::new(),
            region: "ap-guangzhou".into(),
            endpoint: "https://sms.tencentcloudapi.com".into(),
        }
    }
}

/// The environment variables the providers' own SDKs read credentials from, and the settings
/// they stand in for when neither the file nor a `ROSETTA__…` variable gives them.
const PROVIDER_ENVIRONMENT: [(&str, &str); 4] = [
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "sms.aliyun.access_key_id"),
    (
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "sms.aliyun.access_key_secret",
    ),
    ("TENCENTCLOUD_SECRET_ID", "sms.tencent.secret_id"),
    ("TENCENTCLOUD_SECRET_KEY", "sms.tencent.secret_key"),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    pub bcrypt_cost: u32,
    pub lockout_threshold: u32,
    pub login_attempts_per_ip_per_minute: u32,
    pub failed_guesses_per_ip_per_minute: u32,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            bcrypt_cost: 10,
            lockout_threshold: 5,
            login_attempts_per_ip_per_minute: 20,
            failed_guesses_per_ip_per_minute: 30,
        }
    }
}

/// How long the dialect listeners wait for slow clients, and how many they hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// A client must send its request head within this time.
    pub header_timeout_seconds: u64,
    /// A request body must arrive whole within this time after its head.
    pub body_timeout_seconds: u64,
    /// An idle kept-alive connection is closed after this time (0 = no keep-alive).
    pub keep_alive_seconds: u64,
    /// Connections a listener holds at once; past it, new ones wait in the accept queue.
    pub max_connections: u32,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            header_timeout_seconds: 5,
            body_timeout_seconds: 10,
            keep_alive_seconds: 5,
            max_connections: 10_000,
        }
    }
}

impl HttpSettings {
    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_seconds)
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_seconds)
    }

    pub fn keep_alive(&self) -> Duration {
        Duration::from_secs(self.keep_alive_seconds)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TestingSettings {
    pub enabled: bool,
    pub fixed_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordSettings {
    pub enabled: bool,
    pub dir: String,
    pub redact: bool,
}

impl Default for RecordSettings {
    fn default() -> Self {
        RecordSettings {
            enabled: false,
            dir: "recordings".into(),
            redact: true,
        }
    }
}

/// How a dialect's requests are answered during a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Rosetta answers.
    #[default]
    Serve,
    /// Rosetta answers; side-effect-free requests are also sent to the legacy backend and the
    /// two answers compared.
    Shadow,
    /// The legacy backend answers, through Rosetta.
    Proxy,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Serve => "serve",
            Mode::Shadow => "shadow",
            Mode::Proxy => "proxy",
        }
    }

    pub fn parse(text: &str) -> Option<Mode> {
        match text.trim() {
            "serve" => Some(Mode::Serve),
            "shadow" => Some(Mode::Shadow),
            "proxy" => Some(Mode::Proxy),
            _ => None,
        }
    }
}

/// Checks a legacy backend's base URL: `http(s)://host:port[/path]`, without a query.
pub fn check_legacy_url(url: &str) -> Result<String, String> {
    check_base_url(
        url,
        "http://10.0.0.5:8080 (with the legacy path prefix, if any)",
    )
}

/// Checks an `http://` or `https://` URL with a host and without a query or fragment; returns
/// it without a trailing slash. `example` completes the message when it is not one.
pub fn check_base_url(url: &str, example: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return Err(format!("`{url}` must be a URL like {example}"));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty()
        || url.contains('?')
        || url.contains('#')
        || url.contains(char::is_whitespace)
    {
        return Err(format!(
            "`{url}` must be a URL like {example}, without a query"
        ));
    }
    Ok(url.to_owned())
}

/// The legacy backends of `shadow` and `proxy` modes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LegacySettings {
    /// How long a request to a legacy backend may take, answer included.
    pub timeout_seconds: u64,
    /// The accepted-differences rules file for shadow comparisons (the one `rosetta replay
    /// --accept` reads).
    pub accept: Option<String>,
    /// How many differing shadow comparisons are kept for inspection (the newest).
    pub keep_differences: usize,
    /// Shadow requests waiting for a legacy answer at once; beyond it, reads are not compared.
    pub shadow_in_flight: usize,
}

impl Default for LegacySettings {
    fn default() -> Self {
        LegacySettings {
            timeout_seconds: 10,
            accept: None,
            keep_differences: 100,
            shadow_in_flight: 32,
        }
    }
}

/// A value of one of a dialect's own keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnValue {
    UInt(u64),
    Text(String),
    Bool(bool),
    Unset,
}

/// One dialect's settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialectSettings {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// `""` or `/segment[/segment…]`, never ending in `/`.
    pub prefix: String,
    pub mode: Mode,
    /// The legacy backend's base URL for this dialect (`shadow` and `proxy` need it).
    pub legacy_url: Option<String>,
    pub own: BTreeMap<&'static str, OwnValue>,
}

impl DialectSettings {
    /// A declared unsigned key; start-up has checked its kind, so the declared default only
    /// stands in for a key the dialect did not declare (a programming error caught by tests).
    pub fn uint(&self, key: &OwnKey) -> u64 {
        match (self.own.get(key.name), key.default) {
            (Some(OwnValue::UInt(v)), _) => *v,
            (_, OwnDefault::UInt(v)) => v,
            _ => 0,
        }
    }

    /// A declared text key; `None` when it has no default and the operator left it unset.
    pub fn text(&self, key: &OwnKey) -> Option<&str> {
        match (self.own.get(key.name), key.default) {
            (Some(OwnValue::Text(v)), _) => Some(v),
            (Some(OwnValue::Unset), _) => None,
            (_, OwnDefault::Text(v)) => Some(v),
            _ => None,
        }
    }

    pub fn flag(&self, key: &OwnKey) -> bool {
        match (self.own.get(key.name), key.default) {
            (Some(OwnValue::Bool(v)), _) => *v,
            (_, OwnDefault::Bool(v)) => v,
            _ => false,
        }
    }
}

/// The raw sections as the file and environment give them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSettings {
    database: DatabaseSettings,
    ops: OpsSettings,
    sms: SmsSettings,
    security: SecuritySettings,
    http: HttpSettings,
    testing: TestingSettings,
    record: RecordSettings,
    legacy: LegacySettings,
    dialects: BTreeMap<String, BTreeMap<String, Value>>,
}

/// All settings, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub ops: OpsSettings,
    pub ops_listen: SocketAddr,
    pub sms: SmsSettings,
    pub security: SecuritySettings,
    pub http: HttpSettings,
    pub testing: TestingSettings,
    pub record: RecordSettings,
    pub legacy: LegacySettings,
    /// Every dialect compiled into this build, by id.
    pub dialects: BTreeMap<&'static str, DialectSettings>,
    /// Things an operator should hear about at start (test hooks on, sections ignored).
    pub warnings: Vec<String>,
}

impl Settings {
    /// Loads defaults, then `file` (or `./rosetta.toml` when present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        let file = match file {
            Some(path) if !path.exists() => {
                return Err(SettingsError::MissingFile(path.to_owned()));
            }
            Some(path) => Some(path),
            None => Some(Path::new("rosetta.toml")).filter(|default| default.exists()),
        };
        let mut builder = with_provider_environment(Config::builder())?;
        if let Some(path) = file {
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        let combined = builder
            .add_source(environment())
            .build()
            .map_err(SettingsError::from)
            .and_then(Settings::from_config);
        combined.map_err(|error| Settings::name_the_origin(file, error))
    }

    /// Finds the one source that causes `error` on its own — the file, or a single
    /// `ROSETTA__…` variable — and names it; an error only the sources together cause is
    /// returned as it is.
    fn name_the_origin(file: Option<&Path>, error: SettingsError) -> SettingsError {
        // The providers' own variables are defaults beneath every source, so each source is
        // judged with them.
        let Ok(base) = with_provider_environment(Config::builder()) else {
            return error;
        };
        if let Some(path) = file {
            let alone = base
                .clone()
                .add_source(File::from(path).format(FileFormat::Toml))
                .build()
                .map_err(SettingsError::from)
                .and_then(Settings::from_config);
            if let Err(own) = alone {
                return SettingsError::In {
                    origin: path.display().to_string(),
                    error: Box::new(own),
                };
            }
        }
        for (name, value) in std::env::vars().filter(|(name, _)| name.starts_with("ROSETTA__")) {
            let only = std::collections::HashMap::from([(name.clone(), value)]);
            let alone = base
                .clone()
                .add_source(environment().source(Some(only)))
                .build()
                .map_err(SettingsError::from)
                .and_then(Settings::from_config);
            if let Err(own) = alone {
                return SettingsError::In {
                    origin: format!("environment variable {name}"),
                    error: Box::new(own),
                };
            }
        }
        error
    }

    /// Settings from TOML text, with the environment ignored (tests and examples).
    pub fn from_toml(text: &str) -> Result<Settings, SettingsError> {
        Settings::from_toml_layers(&[text])
    }

    /// Settings from TOML layers, each overriding the keys of the ones before it.
    pub fn from_toml_layers(layers: &[&str]) -> Result<Settings, SettingsError> {
        let mut builder = Config::builder();
        for layer in layers {
            builder = builder.add_source(File::from_str(layer, FileFormat::Toml));
        }
        Settings::from_config(builder.build()?)
    }

    fn from_config(config: Config) -> Result<Settings, SettingsError> {
        let raw: RawSettings = config.try_deserialize()?;
        raw.validate()
    }

    pub fn code_ttl(&self) -> Duration {
        Duration::from_secs(self.sms.code_ttl_seconds)
    }
}

/// The providers' credentials from the variables their own tools read, as defaults.
fn with_provider_environment(
    mut builder: config::builder::ConfigBuilder<config::builder::DefaultState>,
) -> Result<config::builder::ConfigBuilder<config::builder::DefaultState>, config::ConfigError> {
    for (variable, key) in PROVIDER_ENVIRONMENT {
        if let Ok(value) = std::env::var(variable)
            && !value.is_empty()
        {
            builder = builder.set_default(key, value)?;
        }
    }
    Ok(builder)
}

fn environment() -> Environment {
    Environment::with_prefix("ROSETTA")
        .prefix_separator("__")
        .separator("__")
}

impl RawSettings {
    fn validate(mut self) -> Result<Settings, SettingsError> {
        let mut warnings = Vec::new();
        crate::storage::DatabaseUrl::parse(&self.database.url).map_err(|_| {
            invalid(
                "database.url",
                format!(
                    "`{}` is not supported: use sqlite://<path> or postgres://user@host/db",
                    crate::storage::redact_url(&self.database.url)
                ),
            )
        })?;
        if !(1..=256).contains(&self.database.pool_size) {
            return Err(invalid("database.pool_size", "must be between 1 and 256"));
        }
        let ops_listen = parse_listen("ops.listen", &self.ops.listen)?;
        if let Some(token) = &self.ops.admin_token {
            if token.is_empty() {
                return Err(invalid(
                    "ops.admin_token",
                    "must not be empty (leave it out to turn the admin API off)",
                ));
            }
            if token.len() < 16 {
                warnings.push("ops.admin_token is shorter than 16 characters".to_owned());
            }
        }
        self.sms.validate()?;
        if self.sms.code_ttl_seconds == 0 {
            return Err(invalid("sms.code_ttl_seconds", "must be at least 1"));
        }
        let floor = if self.testing.enabled { 4 } else { 10 };
        if self.security.bcrypt_cost < floor || self.security.bcrypt_cost > 31 {
            return Err(invalid(
                "security.bcrypt_cost",
                format!("must be between {floor} and 31 (below 10 only with testing.enabled)"),
            ));
        }
        if let Some(code) = &self.testing.fixed_code {
            if !self.testing.enabled {
                return Err(invalid(
                    "testing.fixed_code",
                    "requires testing.enabled = true",
                ));
            }
            if !(4..=6).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("testing.fixed_code", "must be 4 to 6 digits"));
            }
            warnings.push(format!(
                "test mode: every SMS and picture code is {code} (testing.fixed_code)"
            ));
        }
        for (key, seconds) in [
            (
                "http.header_timeout_seconds",
                self.http.header_timeout_seconds,
            ),
            ("http.body_timeout_seconds", self.http.body_timeout_seconds),
        ] {
            if !(1..=3600).contains(&seconds) {
                return Err(invalid(key, "must be between 1 and 3600"));
            }
        }
        if self.http.keep_alive_seconds > 3600 {
            return Err(invalid(
                "http.keep_alive_seconds",
                "must be at most 3600 (0 turns keep-alive off)",
            ));
        }
        if self.http.max_connections == 0 {
            return Err(invalid("http.max_connections", "must be at least 1"));
        }
        if self.testing.enabled {
            warnings
                .push("test mode is on (testing.enabled): never use it in production".to_owned());
        }
        if !(1..=300).contains(&self.legacy.timeout_seconds) {
            return Err(invalid(
                "legacy.timeout_seconds",
                "must be between 1 and 300",
            ));
        }
        if self.legacy.shadow_in_flight == 0 {
            return Err(invalid("legacy.shadow_in_flight", "must be at least 1"));
        }
        if let Some(path) = &self.legacy.accept
            && let Err(problem) = crate::replay::accept::Rules::load(Path::new(path))
        {
            return Err(invalid("legacy.accept", problem));
        }
        if self.record.enabled && self.record.dir.is_empty() {
            return Err(invalid(
                "record.dir",
                "must not be empty when recording is enabled",
            ));
        }

        let mut raw_dialects = self.dialects;
        let mut dialects = BTreeMap::new();
        for spec in dialects::registry() {
            let section = raw_dialects.remove(spec.id).unwrap_or_default();
            let resolved = resolve_dialect(spec, section, self.testing.enabled, &mut warnings)?;
            dialects.insert(spec.id, resolved);
        }
        for (id, _) in raw_dialects {
            if CONTRACT_DIALECTS.contains(&id.as_str()) {
                warnings.push(format!(
                    "[dialects.{id}] is ignored: this build does not serve that dialect yet"
                ));
            } else {
                return Err(invalid(
                    format!("dialects.{id}"),
                    format!("unknown dialect (known: {})", CONTRACT_DIALECTS.join(", ")),
                ));
            }
        }
        check_listeners(&dialects, ops_listen)?;
        Ok(Settings {
            database: self.database,
            ops: self.ops,
            ops_listen,
            sms: self.sms,
            security: self.security,
            http: self.http,
            testing: self.testing,
            record: self.record,
            legacy: self.legacy,
            dialects,
            warnings,
        })
    }
}

/// A listen address: an IP address with its port, or a host name with its port that resolves
/// (`localhost:8085`; an IPv4 address of the name is preferred).
fn parse_listen(key: &str, text: &str) -> Result<SocketAddr, SettingsError> {
    use std::net::ToSocketAddrs;
    let text = text.trim();
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let resolved: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    resolved
        .iter()
        .find(|address| address.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| {
            invalid(
                key,
                format!(
                    "`{text}` is neither an address like 127.0.0.1:8085 nor a host name with a \
                     port (localhost:8085) that resolves"
                ),
            )
        })
}

fn resolve_dialect(
    spec: &dialects::DialectSpec,
    mut section: BTreeMap<String, Value>,
    testing: bool,
    warnings: &mut Vec<String>,
) -> Result<DialectSettings, SettingsError> {
    let id = spec.id;
    let key = |name: &str| format!("dialects.{id}.{name}");
    let enabled = match section.remove("enabled") {
        Some(value) => strict_bool(&key("enabled"), &value)?,
        None => true,
    };
    let listen = match section.remove("listen") {
        Some(value) => parse_listen(&key("listen"), &strict_text(&key("listen"), &value)?)?,
        None => SocketAddr::from(([127, 0, 0, 1], spec.default_port)),
    };
    let prefix = match section.remove("prefix") {
        Some(value) => normalise_prefix(&key("prefix"), &strict_text(&key("prefix"), &value)?)?,
        None => String::new(),
    };
    let mode = match section.remove("mode") {
        Some(value) => {
            let text = strict_text(&key("mode"), &value)?;
            Mode::parse(&text).ok_or_else(|| {
                invalid(
                    key("mode"),
                    format!("`{text}` is not a mode: serve, shadow or proxy"),
                )
            })?
        }
        None => Mode::Serve,
    };
    let legacy_url = match section.remove("legacy_url") {
        Some(value) => {
            let text = strict_text(&key("legacy_url"), &value)?;
            if text.trim().is_empty() {
                None
            } else {
                Some(check_legacy_url(&text).map_err(|why| invalid(key("legacy_url"), why))?)
            }
        }
        None => None,
    };
    if mode != Mode::Serve && legacy_url.is_none() {
        return Err(invalid(
            key("legacy_url"),
            format!("is required when mode = \"{}\"", mode.as_str()),
        ));
    }
    let mut own = BTreeMap::new();
    for OwnKey {
        name,
        kind,
        default,
        test_only,
        ..
    } in spec.own_keys
    {
        let value = match section.remove(*name) {
            Some(value) => {
                let parsed = match kind {
                    OwnKind::UInt => OwnValue::UInt(strict_uint(&key(name), &value)?),
                    OwnKind::Text => OwnValue::Text(strict_text(&key(name), &value)?),
                    OwnKind::Bool => OwnValue::Bool(strict_bool(&key(name), &value)?),
                };
                if *test_only {
                    if !testing {
                        return Err(invalid(
                            key(name),
                            "is a test-only option: it requires testing.enabled = true",
                        ));
                    }
                    warnings.push(format!("test mode: {} is on", key(name)));
                }
                parsed
            }
            None => match default {
                OwnDefault::UInt(v) => OwnValue::UInt(*v),
                OwnDefault::Text(v) => OwnValue::Text((*v).to_owned()),
                OwnDefault::Bool(v) => OwnValue::Bool(*v),
                OwnDefault::Unset => OwnValue::Unset,
            },
        };
        own.insert(*name, value);
    }
    if let Some(unknown) = section.keys().next() {
        let mut known: Vec<&str> = vec!["enabled", "listen", "prefix", "mode", "legacy_url"];
        known.extend(spec.own_keys.iter().map(|k| k.name));
        return Err(invalid(
            key(unknown),
            format!("unknown key (known: {})", known.join(", ")),
        ));
    }
    let settings = DialectSettings {
        enabled,
        listen,
        prefix,
        mode,
        legacy_url,
        own,
    };
    if let Some(check) = spec.check_settings {
        check(&settings).map_err(|problem| invalid(key(problem.key), problem.reason))?;
    }
    Ok(settings)
}

fn strict_bool(key: &str, value: &Value) -> Result<bool, SettingsError> {
    match &value.kind {
        ValueKind::Boolean(b) => Ok(*b),
        ValueKind::String(s) if s == "true" => Ok(true),
        ValueKind::String(s) if s == "false" => Ok(false),
        _ => Err(invalid(key, "must be true or false")),
    }
}

fn strict_uint(key: &str, value: &Value) -> Result<u64, SettingsError> {
    let parsed = match &value.kind {
        ValueKind::I64(v) => u64::try_from(*v).ok(),
        ValueKind::I128(v) => u64::try_from(*v).ok(),
        ValueKind::U64(v) => Some(*v),
        ValueKind::U128(v) => u64::try_from(*v).ok(),
        ValueKind::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| invalid(key, "must be a whole number of 0 or more"))
}

fn strict_text(key: &str, value: &Value) -> Result<String, SettingsError> {
    match &value.kind {
        ValueKind::String(s) => Ok(s.clone()),
        ValueKind::I64(v) => Ok(v.to_string()),
        ValueKind::U64(v) => Ok(v.to_string()),
        _ => Err(invalid(key, "must be a string")),
    }
}

fn normalise_prefix(key: &str, text: &str) -> Result<String, SettingsError> {
    let trimmed = text.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let valid = trimmed.starts_with('/')
        && trimmed[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
        });
    if !valid {
        return Err(invalid(
            key,
            format!("`{text}` is not a path prefix like /blueu"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Two dialects on one address need prefixes that do not contain each other.
fn check_listeners(
    dialects: &BTreeMap<&'static str, DialectSettings>,
    ops: SocketAddr,
) -> Result<(), SettingsError> {
    let enabled: Vec<(&&str, &DialectSettings)> =
        dialects.iter().filter(|(_, d)| d.enabled).collect();
    for (i, (id, a)) in enabled.iter().enumerate() {
        if a.listen == ops && ops.port() != 0 {
            return Err(invalid(
                format!("dialects.{id}.listen"),
                "is the ops listener's address",
            ));
        }
        for (other, b) in &enabled[i + 1..] {
            // Port 0 asks for a fresh port per listener, so such dialects never share one.
            if a.listen != b.listen || a.listen.port() == 0 {
                continue;
            }
            if prefixes_overlap(&a.prefix, &b.prefix) {
                return Err(invalid(
                    format!("dialects.{other}.prefix"),
                    format!(
                        "`{}` overlaps dialect {id}'s prefix `{}` on {}: dialects sharing a listen address need distinct prefixes",
                        b.prefix, a.prefix, a.listen
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn prefixes_overlap(a: &str, b: &str) -> bool {
    let within = |short: &str, long: &str| {
        long == short || long.starts_with(&format!("{short}/")) || short.is_empty()
    };
    within(a, b) || within(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_takes_addresses_and_host_names_that_resolve() {
        assert_eq!(
            parse_listen("k", "127.0.0.1:8085").unwrap().to_string(),
            "127.0.0.1:8085"
        );
        assert_eq!(
            parse_listen("k", " localhost:8085 ").unwrap().to_string(),
            "127.0.0.1:8085"
        );
        let err = parse_listen("k", "localhost").unwrap_err().to_string();
        assert!(err.contains("nor a host name with a port"), "{err}");
        assert!(parse_listen("k", "no-such-host.invalid:1").is_err());
    }

    #[test]
    fn http_limits_are_checked() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s.http.header_timeout_seconds, 5);
        assert_eq!(s.http.body_timeout_seconds, 10);
        for bad in [
            "[http]\nheader_timeout_seconds = 0\n",
            "[http]\nbody_timeout_seconds = 0\n",
            "[http]\nkeep_alive_seconds = 4000\n",
            "[http]\nmax_connections = 0\n",
        ] {
            let err = Settings::from_toml(bad).unwrap_err().to_string();
            assert!(err.contains("http."), "{bad}: {err}");
        }
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s.database.url, "sqlite://rosetta.db");
        assert_eq!(s.ops_listen.to_string(), "127.0.0.1:8080");
        assert!(s.ops.admin_token.is_none());
        assert_eq!(s.sms.provider, SmsProvider::Log);
        assert_eq!(s.security.bcrypt_cost, 10);
        assert!(!s.testing.enabled);
        assert!(s.record.redact);
        #[cfg(feature = "error_code")]
        {
            let d = &s.dialects["error_code"];
            assert!(d.enabled);
            assert_eq!(d.listen.to_string(), "127.0.0.1:8085");
            assert_eq!(d.prefix, "");
        }
    }

    fn refusal(text: &str) -> String {
        Settings::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn unknown_keys_are_named() {
        assert!(refusal("[database]\nurll = 'x'\n").contains("urll"));
        assert!(refusal("[nonsense]\nx = 1\n").contains("nonsense"));
        assert!(refusal("[dialects.klingon]\nenabled = true\n").contains("dialects.klingon"));
        #[cfg(feature = "error_code")]
        assert!(
            refusal("[dialects.error_code]\ncolour = 'red'\n")
                .contains("dialects.error_code.colour")
        );
    }

    #[test]
    fn sms_providers_need_their_keys_and_name_the_missing_one() {
        let aliyun = "[sms.aliyun]\naccess_key_id = 'LTAI'\naccess_key_secret = 's'\n\
                      sign_name = '罗塞塔'\ntemplate_code = 'SMS_1'\n";
        let tencent = "[sms.tencent]\nsecret_id = 'AKID'\nsecret_key = 'k'\nsdk_app_id = '1400000000'\n\
                       sign_name = '罗塞塔'\ntemplate_id = '1234567'\n";
        let s = Settings::from_toml(&format!(
            "[sms]\nprovider = 'aliyun'\nfallback = 'tencent'\n{aliyun}{tencent}"
        ))
        .unwrap();
        assert_eq!(s.sms.provider, SmsProvider::Aliyun);
        assert_eq!(s.sms.fallback, Some(SmsProvider::Tencent));
        assert_eq!(s.sms.aliyun.endpoint, "https://dysmsapi.aliyuncs.com");
        assert_eq!(s.sms.aliyun.signature, "v3");
        assert_eq!(s.sms.tencent.region, "ap-guangzhou");
        assert_eq!(s.sms.tencent.endpoint, "https://sms.tencentcloudapi.com");
        // Secrets never show in a printout of the settings.
        let printed = format!("{:?}", s.sms);
        assert!(printed.contains("<secret>") && !printed.contains("secret_key: Secret(\"k\")"));
        assert!(!printed.contains("\"s\""), "{printed}");

        let without = |key: &str| {
            aliyun
                .lines()
                .filter(|line| !line.starts_with(key))
                .collect::<Vec<_>>()
                .join("\n")
        };
        for key in [
            "access_key_id",
            "access_key_secret",
            "sign_name",
            "template_code",
        ] {
            let text = format!("[sms]\nprovider = 'aliyun'\n{}\n", without(key));
            let refused = refusal(&text);
            assert!(refused.contains(&format!("sms.aliyun.{key}")), "{refused}");
            assert!(refused.contains("sms.provider = \"aliyun\""), "{refused}");
        }
        let as_fallback = refusal(
            "[sms]\nprovider = 'webhook'\nwebhook_url = 'http://r/sms'\nfallback = 'tencent'\n",
        );
        assert!(
            as_fallback.contains("sms.tencent.secret_id"),
            "{as_fallback}"
        );
        assert!(
            as_fallback.contains("sms.fallback = \"tencent\""),
            "{as_fallback}"
        );
        assert!(
            refusal(&format!(
                "[sms]\nprovider = 'aliyun'\n{aliyun}signature = 'v1'\n"
            ))
            .contains("sms.aliyun.signature")
        );
        assert!(
            refusal(&format!(
                "[sms]\nprovider = 'aliyun'\n{aliyun}endpoint = 'dysmsapi.aliyuncs.com'\n"
            ))
            .contains("sms.aliyun.endpoint")
        );
        assert!(
            refusal(&format!(
                "[sms]\nprovider = 'tencent'\n{tencent}endpoint = 'ftp://x'\n"
            ))
            .contains("sms.tencent.endpoint")
        );
        assert!(
            refusal(&format!(
                "[sms]\nprovider = 'aliyun'\nfallback = 'aliyun'\n{aliyun}"
            ))
            .contains("sms.fallback")
        );
        assert!(
            refusal(
                "[sms]\nprovider = 'webhook'\nwebhook_url = 'http://r/sms'\nfallback = 'log'\n"
            )
            .contains("reaches no phone")
        );
        // Keys of the section that is not in use are not required.
        assert!(
            Settings::from_toml("[sms]\nprovider = 'log'\n[sms.aliyun]\nsign_name = 'x'\n").is_ok()
        );
        assert!(refusal("[sms.aliyun]\naccess_key = 'x'\n").contains("access_key"));
    }

    #[test]
    fn webhooks_speak_http_and_https_and_may_carry_a_query() {
        for url in [
            "http://127.0.0.1:9000/sms",
            "https://relay.example.com/sms",
            "https://relay.example.com/sms?key=abc",
        ] {
            let s = Settings::from_toml(&format!(
                "[sms]\nprovider = 'webhook'\nwebhook_url = '{url}'\n"
            ))
            .unwrap();
            assert_eq!(s.sms.webhook_url.as_deref(), Some(url));
        }
        for url in ["relay.example.com/sms", "https:///sms", "ftp://relay/sms"] {
            let refused = refusal(&format!(
                "[sms]\nprovider = 'webhook'\nwebhook_url = '{url}'\n"
            ));
            assert!(refused.contains("sms.webhook_url"), "{url}: {refused}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        assert!(refusal("[database]\npool_size = 'many'\n").contains("database.pool_size"));
        assert!(refusal("[database]\nurl = 'mysql://x/y'\n").contains("database.url"));
        assert!(refusal("[ops]\nlisten = 'nowhere'\n").contains("ops.listen"));
        assert!(refusal("[security]\nbcrypt_cost = 4\n").contains("security.bcrypt_cost"));
        assert!(refusal("[testing]\nfixed_code = '123456'\n").contains("testing.fixed_code"));
        assert!(
            refusal("[testing]\nenabled = true\nfixed_code = '12'\n")
                .contains("testing.fixed_code")
        );
        assert!(refusal("[sms]\nprovider = 'webhook'\n").contains("sms.webhook_url"));
        assert!(refusal("[sms]\nprovider = 'pigeon'\n").contains("pigeon"));
        #[cfg(feature = "error_code")]
        {
            assert!(
                refusal("[dialects.error_code]\nenabled = 'yes'\n")
                    .contains("dialects.error_code.enabled")
            );
            assert!(
                refusal("[dialects.error_code]\nprefix = 'no-slash'\n")
                    .contains("dialects.error_code.prefix")
            );
            assert!(
                refusal("[dialects.error_code]\ntoken_ttl_seconds = -1\n")
                    .contains("token_ttl_seconds")
            );
            assert!(
                refusal("[dialects.error_code]\nlisten = '127.0.0.1:8080'\n")
                    .contains("ops listener")
            );
        }
    }

    #[test]
    fn test_mode_unlocks_test_hooks_with_warnings() {
        let s = Settings::from_toml(
            "[testing]\nenabled = true\nfixed_code = '0123'\n[security]\nbcrypt_cost = 4\n",
        )
        .unwrap();
        assert_eq!(s.testing.fixed_code.as_deref(), Some("0123"));
        assert!(s.warnings.iter().any(|w| w.contains("0123")));
        assert!(s.warnings.iter().any(|w| w.contains("test mode is on")));
    }

    #[test]
    fn contract_dialects_not_built_are_ignored_with_a_warning() {
        for id in CONTRACT_DIALECTS {
            let s = Settings::from_toml(&format!("[dialects.{id}]\nlisten = '127.0.0.1:9999'\n"))
                .unwrap();
            let ignored = s
                .warnings
                .iter()
                .any(|w| w.contains(&format!("[dialects.{id}] is ignored")));
            assert_eq!(ignored, dialects::find(id).is_none(), "{id}");
        }
    }

    #[test]
    fn prefixes() {
        assert!(prefixes_overlap("", "/a"));
        assert!(prefixes_overlap("/a", "/a/b"));
        assert!(prefixes_overlap("/a", "/a"));
        assert!(!prefixes_overlap("/a", "/ab"));
        assert!(!prefixes_overlap("/a", "/b"));
        assert_eq!(normalise_prefix("k", "/blueu/").unwrap(), "/blueu");
        assert!(normalise_prefix("k", "/a//b").is_err());
    }

    #[test]
    fn environment_overrides_use_double_underscores() {
        // The environment layer is exercised through `config` directly so the test does not
        // depend on (or change) this process's environment.
        let config = Config::builder()
            .add_source(File::from_str(
                "[database]\npool_size = 2\n",
                FileFormat::Toml,
            ))
            .add_source(
                environment().source(Some(
                    [
                        ("ROSETTA__DATABASE__POOL_SIZE".to_owned(), "5".to_owned()),
                        ("ROSETTA__TESTING__ENABLED".to_owned(), "true".to_owned()),
                        (
                            "ROSETTA__TESTING__FIXED_CODE".to_owned(),
                            "012345".to_owned(),
                        ),
                    ]
                    .into_iter()
                    .collect(),
                )),
            )
            .build()
            .unwrap();
        let s = Settings::from_config(config).unwrap();
        assert_eq!(s.database.pool_size, 5);
        assert_eq!(s.testing.fixed_code.as_deref(), Some("012345"));
    }
}
