//! The `error_code` dialect: BlueU's `/api/user/*` (`spec/004_*.txt`), always HTTP 200 with
//! `{error_code, error_msg[, data]}`, `X-Auth-Token` sessions of 3600 s.

mod auth;
mod error;
mod handlers;
pub mod wire;

use actix_web::{HttpRequest, HttpResponse, web};

use super::{
    DialectContext, DialectSpec, FrameworkError, Location, OwnDefault, OwnKey, OwnKind, RouteDoc,
    Volatile, VolatileKind,
};

pub const TOKEN_TTL_KEY: &str = "token_ttl_seconds";
pub const DEFAULT_TOKEN_TTL: u64 = 3600;

pub static SPEC: DialectSpec = DialectSpec {
    id: "error_code",
    title: "BlueU (004)",
    default_port: 8085,
    own_keys: &[OwnKey {
        name: TOKEN_TTL_KEY,
        kind: OwnKind::UInt,
        default: OwnDefault::UInt(DEFAULT_TOKEN_TTL),
        test_only: false,
        doc: "lifetime of an X-Auth-Token in seconds (the original: 3600)",
    }],
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
    replay_fixup: None,
    mount,
    framework_error: error::framework_error,
};

const ROUTES: &[RouteDoc] = &[
    RouteDoc {
        method: "POST",
        path: "/api/user/register",
        source: "004 §用户注册",
    },
    RouteDoc {
        method: "POST",
        path: "/api/user/login",
        source: "004 §用户登录",
    },
    RouteDoc {
        method: "POST",
        path: "/api/user/resetpwd",
        source: "004 §重置密码",
    },
    RouteDoc {
        method: "POST",
        path: "/api/user/logout",
        source: "004 §用户登出",
    },
    RouteDoc {
        method: "POST",
        path: "/api/user/{id}/edit",
        source: "004 §用户修改资料",
    },
    RouteDoc {
        method: "POST",
        path: "/api/user/{id}/push",
        source: "004 §用户信息推送开关 (/api/user/1/push)",
    },
    RouteDoc {
        method: "GET",
        path: "/api/user/{id}",
        source: "004 §用户信息推送开关 (/api/user/1, the detail)",
    },
];

async fn wrong_method(req: HttpRequest) -> HttpResponse {
    error::framework_error(&req, FrameworkError::MethodNotAllowed)
}

/// A path served for POST only; other methods get the dialect's wrong-method answer.
fn post_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::post().to(handler))
        .default_service(web::to(wrong_method))
}

fn mount(cfg: &mut web::ServiceConfig, ctx: &DialectContext) {
    cfg.app_data(web::Data::new(ctx.clone()))
        .service(post_only("/api/user/register", handlers::register))
        .service(post_only("/api/user/login", handlers::login))
        .service(post_only("/api/user/resetpwd", handlers::reset_password))
        .service(post_only("/api/user/logout", handlers::logout))
        .service(post_only(r"/api/user/{id:\d+}/edit", handlers::edit))
        .service(post_only(r"/api/user/{id:\d+}/push", handlers::push))
        .service(
            // The document's curl fetches the detail with POST: both are served.
            web::resource(r"/api/user/{id:\d+}")
                .route(web::get().to(handlers::detail))
                .route(web::post().to(handlers::detail))
                .default_service(web::to(wrong_method)),
        );
}
