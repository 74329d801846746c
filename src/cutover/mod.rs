//! Cutover of one dialect at a time: each dialect is in `serve`, `shadow` or `proxy` mode, with
//! its legacy backend's URL; the mode changes at run time (SIGHUP, admin API) for the requests
//! that arrive after the change, never for those in flight.

pub mod forward;
pub mod middleware;
pub mod shadow;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::replay::accept::Rules;
use crate::settings::{LegacySettings, Mode, Settings, check_legacy_url};

/// One dialect's current mode and legacy backend.
struct DialectRoute {
    /// The mode as a byte: read on every request without a lock.
    mode: AtomicU8,
    legacy_url: RwLock<Option<Arc<str>>>,
}

fn mode_byte(mode: Mode) -> u8 {
    match mode {
        Mode::Serve => 0,
        Mode::Shadow => 1,
        Mode::Proxy => 2,
    }
}

fn byte_mode(byte: u8) -> Mode {
    match byte {
        1 => Mode::Shadow,
        2 => Mode::Proxy,
        _ => Mode::Serve,
    }
}

/// A dialect's mode as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DialectMode {
    pub id: &'static str,
    pub mode: &'static str,
    pub legacy_url: Option<String>,
}

/// Why a mode change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SwitchError {
    #[error("no dialect `{0}` is served here")]
    UnknownDialect(String),
    #[error("legacy_url: {0}")]
    BadUrl(String),
    #[error("mode {0} needs a legacy_url: give one, or set dialects.<id>.legacy_url")]
    NoLegacyUrl(&'static str),
}

/// The modes of every served dialect, the shadow comparisons' log and rules, shared by the
/// dialect listeners and the ops listener of this process.
pub struct Cutover {
    routes: BTreeMap<&'static str, DialectRoute>,
    pub shadow: shadow::ShadowLog,
    rules: RwLock<Arc<Rules>>,
    pub timeout: Duration,
    /// Shadow requests waiting for a legacy answer; beyond the limit reads are not compared.
    pub shadow_slots: Arc<tokio::sync::Semaphore>,
}

impl Cutover {
    /// The cutover of the enabled dialects, as the settings start them.
    pub fn new(settings: &Settings) -> Result<Cutover, String> {
        let routes = settings
            .dialects
            .iter()
            .filter(|(_, d)| d.enabled)
            .map(|(id, d)| {
                let route = DialectRoute {
                    mode: AtomicU8::new(mode_byte(d.mode)),
                    legacy_url: RwLock::new(d.legacy_url.as_deref().map(Arc::from)),
                };
                (*id, route)
            })
            .collect();
        Ok(Cutover {
            routes,
            shadow: shadow::ShadowLog::new(settings.legacy.keep_differences),
            rules: RwLock::new(Arc::new(load_rules(&settings.legacy)?)),
            timeout: Duration::from_secs(settings.legacy.timeout_seconds),
            shadow_slots: Arc::new(tokio::sync::Semaphore::new(
                settings.legacy.shadow_in_flight,
            )),
        })
    }

    /// The mode of `dialect` now (serve for a dialect not served here).
    pub fn mode(&self, dialect: &str) -> Mode {
        self.routes
            .get(dialect)
            .map_or(Mode::Serve, |r| byte_mode(r.mode.load(Ordering::Acquire)))
    }

    pub fn legacy_url(&self, dialect: &str) -> Option<Arc<str>> {
        let route = self.routes.get(dialect)?;
        route.legacy_url.read().ok()?.clone()
    }

    /// Every served dialect's mode.
    pub fn modes(&self) -> Vec<DialectMode> {
        self.routes
            .keys()
            .map(|id| DialectMode {
                id,
                mode: self.mode(id).as_str(),
                legacy_url: self.legacy_url(id).map(|u| u.to_string()),
            })
            .collect()
    }

    /// The accepted-differences rules of shadow comparisons.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules
            .read()
            .map(|rules| rules.clone())
            .unwrap_or_default()
    }

    /// Switches `dialect` to `mode`, with a new legacy URL when one is given. Requests already
    /// received finish in the mode they started in.
    pub fn switch(
        &self,
        dialect: &str,
        mode: Mode,
        legacy_url: Option<&str>,
    ) -> Result<DialectMode, SwitchError> {
        let route = self
            .routes
            .get_key_value(dialect)
            .ok_or_else(|| SwitchError::UnknownDialect(dialect.to_owned()))?;
        let url = match legacy_url {
            Some(url) => Some(check_legacy_url(url).map_err(SwitchError::BadUrl)?),
            None => None,
        };
        let Ok(mut current) = route.1.legacy_url.write() else {
            return Err(SwitchError::UnknownDialect(dialect.to_owned()));
        };
        if let Some(url) = url {
            *current = Some(Arc::from(url.as_str()));
        }
        if mode != Mode::Serve && current.is_none() {
            return Err(SwitchError::NoLegacyUrl(mode.as_str()));
        }
        let before = byte_mode(route.1.mode.swap(mode_byte(mode), Ordering::AcqRel));
        let legacy_url = current.as_deref().map(str::to_owned);
        drop(current);
        if before != mode {
            tracing::warn!(dialect, from = before.as_str(), to = mode.as_str(), legacy_url = ?legacy_url, "dialect mode changed");
        }
        Ok(DialectMode {
            id: route.0,
            mode: mode.as_str(),
            legacy_url,
        })
    }

    /// Applies reloaded settings: each dialect's mode and legacy URL, and the shadow rules.
    /// Returns what changed; other settings need a restart, which the caller says.
    pub fn reload(&self, settings: &Settings) -> Result<Vec<String>, String> {
        let rules = load_rules(&settings.legacy)?;
        let mut changes = Vec::new();
        for (id, dialect) in &settings.dialects {
            if !self.routes.contains_key(id) {
                continue;
            }
            let before = (self.mode(id), self.legacy_url(id).map(|u| u.to_string()));
            let after = (dialect.mode, dialect.legacy_url.clone());
            if before == after {
                continue;
            }
            // The settings were checked: a shadow or proxy mode comes with its URL.
            if let Some(url) = &dialect.legacy_url
                && let Some(route) = self.routes.get(id)
                && let Ok(mut current) = route.legacy_url.write()
            {
                *current = Some(Arc::from(url.as_str()));
            }
            self.switch(id, dialect.mode, None)
                .map_err(|e| format!("dialects.{id}: {e}"))?;
            changes.push(format!(
                "dialects.{id}: {} → {} ({})",
                before.0.as_str(),
                dialect.mode.as_str(),
                dialect.legacy_url.as_deref().unwrap_or("no legacy_url")
            ));
        }
        if let Ok(mut current) = self.rules.write() {
            if current.source != rules.source || current.rules.len() != rules.rules.len() {
                changes.push(format!(
                    "legacy.accept: {} rules from {}",
                    rules.rules.len(),
                    if rules.source.is_empty() {
                        "nowhere"
                    } else {
                        &rules.source
                    }
                ));
            }
            *current = Arc::new(rules);
        }
        Ok(changes)
    }
}

fn load_rules(legacy: &LegacySettings) -> Result<Rules, String> {
    match &legacy.accept {
        Some(path) => Rules::load(Path::new(path)).map_err(|e| format!("legacy.accept: {e}")),
        None => Ok(Rules::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cutover(extra: &str) -> Cutover {
        let settings = Settings::from_toml(extra).unwrap();
        Cutover::new(&settings).unwrap()
    }

    #[test]
    fn modes_start_from_the_settings_and_switch_at_run_time() {
        let cut = cutover(
            "[dialects.rest]\nmode = \"shadow\"\nlegacy_url = \"http://10.0.0.5:8080/api/\"\n\
             [dialects.struts]\nenabled = false\n",
        );
        assert_eq!(cut.mode("rest"), Mode::Shadow);
        assert_eq!(
            cut.legacy_url("rest").as_deref(),
            Some("http://10.0.0.5:8080/api")
        );
        assert_eq!(cut.mode("error_code"), Mode::Serve);
        assert!(
            cut.modes().iter().all(|m| m.id != "struts"),
            "disabled: not served"
        );

        assert_eq!(
            cut.switch("error_code", Mode::Proxy, None),
            Err(SwitchError::NoLegacyUrl("proxy"))
        );
        assert_eq!(
            cut.mode("error_code"),
            Mode::Serve,
            "a refused switch changes nothing"
        );
        let switched = cut
            .switch("error_code", Mode::Proxy, Some("http://127.0.0.1:9000"))
            .unwrap();
        assert_eq!(
            (switched.mode, switched.legacy_url.as_deref()),
            ("proxy", Some("http://127.0.0.1:9000"))
        );
        assert_eq!(cut.mode("error_code"), Mode::Proxy);
        // Back to serve keeps the URL for the next switch.
        cut.switch("error_code", Mode::Serve, None).unwrap();
        assert_eq!(
            cut.switch("error_code", Mode::Shadow, None).unwrap().mode,
            "shadow"
        );
        assert!(matches!(
            cut.switch("error_code", Mode::Proxy, Some("https://x")),
            Err(SwitchError::BadUrl(_))
        ));
        assert_eq!(
            cut.switch("struts", Mode::Serve, None),
            Err(SwitchError::UnknownDialect("struts".into()))
        );
    }

    #[test]
    fn a_reload_applies_modes_and_says_what_changed() {
        let cut = cutover("");
        let reloaded = Settings::from_toml(
            "[dialects.code_sec]\nmode = \"proxy\"\nlegacy_url = \"http://10.0.0.7\"\n",
        )
        .unwrap();
        let changes = cut.reload(&reloaded).unwrap();
        assert_eq!(
            changes,
            vec!["dialects.code_sec: serve → proxy (http://10.0.0.7)"]
        );
        assert_eq!(cut.mode("code_sec"), Mode::Proxy);
        assert!(cut.reload(&reloaded).unwrap().is_empty(), "nothing new");
    }
}
