//! The dialects: adapters that reproduce five legacy wire formats on top of the account core.
//! Each registers a [`DialectSpec`]; the server mounts every enabled one at its listener and
//! prefix. Dialects call the service only, never storage.

pub mod kit;

#[cfg(feature = "code_result")]
pub mod code_result;
#[cfg(feature = "code_sec")]
pub mod code_sec;
#[cfg(feature = "error_code")]
pub mod error_code;
#[cfg(feature = "rest")]
pub mod rest;
#[cfg(feature = "struts")]
pub mod struts;

use actix_web::web;

use crate::service::Service;
use crate::settings::DialectSettings;

pub use kit::{FrameworkError, RouteDoc};

/// The kind of a dialect's own configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnKind {
    UInt,
    Text,
    Bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnDefault {
    UInt(u64),
    Text(&'static str),
    Bool(bool),
    Unset,
}

/// A key of `[dialects.<id>]` beyond `enabled`, `listen` and `prefix`: its kind and default are
/// declared here once (through the constructors), and the dialect reads it with
/// `DialectSettings::uint` / `text` / `flag` into its own settings struct at mount.
#[derive(Debug, Clone, Copy)]
pub struct OwnKey {
    pub name: &'static str,
    pub kind: OwnKind,
    pub default: OwnDefault,
    /// Accepted only with `testing.enabled` (legacy universal codes and the like).
    pub test_only: bool,
    pub doc: &'static str,
}

impl OwnKey {
    pub const fn uint(name: &'static str, default: u64, doc: &'static str) -> OwnKey {
        OwnKey {
            name,
            kind: OwnKind::UInt,
            default: OwnDefault::UInt(default),
            test_only: false,
            doc,
        }
    }

    pub const fn text(name: &'static str, default: &'static str, doc: &'static str) -> OwnKey {
        OwnKey {
            name,
            kind: OwnKind::Text,
            default: OwnDefault::Text(default),
            test_only: false,
            doc,
        }
    }

    /// A text key with no default: unset unless the operator sets it.
    pub const fn optional_text(name: &'static str, doc: &'static str) -> OwnKey {
        OwnKey {
            name,
            kind: OwnKind::Text,
            default: OwnDefault::Unset,
            test_only: false,
            doc,
        }
    }

    pub const fn flag(name: &'static str, default: bool, doc: &'static str) -> OwnKey {
        OwnKey {
            name,
            kind: OwnKind::Bool,
            default: OwnDefault::Bool(default),
            test_only: false,
            doc,
        }
    }

    /// Accepted only with `testing.enabled`.
    pub const fn test_only(self) -> OwnKey {
        OwnKey {
            test_only: true,
            ..self
        }
    }
}

/// Where a value sits in an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    RequestHeader(&'static str),
    ResponseHeader(&'static str),
    /// A cookie, in `Set-Cookie` answers and `Cookie` requests.
    Cookie(&'static str),
    /// A request parameter: a form field or a top-level JSON key.
    Field(&'static str),
    /// A JSON pointer into response bodies (`*` matches any one segment).
    JsonPointer(&'static str),
    /// A path segment, by position, in paths matching the pattern (the template of one of the
    /// dialect's routes, such as `/api/user/{id}`; a test checks it names one).
    PathSegment {
        pattern: &'static str,
        index: usize,
    },
}

/// What a volatile value is, which decides how record and replay treat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolatileKind {
    /// A session credential: redacted by the recorder, rebound by the replayer.
    Session,
    /// An id the server chose.
    Id,
    /// A time the server chose.
    Timestamp,
    /// An SMS code typed by the user: redacted, and replaced at replay by the live code sent to
    /// the phone in the named field of the same request.
    SmsCode { phone_field: &'static str },
}

/// A value that differs from run to run, so the replayer compares it by type and rebinds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volatile {
    pub location: Location,
    pub kind: VolatileKind,
}

/// A request whose derived fields a dialect may recompute before it is replayed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// Form fields, or the top-level keys of a JSON body.
    pub fields: Vec<(String, serde_json::Value)>,
    pub now_ms: i64,
}

/// What the server needs to know about a dialect.
pub struct DialectSpec {
    pub id: &'static str,
    pub title: &'static str,
    pub default_port: u16,
    pub own_keys: &'static [OwnKey],
    pub routes: &'static [RouteDoc],
    pub volatile: &'static [Volatile],
    /// Request fields and headers that carry passwords: the recorder redacts them.
    pub secrets: &'static [Location],
    /// The routes (patterns exactly as in the route table) that change nothing, at the legacy
    /// backend either: in `shadow` mode only these are also sent there to be compared.
    pub reads: &'static [&'static str],
    /// The request header that names the client app (its first word is the metrics' client
    /// label); without one, the User-Agent's first product is.
    pub client_header: Option<&'static str>,
    /// Recomputes derived request fields before a replayed request is sent (a checksum over a
    /// refreshed timestamp); `None` when the dialect has none.
    pub replay_fixup: Option<fn(&mut ReplayRequest)>,
    /// Registers the dialect's routes (paths relative to its prefix), from its route table.
    pub mount: fn(&mut web::ServiceConfig, &DialectContext),
    /// Renders a framework failure in the dialect's envelope.
    pub framework_error: kit::FailureHook,
    /// Checks the dialect's own keys together at start-up (a cipher key that must be long
    /// enough, credentials that must come in pairs): the key at fault and why.
    pub check_settings: Option<SettingsCheck>,
}

/// A dialect's check of its own keys, run at start-up.
pub type SettingsCheck = fn(&DialectSettings) -> Result<(), SettingsProblem>;

/// A dialect's own key that cannot be used as set, found at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    pub key: &'static str,
    pub reason: String,
}

/// What a mounted dialect gets: the core and its own settings.
#[derive(Clone)]
pub struct DialectContext {
    pub service: Service,
    pub settings: DialectSettings,
}

/// Every dialect compiled into this build.
static REGISTRY: &[&DialectSpec] = &[
    #[cfg(feature = "code_result")]
    &code_result::SPEC,
    #[cfg(feature = "code_sec")]
    &code_sec::SPEC,
    #[cfg(feature = "error_code")]
    &error_code::SPEC,
    #[cfg(feature = "rest")]
    &rest::SPEC,
    #[cfg(feature = "struts")]
    &struts::SPEC,
];

pub fn registry() -> &'static [&'static DialectSpec] {
    REGISTRY
}

pub fn find(id: &str) -> Option<&'static DialectSpec> {
    registry().iter().copied().find(|spec| spec.id == id)
}
