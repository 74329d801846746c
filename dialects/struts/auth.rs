//! The session headers of the `struts` dialect: login answers `uid`, `accessToken`, `client`
//! and `expire`; authenticated calls send them back, and their answers carry them again. A
//! session is bound to the `client` it was opened with.

use actix_web::HttpRequest;

use super::error::{core_error, info};
use super::wire::Failure;
use crate::dialects::DialectContext;
use crate::dialects::kit::{Outcome, Reply, client_ip, header_text};
use crate::domain::profile::Profile;
use crate::domain::{CoreError, UserId};
use crate::service::profiles::Whose;
use crate::service::sessions::{Expect, SessionInfo};

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

/// What the session headers claim.
struct Claims {
    token: String,
    claimed: Option<UserId>,
    client: Option<String>,
    from: Option<String>,
}

impl Claims {
    /// `uid`, when sent, must be the session's user; `client`, when sent, must be the one the
    /// session was opened with.
    fn read(req: &HttpRequest) -> Result<Claims, Failure> {
        let token = header_text(req, TOKEN_HEADER).ok_or_else(not_logged_in)?;
        let claimed = match header_text(req, UID_HEADER) {
            Some(uid) => Some(uid.parse::<UserId>().map_err(|_| not_logged_in())?),
            None => None,
        };
        Ok(Claims {
            token: token.to_owned(),
            claimed,
            client: client(req),
            from: client_ip(req),
        })
    }

    fn expect(&self) -> Expect<'_> {
        Expect {
            user_id: self.claimed,
            client_id: self.client.as_deref(),
            from: self.from.as_deref(),
        }
    }

    fn caller(self, session: SessionInfo) -> Caller {
        Caller {
            user_id: session.user_id,
            token: self.token,
            client: self.client,
            expires_at: session.expires_at,
        }
    }
}

/// The caller the headers name.
pub async fn authenticate(ctx: &DialectContext, req: &HttpRequest) -> Result<Caller, Failure> {
    let claims = Claims::read(req)?;
    let session = ctx
        .service
        .authenticate(super::SPEC.id, &claims.token, claims.expect())
        .await
        .map_err(|err| core_error(&err))?;
    Ok(claims.caller(session))
}

/// The caller the headers name and `whose` profile, read with the session in one round trip.
pub async fn authenticate_profile(
    ctx: &DialectContext,
    req: &HttpRequest,
    whose: Whose,
) -> Result<(Caller, Profile), Failure> {
    let claims = Claims::read(req)?;
    let (session, profile) = ctx
        .service
        .authenticated_profile(super::SPEC.id, &claims.token, claims.expect(), whose)
        .await
        .map_err(|err| core_error(&err))?;
    let profile = profile.ok_or_else(|| core_error(&CoreError::UserNotFound))?;
    Ok((claims.caller(session), profile))
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
