//! The `struts` dialect: a Struts 2 user API (document 000) — `user!login`-style actions posted
//! as forms, `userVO.*` fields, md5 passwords, session headers `uid` / `accessToken` / `client` /
//! `expire`, and `{success, info, data}` answers.

mod api;
mod auth;
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

const TOKEN_TTL: OwnKey = OwnKey::uint(
    "token_ttl_seconds",
    2_592_000,
    "lifetime of an accessToken in seconds (30 days); its end is the `expire` header",
);
const PUBLIC_BASE_URL: OwnKey = OwnKey::optional_text(
    "public_base_url",
    "scheme and host clients reach this listener at, for `userPhoto` URLs (http://website in the document); unset: taken from each request",
);
const CODE_TTL: OwnKey = OwnKey::uint(
    "code_ttl_seconds",
    300,
    "lifetime of a register or reset code, in seconds",
);

/// This dialect's settings, read once at mount.
#[derive(Debug, Clone)]
pub struct Config {
    pub token_ttl: Duration,
    pub public_base_url: Option<String>,
    pub code_ttl: Duration,
}

impl Config {
    fn from_settings(settings: &DialectSettings) -> Config {
        Config {
            token_ttl: Duration::from_secs(settings.uint(&TOKEN_TTL)),
            public_base_url: settings
                .text(&PUBLIC_BASE_URL)
                .map(|url| url.trim().trim_end_matches('/').to_owned())
                .filter(|url| !url.is_empty()),
            code_ttl: Duration::from_secs(settings.uint(&CODE_TTL)),
        }
    }
}

fn check_settings(settings: &DialectSettings) -> Result<(), SettingsProblem> {
    let config = Config::from_settings(settings);
    if let Some(url) = &config.public_base_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(SettingsProblem {
            key: PUBLIC_BASE_URL.name,
            reason: "must start with http:// or https://".to_owned(),
        });
    }
    if config.token_ttl.is_zero() || config.code_ttl.is_zero() {
        return Err(SettingsProblem {
            key: if config.token_ttl.is_zero() {
                TOKEN_TTL.name
            } else {
                CODE_TTL.name
            },
            reason: "must be at least 1".to_owned(),
        });
    }
    Ok(())
}

/// What every handler gets: the core and this dialect's settings.
pub struct State {
    pub ctx: DialectContext,
    pub config: Config,
}

pub static SPEC: DialectSpec = DialectSpec {
    id: "struts",
    title: "Struts user!… (000)",
    default_port: 8081,
    own_keys: &[TOKEN_TTL, PUBLIC_BASE_URL, CODE_TTL],
    routes: ROUTES,
    volatile: &[
        Volatile {
            location: Location::RequestHeader(auth::TOKEN_HEADER),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::ResponseHeader(auth::TOKEN_HEADER),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::RequestHeader(auth::UID_HEADER),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::ResponseHeader(auth::UID_HEADER),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::RequestHeader(auth::EXPIRE_HEADER),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::ResponseHeader(auth::EXPIRE_HEADER),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::JsonPointer("/data/userVO/userId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/data/userVO/userPhoto"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::Field("userVO.userId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::Field("telSecurityCode"),
            kind: VolatileKind::SmsCode {
                phone_field: "userVO.userMobile",
            },
        },
        Volatile {
            location: Location::Field("validateCode"),
            kind: VolatileKind::SmsCode {
                phone_field: "userVO.userMobile",
            },
        },
        Volatile {
            location: Location::PathSegment {
                pattern: "/upload/images/userPhoto/{uid}_avatar.{ext}",
                index: 3,
            },
            kind: VolatileKind::Id,
        },
    ],
    secrets: &[
        Location::Field("userVO.password"),
        Location::Field("oldPassword"),
    ],
    reads: &[
        r"/user/user{bang:(!|%21)}readUser{suffix:(\.action)?}",
        r"/upload/images/userPhoto/{uid:[0-9]+}_avatar.{ext:(jpg|jpeg|png|bmp)}",
    ],
    client_header: Some(auth::CLIENT_HEADER),
    replay_fixup: None,
    mount,
    framework_error: error::framework_error,
    check_settings: Some(check_settings),
};

// Struts' dynamic method invocation: `<namespace>/<action>!<method>`, with or without the
// `.action` suffix, the `!` also percent-encoded; any HTTP method, as Struts serves them.
route_table! {
    GET | POST r"/user/user{bang:(!|%21)}login{suffix:(\.action)?}" => handlers::login, "000 §1.用户登录", api::login;
    GET | POST r"/user/user{bang:(!|%21)}readUser{suffix:(\.action)?}" => handlers::read_user, "000 §2.读取用户信息", api::read_user;
    GET | POST r"/user/user{bang:(!|%21)}updateUser{suffix:(\.action)?}" => handlers::update_user, "000 §3.修改用户信息", api::update_user;
    POST r"/user/user{bang:(!|%21)}uploadPhoto{suffix:(\.action)?}" => handlers::upload_photo, "000 §4.上传用户头像", api::upload_photo;
    GET | POST r"/user/user{bang:(!|%21)}updatePassword{suffix:(\.action)?}" => handlers::update_password, "000 §5.修改用户密码", api::update_password;
    GET | POST r"/user/user{bang:(!|%21)}sendValidateCodeByRetreve{suffix:(\.action)?}" => handlers::send_reset_code, "000 §6.获取重置密码验证码", api::send_reset_code;
    GET | POST r"/user/user{bang:(!|%21)}noLoginUpdatePassword{suffix:(\.action)?}" => handlers::reset_password, "000 §7.重置用户登录密码", api::reset_password;
    GET | POST r"/user/user{bang:(!|%21)}sendRegisterCode{suffix:(\.action)?}" => handlers::send_register_code, "000 §8.获取注册验证码", api::send_register_code;
    GET | POST r"/user/user{bang:(!|%21)}register{suffix:(\.action)?}" => handlers::register, "000 §9.用户注册", api::register;
    GET | POST r"/user/user{bang:(!|%21)}signOut{suffix:(\.action)?}" => handlers::sign_out, "000 §10.用户注销", api::sign_out;
    GET | POST r"/chat/group{bang:(!|%21)}setingGroup{suffix:(\.action)?}" => handlers::group_settings, "000 §11.用户群资料设置", api::group_settings;
    GET r"/upload/images/userPhoto/{uid:[0-9]+}_avatar.{ext:(jpg|jpeg|png|bmp)}" => handlers::photo, "000 §1 (userPhoto: the uploaded avatar's URL)", api::photo;
}

fn mount(cfg: &mut web::ServiceConfig, ctx: &DialectContext) {
    cfg.app_data(web::Data::new(State {
        ctx: ctx.clone(),
        config: Config::from_settings(&ctx.settings),
    }));
    mount_routes(cfg);
}
