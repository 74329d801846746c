//! The `error_code` dialect: BlueU's `/api/user/*` (document 004), always HTTP 200 with
//! `{error_code, error_msg[, data]}`, `X-Auth-Token` sessions of 3600 s.

mod api;
mod auth;
mod error;
mod handlers;
pub mod wire;

use std::time::Duration;

use actix_web::web;

use super::kit::routes::route_table;
use super::{DialectContext, DialectSpec, Location, OwnKey, Volatile, VolatileKind};
use crate::settings::DialectSettings;

const TOKEN_TTL: OwnKey = OwnKey::uint(
    "token_ttl_seconds",
    3600,
    "lifetime of an X-Auth-Token in seconds (the original: 3600)",
);
const SUCCESS_MESSAGE: OwnKey = OwnKey::text(
    "success_message",
    "success",
    "error_msg of every success: the document's `success`, or `请求成功` as the original server answered",
);

/// This dialect's settings, read once at mount.
#[derive(Debug, Clone)]
pub struct Config {
    pub token_ttl: Duration,
    pub success_message: String,
}

impl Config {
    fn from_settings(settings: &DialectSettings) -> Config {
        Config {
            token_ttl: Duration::from_secs(settings.uint(&TOKEN_TTL)),
            success_message: settings
                .text(&SUCCESS_MESSAGE)
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// What every handler gets: the core and this dialect's settings.
pub struct State {
    pub ctx: DialectContext,
    pub config: Config,
}

pub static SPEC: DialectSpec = DialectSpec {
    id: "error_code",
    title: "BlueU (004)",
    default_port: 8085,
    own_keys: &[TOKEN_TTL, SUCCESS_MESSAGE],
    routes: ROUTES,
    volatile: &[
        Volatile {
            location: Location::RequestHeader(auth::TOKEN_HEADER),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::JsonPointer("/data/token_id"),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::JsonPointer("/data/userid"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/data/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::PathSegment {
                pattern: "/api/user/{id}",
                index: 2,
            },
            kind: VolatileKind::Id,
        },
    ],
    secrets: &[
        Location::Field("password"),
        Location::Field("newpassword"),
        Location::RequestHeader(auth::PASSWORD_HEADER),
    ],
    reads: &[r"/api/user/{id:[0-9]+}"],
    client_header: None,
    replay_fixup: None,
    mount,
    framework_error: error::framework_error,
    check_settings: None,
};

route_table! {
    POST "/api/user/register" => handlers::register, "004 §用户注册", api::register;
    POST "/api/user/login" => handlers::login, "004 §用户登录", api::login;
    POST "/api/user/resetpwd" => handlers::reset_password, "004 §重置密码", api::reset_password;
    POST "/api/user/logout" => handlers::logout, "004 §用户登出", api::logout;
    POST r"/api/user/{id:[0-9]+}/edit" => handlers::edit, "004 §用户修改资料", api::edit;
    POST r"/api/user/{id:[0-9]+}/push" => handlers::push, "004 §用户信息推送开关 (/api/user/1/push)", api::push;
    // The document's curl fetches the detail with POST: both are served.
    GET | POST r"/api/user/{id:[0-9]+}" => handlers::detail, "004 §用户信息推送开关 (/api/user/1, the detail, fetched with curl -X POST)", api::detail;
}

fn mount(cfg: &mut web::ServiceConfig, ctx: &DialectContext) {
    cfg.app_data(web::Data::new(State {
        ctx: ctx.clone(),
        config: Config::from_settings(&ctx.settings),
    }));
    mount_routes(cfg);
}
