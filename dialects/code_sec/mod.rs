//! The `code_sec` dialect: a PHP user API (document 001) — `/user/sms`, `/user/reg`, … with
//! `phone` / `xid` / `utime` / `sec` parameters, sessions as a `uid` + 16-character `sec` pair,
//! and every answer `{"code": "<string>", …}` with HTTP 200.

mod api;
mod auth;
pub mod checksum;
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

const SESSION_TTL: OwnKey = OwnKey::uint(
    "session_ttl_seconds",
    31_536_000,
    "lifetime of a uid + sec session in seconds (the document's sessions last until the next login or reset; default one year)",
);
const CODE_TTL: OwnKey = OwnKey::uint(
    "code_ttl_seconds",
    300,
    "lifetime of an SMS code (yzm), in seconds (the document: 5 minutes)",
);
const SEND_INTERVAL: OwnKey = OwnKey::uint(
    "send_interval_seconds",
    60,
    "/user/sms answers 4021 when the phone had a code less than this many seconds ago",
);
const UTIME_WINDOW: OwnKey = OwnKey::uint(
    "utime_window_seconds",
    0,
    "refuse /user/sms (400) when utime is further than this from the server's clock; 0 = no check, as the document sets none",
);

/// This dialect's settings, read once at mount.
#[derive(Debug, Clone)]
pub struct Config {
    pub session_ttl: Duration,
    pub code_ttl: Duration,
    pub send_interval: Duration,
    pub utime_window: Option<Duration>,
}

impl Config {
    fn from_settings(settings: &DialectSettings) -> Config {
        let window = settings.uint(&UTIME_WINDOW);
        Config {
            session_ttl: Duration::from_secs(settings.uint(&SESSION_TTL)),
            code_ttl: Duration::from_secs(settings.uint(&CODE_TTL)),
            send_interval: Duration::from_secs(settings.uint(&SEND_INTERVAL)),
            utime_window: (window > 0).then(|| Duration::from_secs(window)),
        }
    }
}

fn check_settings(settings: &DialectSettings) -> Result<(), SettingsProblem> {
    for key in [&SESSION_TTL, &CODE_TTL] {
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
    id: "code_sec",
    title: "PHP /user/sms (001)",
    default_port: 8082,
    own_keys: &[SESSION_TTL, CODE_TTL, SEND_INTERVAL, UTIME_WINDOW],
    routes: ROUTES,
    volatile: &[
        Volatile {
            location: Location::JsonPointer("/uid"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/sec"),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::Field("uid"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::Field("sec"),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::Field("utime"),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::Field("yzm"),
            kind: VolatileKind::SmsCode {
                phone_field: "phone",
            },
        },
    ],
    secrets: &[Location::Field("pwd")],
    reads: &["/user/checkFinishUserInfo", "/user/getUserInfo"],
    client_header: None,
    replay_fixup: Some(checksum::replay_fixup),
    mount,
    framework_error: error::framework_error,
    check_settings: Some(check_settings),
};

// The document says POST; the same template's clients also call with GET and query parameters.
route_table! {
    GET | POST "/user/sms" => handlers::sms, "001 §1.短信验证码接口", api::sms;
    GET | POST "/user/reg" => handlers::register, "001 §2.注册接口", api::register;
    GET | POST "/user/checkFinishUserInfo" => handlers::check_finish_user_info, "001 §3.判断是否填写完善资料", api::check_finish_user_info;
    GET | POST "/user/regDetail" => handlers::reg_detail, "001 §4.修改详细资料接口", api::reg_detail;
    GET | POST "/user/login" => handlers::login, "001 §5.用户登录接口", api::login;
    GET | POST "/user/pwd" => handlers::reset_password, "001 §6.忘记密码接口", api::reset_password;
    GET | POST "/user/loginout" => handlers::logout, "001 §7.退出登录接口", api::logout;
    GET | POST "/user/getUserInfo" => handlers::user_info, "001 §8.获取个人信息接口", api::user_info;
}

fn mount(cfg: &mut web::ServiceConfig, ctx: &DialectContext) {
    cfg.app_data(web::Data::new(State {
        ctx: ctx.clone(),
        config: Config::from_settings(&ctx.settings),
    }));
    mount_routes(cfg);
}
