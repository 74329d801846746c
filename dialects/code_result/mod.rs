//! The `code_result` dialect: the SealTalk app server's user API (document 003), as the original
//! server answered it — `{code, result}` business outcomes, plain-text request errors, an auth
//! cookie over core sessions and N3D-encoded ids.

mod account;
mod api;
mod auth;
mod error;
mod im_token;
mod media;
pub mod n3d;
mod profile;
pub mod rules;
mod social;
pub mod wire;

use std::time::Duration;

use actix_web::web;

use super::kit::routes::route_table;
use super::kit::{Answer, Reply};
use super::{
    DialectContext, DialectSpec, Location, OwnKey, SettingsProblem, Volatile, VolatileKind,
};
use crate::providers::qiniu::QiniuAccount;
use crate::providers::rongcloud::RongCloudApp;
use crate::settings::DialectSettings;
use im_token::ImTokens;
use n3d::N3d;

const COOKIE_NAME: OwnKey = OwnKey::text(
    "cookie_name",
    "rong_im_auth",
    "name of the auth cookie (the original's AUTH_COOKIE_NAME)",
);
const COOKIE_MAX_AGE: OwnKey = OwnKey::uint(
    "cookie_max_age_seconds",
    2_592_000,
    "Max-Age of the auth cookie and lifetime of its session, in seconds (30 days)",
);
const COOKIE_DOMAIN: OwnKey = OwnKey::optional_text(
    "cookie_domain",
    "Domain of the auth cookie (the original's AUTH_COOKIE_DOMAIN); unset: the host asked",
);
const ID_KEY: OwnKey = OwnKey::text(
    "id_key",
    "abcdefg",
    "N3D key of the wire ids (the original's N3D_KEY): keep a migrated deployment's key so its clients' cached ids stay valid",
);
const UNIVERSAL_CODE: OwnKey = OwnKey::optional_text(
    "universal_code",
    "test mode only: a code that verify_code accepts for any phone that was sent a live code (the original's 9999)",
)
.test_only();
const SEND_INTERVAL: OwnKey = OwnKey::uint(
    "send_code_interval_seconds",
    60,
    "send_code answers {\"code\":5000} when the phone was sent a code less than this ago (the original: 60, 5 in development)",
);
const CODE_TTL: OwnKey = OwnKey::uint(
    "code_ttl_seconds",
    120,
    "verify_code answers {\"code\":2000} for a code sent longer ago than this",
);
const CODE_LENGTH: OwnKey = OwnKey::uint("code_length", 4, "digits of an SMS code (4 to 6)");
const IM_TOKEN_PROVIDER: OwnKey = OwnKey::text(
    "im_token_provider",
    "local",
    "where IM tokens come from: `local` (opaque tokens made here) or `rongcloud` (the RongCloud Server API user/getToken)",
);
const RONGCLOUD_APP_KEY: OwnKey = OwnKey::optional_text(
    "rongcloud_app_key",
    "RongCloud App Key (im_token_provider = rongcloud)",
);
const RONGCLOUD_APP_SECRET: OwnKey = OwnKey::optional_text(
    "rongcloud_app_secret",
    "RongCloud App Secret (im_token_provider = rongcloud)",
);
const RONGCLOUD_API_URL: OwnKey = OwnKey::text(
    "rongcloud_api_url",
    "http://api-cn.ronghub.com",
    "base URL of the RongCloud Server API (http:// until the gateway's HTTPS client lands)",
);
const QINIU_ACCESS_KEY: OwnKey =
    OwnKey::optional_text("qiniu_access_key", "Qiniu AccessKey for get_image_token");
const QINIU_SECRET_KEY: OwnKey =
    OwnKey::optional_text("qiniu_secret_key", "Qiniu SecretKey for get_image_token");
const QINIU_BUCKET: OwnKey = OwnKey::optional_text(
    "qiniu_bucket",
    "Qiniu bucket that clients upload portraits to",
);
const QINIU_BUCKET_DOMAIN: OwnKey = OwnKey::optional_text(
    "qiniu_bucket_domain",
    "domain of the Qiniu bucket, answered as `domain` by get_image_token",
);
const QINIU_TOKEN_TTL: OwnKey = OwnKey::uint(
    "qiniu_token_ttl_seconds",
    3600,
    "lifetime of a Qiniu upload token, in seconds",
);
const REQUIRE_IMG_CODE: OwnKey = OwnKey::flag(
    "require_img_code",
    false,
    "send_code requires a verify_id and verify_code from get_sms_img_code",
);
const IMG_CODE_TTL: OwnKey = OwnKey::uint(
    "img_code_ttl_seconds",
    300,
    "lifetime of a get_sms_img_code picture code, in seconds",
);
const PUBLIC_BASE_URL: OwnKey = OwnKey::optional_text(
    "public_base_url",
    "scheme and host clients reach the gateway at, for the picture URLs of get_sms_img_code; unset: taken from each request",
);

const OWN_KEYS: &[OwnKey] = &[
    COOKIE_NAME,
    COOKIE_MAX_AGE,
    COOKIE_DOMAIN,
    ID_KEY,
    UNIVERSAL_CODE,
    SEND_INTERVAL,
    CODE_TTL,
    CODE_LENGTH,
    IM_TOKEN_PROVIDER,
    RONGCLOUD_APP_KEY,
    RONGCLOUD_APP_SECRET,
    RONGCLOUD_API_URL,
    QINIU_ACCESS_KEY,
    QINIU_SECRET_KEY,
    QINIU_BUCKET,
    QINIU_BUCKET_DOMAIN,
    QINIU_TOKEN_TTL,
    REQUIRE_IMG_CODE,
    IMG_CODE_TTL,
    PUBLIC_BASE_URL,
];

/// Where `get_image_token` mints its tokens.
#[derive(Debug, Clone)]
pub struct Qiniu {
    pub account: QiniuAccount,
    pub domain: String,
    pub token_ttl: Duration,
}

/// This dialect's settings, read and checked once.
#[derive(Debug, Clone)]
pub struct Config {
    pub cookie_name: String,
    pub cookie_max_age: Duration,
    pub cookie_domain: Option<String>,
    pub ids: N3d,
    pub universal_code: Option<String>,
    pub send_interval: Duration,
    pub code_ttl: Duration,
    pub code_length: usize,
    pub im_tokens: ImTokens,
    pub qiniu: Option<Qiniu>,
    pub require_img_code: bool,
    pub img_code_ttl: Duration,
    pub public_base_url: Option<String>,
}

fn problem(key: &OwnKey, reason: impl Into<String>) -> SettingsProblem {
    SettingsProblem {
        key: key.name,
        reason: reason.into(),
    }
}

fn set_text<'a>(settings: &'a DialectSettings, key: &OwnKey) -> Option<&'a str> {
    settings.text(key).filter(|text| !text.trim().is_empty())
}

impl Config {
    pub fn from_settings(settings: &DialectSettings) -> Result<Config, SettingsProblem> {
        let id_key = settings.text(&ID_KEY).unwrap_or_default();
        let ids = N3d::new(id_key).map_err(|err| {
            problem(
                &ID_KEY,
                format!("{err} (an ASCII key whose code reaches 4294967295: 5 characters or more)"),
            )
        })?;
        let code_length = usize::try_from(settings.uint(&CODE_LENGTH)).unwrap_or(usize::MAX);
        if !(4..=6).contains(&code_length) {
            return Err(problem(&CODE_LENGTH, "must be 4, 5 or 6"));
        }
        let im_tokens = match settings.text(&IM_TOKEN_PROVIDER).unwrap_or_default() {
            "local" => ImTokens::Local,
            "rongcloud" => {
                let (Some(app_key), Some(app_secret)) = (
                    set_text(settings, &RONGCLOUD_APP_KEY),
                    set_text(settings, &RONGCLOUD_APP_SECRET),
                ) else {
                    return Err(problem(
                        &IM_TOKEN_PROVIDER,
                        "`rongcloud` needs rongcloud_app_key and rongcloud_app_secret",
                    ));
                };
                let base_url = settings.text(&RONGCLOUD_API_URL).unwrap_or_default();
                let base_url = im_token::check_base_url(base_url)
                    .map_err(|reason| problem(&RONGCLOUD_API_URL, reason))?;
                ImTokens::RongCloud {
                    app: RongCloudApp {
                        app_key: app_key.to_owned(),
                        app_secret: app_secret.to_owned(),
                    },
                    base_url,
                }
            }
            other => {
                return Err(problem(
                    &IM_TOKEN_PROVIDER,
                    format!("`{other}` is not `local` or `rongcloud`"),
                ));
            }
        };
        let qiniu_keys = [
            &QINIU_ACCESS_KEY,
            &QINIU_SECRET_KEY,
            &QINIU_BUCKET,
            &QINIU_BUCKET_DOMAIN,
        ];
        let qiniu_values: Vec<Option<&str>> =
            qiniu_keys.iter().map(|k| set_text(settings, k)).collect();
        let qiniu = match qiniu_values.as_slice() {
            [Some(access), Some(secret), Some(bucket), Some(domain)] => Some(Qiniu {
                account: QiniuAccount::new(access, secret, bucket)
                    .map_err(|err| problem(&QINIU_ACCESS_KEY, err.to_string()))?,
                domain: (*domain).to_owned(),
                token_ttl: Duration::from_secs(settings.uint(&QINIU_TOKEN_TTL)),
            }),
            values if values.iter().all(Option::is_none) => None,
            values => {
                let missing = qiniu_keys
                    .iter()
                    .zip(values)
                    .find(|(_, value)| value.is_none())
                    .map_or(&QINIU_ACCESS_KEY, |(key, _)| *key);
                return Err(problem(
                    missing,
                    "the four qiniu_* keys are set together or not at all",
                ));
            }
        };
        let public_base_url = set_text(settings, &PUBLIC_BASE_URL)
            .map(|url| url.trim().trim_end_matches('/').to_owned());
        if let Some(url) = &public_base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(problem(
                &PUBLIC_BASE_URL,
                "must start with http:// or https://",
            ));
        }
        Ok(Config {
            cookie_name: settings
                .text(&COOKIE_NAME)
                .unwrap_or("rong_im_auth")
                .to_owned(),
            cookie_max_age: Duration::from_secs(settings.uint(&COOKIE_MAX_AGE)),
            cookie_domain: set_text(settings, &COOKIE_DOMAIN).map(str::to_owned),
            ids,
            universal_code: set_text(settings, &UNIVERSAL_CODE).map(str::to_owned),
            send_interval: Duration::from_secs(settings.uint(&SEND_INTERVAL)),
            code_ttl: Duration::from_secs(settings.uint(&CODE_TTL)),
            code_length,
            im_tokens,
            qiniu,
            require_img_code: settings.flag(&REQUIRE_IMG_CODE),
            img_code_ttl: Duration::from_secs(settings.uint(&IMG_CODE_TTL)),
            public_base_url,
        })
    }
}

impl Config {
    /// A wire id (N3D); ids outside the cipher's range (never issued by the core) render as
    /// null, as the original's encoder failed on them.
    pub fn wire_id(&self, id: i64) -> serde_json::Value {
        u64::try_from(id)
            .ok()
            .and_then(|id| self.ids.encode(id))
            .map_or(serde_json::Value::Null, serde_json::Value::String)
    }
}

fn check_settings(settings: &DialectSettings) -> Result<(), SettingsProblem> {
    let cookie_name = settings.text(&COOKIE_NAME).unwrap_or_default();
    if !crate::dialects::kit::is_cookie_name(cookie_name) {
        return Err(problem(&COOKIE_NAME, "is not a valid cookie name"));
    }
    Config::from_settings(settings).map(|_| ())
}

/// What every handler gets: the core and this dialect's settings.
pub struct State {
    pub ctx: DialectContext,
    pub config: Config,
}

impl State {
    /// Business messages are part of answers in test mode only (the original's development mode).
    pub fn with_messages(&self) -> bool {
        self.ctx.service.config().testing.enabled
    }

    /// `{"code":200[,"result":…]}`.
    pub fn ok(&self, result: Option<serde_json::Value>) -> Reply {
        wire::Business::ok(result).render(self.with_messages())
    }

    /// A handler's answer from its outcome.
    #[expect(
        clippy::result_large_err,
        reason = "`Answer` is the kit's handler result, returned once per request"
    )]
    pub fn answer(&self, outcome: Result<Reply, error::Failure>) -> Answer {
        outcome.map_err(|failure| failure.into_refusal(self.with_messages()))
    }

    pub fn encode_id(&self, id: i64) -> serde_json::Value {
        self.config.wire_id(id)
    }
}

pub static SPEC: DialectSpec = DialectSpec {
    id: "code_result",
    title: "SealTalk (003)",
    default_port: 8084,
    own_keys: OWN_KEYS,
    routes: ROUTES,
    volatile: &[
        Volatile {
            location: Location::Cookie("rong_im_auth"),
            kind: VolatileKind::Session,
        },
        // The verification token goes back in requests: redacted alike on both sides.
        Volatile {
            location: Location::JsonPointer("/result/verification_token"),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::Field("verification_token"),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::JsonPointer("/result/token"),
            kind: VolatileKind::Session,
        },
        Volatile {
            location: Location::JsonPointer("/result/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/userId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/verifyId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/url"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/user/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/user/updatedAt"),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/group/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/group/creatorId"),
            kind: VolatileKind::Id,
        },
        // sync/:version: raw ids and millisecond versions.
        Volatile {
            location: Location::JsonPointer("/result/version"),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::JsonPointer("/result/user/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/user/timestamp"),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/*/friendId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/*/groupId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/*/memberId"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/*/timestamp"),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/*/user/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/*/group/id"),
            kind: VolatileKind::Id,
        },
        Volatile {
            location: Location::JsonPointer("/result/*/*/group/timestamp"),
            kind: VolatileKind::Timestamp,
        },
        Volatile {
            location: Location::Field("code"),
            kind: VolatileKind::SmsCode {
                phone_field: "phone",
            },
        },
        Volatile {
            location: Location::PathSegment {
                pattern: "/user/{id}",
                index: 1,
            },
            kind: VolatileKind::Id,
        },
    ],
    secrets: &[
        Location::Field("password"),
        Location::Field("oldPassword"),
        Location::Field("newPassword"),
    ],
    reads: &[
        "/user/check_phone_available",
        "/user/sms_img_code/{verify_id:[0-9a-f]+}.png",
        "/user/blacklist",
        "/user/groups",
        "/user/sync/{version}",
        "/user/batch",
        "/user/find/{region}/{phone}",
        "/user/{id}",
    ],
    client_header: None,
    replay_fixup: None,
    mount,
    framework_error: error::framework_error,
    check_settings: Some(check_settings),
};

// The original's order: the fixed read paths before `/:id`, which takes every other single
// segment (README: Routes).
route_table! {
    POST "/user/send_code" => account::send_code, "003 §POST /user/send_code; SealTalk route 1", api::send_code;
    POST "/user/verify_code" => account::verify_code, "003 §POST /user/verify_code; SealTalk route 2", api::verify_code;
    POST "/user/check_phone_available" => account::check_phone_available, "003 §POST /user/check_phone_available; SealTalk route 3", api::check_phone_available;
    POST "/user/register" => account::register, "003 §POST /user/register; SealTalk route 4", api::register;
    POST "/user/login" => account::login, "003 §POST /user/login; SealTalk route 5", api::login;
    POST "/user/logout" => account::logout, "003 §POST /user/logout; SealTalk route 6", api::logout;
    POST "/user/reset_password" => account::reset_password, "003 §POST /user/reset_password; SealTalk route 7", api::reset_password;
    POST "/user/change_password" => account::change_password, "003 §POST /user/change_password; SealTalk route 8", api::change_password;
    POST "/user/set_nickname" => profile::set_nickname, "003 §POST /user/set_nickname; SealTalk route 9", api::set_nickname;
    POST "/user/set_portrait_uri" => profile::set_portrait_uri, "003 §POST /user/set_portrait_uri; SealTalk route 10", api::set_portrait_uri;
    POST "/user/add_to_blacklist" => social::add_to_blacklist, "003 §POST /user/add_to_blacklist; SealTalk route 11", api::add_to_blacklist;
    POST "/user/remove_from_blacklist" => social::remove_from_blacklist, "003 §POST /user/remove_from_blacklist; SealTalk route 12", api::remove_from_blacklist;
    POST "/user/upload_contacts" => profile::upload_contacts, "SealTalk route 13 (undocumented)", api::upload_contacts;
    GET | POST "/user/get_token" => media::get_token, "003 §POST /user/get_token; SealTalk route 14", api::get_token;
    GET | POST "/user/get_image_token" => media::get_image_token, "003 §POST /user/get_image_token; SealTalk route 15", api::get_image_token;
    GET | POST "/user/get_sms_img_code" => media::get_sms_img_code, "003 §POST /user/get_sms_img_code; SealTalk route 16", api::get_sms_img_code;
    GET r"/user/sms_img_code/{verify_id:[0-9a-f]+}.png" => media::sms_img_code_picture, "SealTalk route 16 (the picture behind `url`)", api::sms_img_code_picture;
    GET | POST "/user/blacklist" => social::blacklist, "003 §POST /user/blacklist; SealTalk route 17", api::blacklist;
    GET | POST "/user/groups" => social::groups, "003 §POST /user/groups; SealTalk route 18", api::groups;
    GET | POST "/user/sync/{version}" => social::sync, "003 §POST /user/sync/:version; SealTalk route 19", api::sync;
    GET | POST "/user/batch" => profile::batch, "SealTalk route 20 (undocumented)", api::batch;
    GET | POST "/user/find/{region}/{phone}" => profile::find, "003 §POST /user/find/:region/:phone; SealTalk route 22", api::find;
    GET | POST "/user/{id}" => profile::user, "003 §POST /user/:id; SealTalk route 21", api::user;
}

fn mount(cfg: &mut web::ServiceConfig, ctx: &DialectContext) {
    match Config::from_settings(&ctx.settings) {
        Ok(config) => {
            cfg.app_data(web::Data::new(State {
                ctx: ctx.clone(),
                config,
            }));
            mount_routes(cfg);
        }
        // Start-up checked these settings; mounting nothing leaves every path to the failure
        // hook rather than serving with a wrong key.
        Err(problem) => tracing::error!(
            key = problem.key,
            reason = %problem.reason,
            "code_result settings are unusable; its routes are not mounted"
        ),
    }
}
