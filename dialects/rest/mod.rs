//! The `rest` dialect: a JSON REST user API (document 002) — `/actions/sms`, `/users`,
//! `/users/signin`, `GET /users/:userId`, phones as `tel{dialCode, number}`, errors
//! `{timestamp, code, error}` with the HTTP status equal to `code`.

mod api;
mod error;
mod handlers;
pub mod wire;

use std::time::Duration;

use actix_web::web;

use super::kit::routes::route_table;
use super::{
    DialectContext, DialectSpec, Location, OwnKey, SettingsProblem, Volatile, VolatileKind,
};
use crate::settings::DialectSettings;

const UNIVERSAL_CODE: OwnKey = OwnKey::optional_text(
    "universal_code",
    "test mode only: a captcha POST /users accepts for any phone that was sent a live code (the legacy server's 909)",
)
.test_only();
const DAILY_LIMIT: OwnKey = OwnKey::uint(
    "daily_limit_per_phone",
    3,
    "codes per phone per calendar day (Asia/Shanghai) through this dialect (the document: three)",
);
const CODE_TTL: OwnKey = OwnKey::uint("code_ttl_seconds", 300, "lifetime of a captcha, in seconds");
const COOKIE_NAME: OwnKey = OwnKey::text(
    "cookie_name",
    "SESSION",
    "name of the session cookie set by register and signin (no endpoint requires it)",
);
const SESSION_TTL: OwnKey = OwnKey::uint(
    "session_ttl_seconds",
    2_592_000,
    "lifetime of that session, in seconds (30 days)",
);
const DOC_GENDER_CODES: OwnKey = OwnKey::flag(
    "doc_gender_codes",
    true,
    "gender as the document writes it (`m` female, `f` male); false for the usual `m` male, `f` female",
);

/// This dialect's settings, read once at mount.
#[derive(Debug, Clone)]
pub struct Config {
    pub universal_code: Option<String>,
    pub daily_limit: u32,
    pub code_ttl: Duration,
    pub cookie_name: String,
    pub session_ttl: Duration,
    pub doc_gender_codes: bool,
}

impl Config {
    fn from_settings(settings: &DialectSettings) -> Config {
        Config {
            universal_code: settings
                .text(&UNIVERSAL_CODE)
                .map(str::trim)
                .filter(|code| !code.is_empty())
                .map(str::to_owned),
            daily_limit: u32::try_from(settings.uint(&DAILY_LIMIT)).unwrap_or(u32::MAX),
            code_ttl: Duration::from_secs(settings.uint(&CODE_TTL)),
            cookie_name: settings.text(&COOKIE_NAME).unwrap_or("SESSION").to_owned(),
            session_ttl: Duration::from_secs(settings.uint(&SESSION_TTL)),
            doc_gender_codes: settings.flag(&DOC_GENDER_CODES),
        }
    }
}

fn check_settings(settings: &DialectSettings) -> Result<(), SettingsProblem> {
    let name = settings.text(&COOKIE_NAME).unwrap_or_default();
    if !crate::dialects::kit::is_cookie_name(name) {
        return Err(SettingsProblem {
            key: COOKIE_NAME.name,
            reason: "is not a valid cookie name".to_owned(),
        });
    }
    for key in [&CODE_TTL, &SESSION_TTL] {
        if settings.uint(key) == 0 {
            return Err(SettingsProblem {
                key: key.name,
                reason: "must be at least 1".to_owned(),
            });
        }
    }
    Ok(())
}

/// What every handler gets: the core and this dialect's settings.
pub struct State {
    pub ctx: DialectContext,
    pub config: Config,
}

pub static SPEC: DialectSpec = DialectSpec {
    id: "rest",
    title: "REST /users (002)",
    default_port: 8083,
    own_keys: &[
        UNIVERSAL_CODE,
        DAILY_LIMIT,
        CODE_TTL,
        COOKIE_NAME,
        SESSION_TTL,
        DOC_GENDER_CODES,
    ],
    routes: ROUTES,
    volatile: &[
        Volatile {
            location: Location::JsonPointer("/userId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/timestamp"),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::Cookie("SESSION"),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::Field("captcha"),
            kind: VolatileKind::SmsCode {
                phone_field: "tel.number",
            },
        },
        Volatile {
            location: Location::PathSegment {
                pattern: "/users/{userId}",
                index: 1,
            },
            kind: VolatileKind::Id,
        },
    ],
    secrets: &[Location::Field("password")],
    reads: &["/users/{userId}"],
    client_header: None,
    replay_fixup: None,
    mount,
    framework_error: error::framework_error,
    check_settings: Some(check_settings),
};

route_table! {
    POST "/actions/sms" => handlers::send_code, "002 §发送验证码接口", api::send_code;
    POST "/users/signin" => handlers::signin, "002 §手机登录接口", api::signin;
    POST "/users" => handlers::register, "002 §手机注册接口", api::register;
    GET "/users/{userId}" => handlers::user_detail, "002 §取得用户详情接口", api::user_detail;
}

fn mount(cfg: &mut web::ServiceConfig, ctx: &DialectContext) {
    cfg.app_data(web::Data::new(State {
        ctx: ctx.clone(),
        config: Config::from_settings(&ctx.settings),
    }));
    mount_routes(cfg);
}
