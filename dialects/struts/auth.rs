//! The session headers of the `struts` dialect: login answers `uid`, `accessToken`, `client`
//! and `expire`; authenticated calls send them back, and their answers carry them again. A
//! session is bound to the `client` it was opened with.

use actix_web::HttpRequest;

use super::error::{core_error, info};
use super::wire::Failure;
use crate::dialects::DialectContext;
use crate::dialects::kit::{Outcome, Reply, client_ip, header_text};
use crate::domain::UserId;
use crate::service::sessions::Expect;

pub const UID_HEADER: &str = "uid";
pub const TOKEN_HEADER: &str = "accessToken";
pub const CLIENT_HEADER: &str = "client";
pub const EXPIRE_HEADER: &str = "expire";

/// The logged-in caller, with what its answers echo.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub token: String,
    pub client: Option<String>,
    pub expires_at: i64,
}

fn not_logged_in() -> Failure {
    Failure::new(info::NOT_LOGGED_IN).with_outcome(Outcome::AuthError)
}

/// The `client` header the request sent, if any.
pub fn client(req: &HttpRequest) -> Option<String> {
    header_text(req, CLIENT_HEADER).map(str::to_owned)
}

/// The caller the headers name. `uid`, when sent, must be the session's user; `client`, when
/// sent, must be the one the session was opened with.
pub async fn authenticate(ctx: &DialectContext, req: &HttpRequest) -> Result<Caller, Failure> {
    let token = header_text(req, TOKEN_HEADER).ok_or_else(not_logged_in)?;
    let claimed = match header_text(req, UID_HEADER) {
        Some(uid) => Some(uid.parse::<UserId>().map_err(|_| not_logged_in())?),
        None => None,
    };
    let client = client(req);
    let session = ctx
        .service
        .authenticate(
            super::SPEC.id,
            token,
            Expect {
                user_id: claimed,
                client_id: client.as_deref(),
                from: client_ip(req).as_deref(),
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Caller {
        user_id: session.user_id,
        token: token.to_owned(),
        client,
        expires_at: session.expires_at,
    })
}

/// An answer with the session headers (`expire` in epoch milliseconds). Header names travel in
/// lower case, as HTTP/1.1 allows and every client reads them.
pub fn with_session(reply: Reply, caller: &Caller) -> Reply {
    let reply = reply
        .header("uid", &caller.user_id.to_string())
        .header("accesstoken", &caller.token);
    let reply = match &caller.client {
        Some(client) => reply.header("client", client),
        None => reply,
    };
    reply.header("expire", &caller.expires_at.to_string())
}
