//! Cutover of one dialect at a time: each dialect is in `serve`, `shadow` or `proxy` mode, with
//! its legacy backend's URL; the mode changes at run time (SIGHUP, admin API) for the requests
//! that arrive after the change, never for those in flight.

pub mod forward;
pub mod middleware;
pub mod shadow;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::replay::accept::Rules;
use crate::settings::{LegacySettings, Mode, Settings, check_legacy_url};

/// How often a process reads the modes the admin API stored (a switch asked of another process
/// takes effect here within this time).
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// How long one read of the stored modes may wait for a connection.
const FOLLOW_READ_LIMIT: Duration = Duration::from_millis(500);

/// Keeps `cutover` following the modes stored in the database, for as long as it runs. A
/// database that cannot be read leaves the modes as they are (and is said once until it can).
pub async fn follow_stored_modes(service: crate::service::Service, cutover: Arc<Cutover>) {
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match service.stored_modes_within(FOLLOW_READ_LIMIT).await {
            Ok(stored) => {
                failing = false;
                cutover.follow(&stored);
            }
            Err(err) if !failing => {
                failing = true;
                tracing::warn!(error = %err, "cannot read the stored dialect modes; keeping the current ones");
            }
            Err(_) => {}
        }
    }
}

/// Where a dialect's mode comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Choice {
    mode: Mode,
    legacy_url: Option<String>,
}

/// What decides one dialect's mode: its settings file, unless the admin API stored a choice
/// (in the database, for every process), which wins until it is forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sources {
    file: Choice,
    /// The stored choice and when it was made.
    stored: Option<(Choice, i64)>,
}

impl Sources {
    fn effective(&self) -> &Choice {
        self.stored
            .as_ref()
            .map_or(&self.file, |(choice, _)| choice)
    }
}

/// One dialect's current mode and legacy backend.
struct DialectRoute {
    /// The mode as a byte: read on every request without a lock.
    mode: AtomicU8,
    legacy_url: RwLock<Option<Arc<str>>>,
    sources: Mutex<Sources>,
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
    /// `settings` (the file), or `admin` (a choice stored through the admin API, which every
    /// process follows until it is forgotten).
    pub source: &'static str,
    /// When the admin API made the choice (epoch milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<i64>,
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

/// A mode change, checked, not yet applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub dialect: &'static str,
    pub mode: Mode,
    pub legacy_url: Option<String>,
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
                    sources: Mutex::new(Sources {
                        file: Choice {
                            mode: d.mode,
                            legacy_url: d.legacy_url.clone(),
                        },
                        stored: None,
                    }),
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

    /// Every served dialect's mode and where it comes from.
    pub fn modes(&self) -> Vec<DialectMode> {
        self.routes
            .iter()
            .map(|(id, route)| {
                let stored_at = route
                    .sources
                    .lock()
                    .ok()
                    .and_then(|sources| sources.stored.as_ref().map(|(_, at)| *at));
                DialectMode {
                    id,
                    mode: self.mode(id).as_str(),
                    legacy_url: self.legacy_url(id).map(|u| u.to_string()),
                    source: if stored_at.is_some() {
                        "admin"
                    } else {
                        "settings"
                    },
                    changed_at: stored_at,
                }
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

    /// Checks a mode change: the dialect is served here, the URL is usable, and a shadow or
    /// proxy mode has a legacy backend (the one given, else the one in use or configured).
    pub fn check(
        &self,
        dialect: &str,
        mode: Mode,
        legacy_url: Option<&str>,
    ) -> Result<Switch, SwitchError> {
        let (id, route) = self
            .routes
            .get_key_value(dialect)
            .ok_or_else(|| SwitchError::UnknownDialect(dialect.to_owned()))?;
        let legacy_url = match legacy_url {
            Some(url) => Some(check_legacy_url(url).map_err(SwitchError::BadUrl)?),
            None => route.sources.lock().ok().and_then(|sources| {
                sources
                    .effective()
                    .legacy_url
                    .clone()
                    .or_else(|| sources.file.legacy_url.clone())
            }),
        };
        if mode != Mode::Serve && legacy_url.is_none() {
            return Err(SwitchError::NoLegacyUrl(mode.as_str()));
        }
        Ok(Switch {
            dialect: id,
            mode,
            legacy_url,
        })
    }

    /// Applies a checked change as the admin API's stored choice, at `changed_at`.
    pub fn apply(&self, switch: &Switch, changed_at: i64) -> DialectMode {
        let choice = Choice {
            mode: switch.mode,
            legacy_url: switch.legacy_url.clone(),
        };
        self.update(switch.dialect, |sources| {
            sources.stored = Some((choice, changed_at));
        });
        self.describe(switch.dialect)
    }

    /// Forgets the admin API's choice for `dialect`: its settings decide again.
    pub fn forget(&self, dialect: &str) -> Result<DialectMode, SwitchError> {
        let (id, _) = self
            .routes
            .get_key_value(dialect)
            .ok_or_else(|| SwitchError::UnknownDialect(dialect.to_owned()))?;
        self.update(id, |sources| sources.stored = None);
        Ok(self.describe(id))
    }

    /// Follows the choices stored in the database (by this process or another): each stored
    /// choice wins over the settings; a dialect without one follows its settings.
    pub fn follow(&self, stored: &[crate::service::dialect_modes::StoredMode]) {
        for id in self.routes.keys() {
            let choice = stored.iter().find(|s| s.dialect == *id).and_then(|s| {
                let mode = Mode::parse(&s.mode)?;
                // A choice no longer usable here (no URL for its mode) is passed over.
                (mode == Mode::Serve || s.legacy_url.is_some()).then(|| {
                    (
                        Choice {
                            mode,
                            legacy_url: s.legacy_url.clone(),
                        },
                        s.changed_at,
                    )
                })
            });
            self.update(id, |sources| sources.stored = choice);
        }
    }

    fn describe(&self, dialect: &'static str) -> DialectMode {
        self.modes()
            .into_iter()
            .find(|m| m.id == dialect)
            .unwrap_or(DialectMode {
                id: dialect,
                mode: Mode::Serve.as_str(),
                legacy_url: None,
                source: "settings",
                changed_at: None,
            })
    }

    /// Changes a dialect's sources and carries out the effective mode; a change is logged.
    fn update(&self, dialect: &str, change: impl FnOnce(&mut Sources)) {
        let Some(route) = self.routes.get(dialect) else {
            return;
        };
        let Ok(mut sources) = route.sources.lock() else {
            return;
        };
        let before = sources.effective().clone();
        change(&mut sources);
        let after = sources.effective().clone();
        if let Ok(mut url) = route.legacy_url.write() {
            *url = after.legacy_url.as_deref().map(Arc::from);
        }
        route.mode.store(mode_byte(after.mode), Ordering::Release);
        if before != after {
            let source = if sources.stored.is_some() {
                "admin"
            } else {
                "settings"
            };
            tracing::warn!(dialect, from = before.mode.as_str(), to = after.mode.as_str(), legacy_url = ?after.legacy_url, source, "dialect mode changed");
        }
    }

    /// Applies reloaded settings: each dialect's mode and legacy URL from the file, and the
    /// shadow rules. Returns what changed for the file; a dialect whose mode the admin API
    /// chose keeps that choice, and says so. Other settings need a restart.
    pub fn reload(&self, settings: &Settings) -> Result<Vec<String>, String> {
        let rules = load_rules(&settings.legacy)?;
        let mut changes = Vec::new();
        for (id, dialect) in &settings.dialects {
            let Some(route) = self.routes.get(id) else {
                continue;
            };
            let file = Choice {
                mode: dialect.mode,
                legacy_url: dialect.legacy_url.clone(),
            };
            let (before, stored) = match route.sources.lock() {
                Ok(sources) => (sources.file.clone(), sources.stored.is_some()),
                Err(_) => continue,
            };
            if before == file {
                continue;
            }
            let described = format!(
                "dialects.{id}: {} → {} ({})",
                before.mode.as_str(),
                file.mode.as_str(),
                file.legacy_url.as_deref().unwrap_or("no legacy_url")
            );
            self.update(id, |sources| sources.file = file);
            changes.push(if stored {
                format!(
                    "{described}; not in effect: the admin API chose this dialect's mode \
                     (DELETE /admin/dialects/{id}/mode hands it back to the file)"
                )
            } else {
                described
            });
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
    use crate::service::dialect_modes::StoredMode;

    fn cutover(extra: &str) -> Cutover {
        let settings = Settings::from_toml(extra).unwrap();
        Cutover::new(&settings).unwrap()
    }

    fn switch(
        cut: &Cutover,
        dialect: &str,
        mode: Mode,
        url: Option<&str>,
    ) -> Result<DialectMode, SwitchError> {
        let checked = cut.check(dialect, mode, url)?;
        Ok(cut.apply(&checked, 1))
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
            switch(&cut, "error_code", Mode::Proxy, None),
            Err(SwitchError::NoLegacyUrl("proxy"))
        );
        assert_eq!(
            cut.mode("error_code"),
            Mode::Serve,
            "a refused switch changes nothing"
        );
        let switched = switch(
            &cut,
            "error_code",
            Mode::Proxy,
            Some("http://127.0.0.1:9000"),
        )
        .unwrap();
        assert_eq!(
            (
                switched.mode,
                switched.legacy_url.as_deref(),
                switched.source
            ),
            ("proxy", Some("http://127.0.0.1:9000"), "admin")
        );
        assert_eq!(cut.mode("error_code"), Mode::Proxy);
        // Back to serve keeps the URL for the next switch.
        switch(&cut, "error_code", Mode::Serve, None).unwrap();
        assert_eq!(
            switch(&cut, "error_code", Mode::Shadow, None).unwrap().mode,
            "shadow"
        );
        assert!(matches!(
            switch(&cut, "error_code", Mode::Proxy, Some("ftp://x")),
            Err(SwitchError::BadUrl(_))
        ));
        assert_eq!(
            switch(&cut, "struts", Mode::Serve, None),
            Err(SwitchError::UnknownDialect("struts".into()))
        );
        let back = cut.forget("error_code").unwrap();
        assert_eq!((back.mode, back.source), ("serve", "settings"));
    }

    #[test]
    fn stored_choices_win_over_the_settings_until_forgotten() {
        let cut = cutover("");
        let stored = |mode: &str, url: Option<&str>| StoredMode {
            dialect: "code_sec".into(),
            mode: mode.into(),
            legacy_url: url.map(str::to_owned),
            changed_at: 42,
        };
        cut.follow(&[stored("proxy", Some("http://10.0.0.7"))]);
        assert_eq!(cut.mode("code_sec"), Mode::Proxy);
        let listed = cut
            .modes()
            .into_iter()
            .find(|m| m.id == "code_sec")
            .unwrap();
        assert_eq!((listed.source, listed.changed_at), ("admin", Some(42)));

        // The file changes underneath: reported, not in effect.
        let reloaded = Settings::from_toml(
            "[dialects.code_sec]\nmode = \"shadow\"\nlegacy_url = \"http://10.0.0.8\"\n",
        )
        .unwrap();
        let changes = cut.reload(&reloaded).unwrap();
        assert_eq!(changes.len(), 1);
        assert!(
            changes[0]
                .starts_with("dialects.code_sec: serve → shadow (http://10.0.0.8); not in effect"),
            "{changes:?}"
        );
        assert_eq!(cut.mode("code_sec"), Mode::Proxy);
        assert!(cut.reload(&reloaded).unwrap().is_empty(), "nothing new");

        // Unusable stored choices are passed over; none at all hands back to the file.
        cut.follow(&[stored("sideways", None)]);
        assert_eq!(cut.mode("code_sec"), Mode::Shadow);
        cut.follow(&[stored("proxy", Some("http://10.0.0.7"))]);
        cut.follow(&[]);
        assert_eq!(cut.mode("code_sec"), Mode::Shadow);
        assert_eq!(
            cut.legacy_url("code_sec").as_deref(),
            Some("http://10.0.0.8")
        );
    }
}
