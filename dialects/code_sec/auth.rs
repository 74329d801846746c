//! Sessions of the `code_sec` dialect: a `uid` + 16-character `sec` pair sent as parameters; one
//! current `sec` per user (a new login or registration replaces it), stored with the `xid`.

use super::State;
use super::error::{core_error, param_error};
use super::wire::{Code, Refused};
use actix_web::HttpRequest;

use crate::dialects::kit::{Params, client_ip};
use crate::domain::profile::Profile;
use crate::domain::token::TokenShape;
use crate::domain::{CoreError, UserId};
use crate::service::profiles::Whose;
use crate::service::sessions::{Expect, SessionSpec};

/// The caller a `uid` + `sec` pair names.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub sec: String,
}

/// The `uid` + `sec` pair of a request: missing `uid` or `sec` is 400, a `uid` that is not a
/// number 4000.
fn claims(params: &Params) -> Result<(UserId, String), Refused> {
    let uid = params.non_blank("uid").map_err(param_error)?;
    let sec = params.non_blank("sec").map_err(param_error)?;
    let user_id: UserId = uid.trim().parse().map_err(|_| Refused::new(Code::BadSec))?;
    Ok((user_id, sec.trim().to_ascii_lowercase()))
}

fn expect(user_id: UserId, from: Option<&str>) -> Expect<'_> {
    Expect {
        user_id: Some(user_id),
        client_id: None,
        from,
    }
}

/// Missing `uid` or `sec` is 400; a pair that is not a live session of that user is 4000.
pub async fn authenticate(
    state: &State,
    req: &HttpRequest,
    params: &Params,
) -> Result<Caller, Refused> {
    let (user_id, sec) = claims(params)?;
    let from = client_ip(req);
    state
        .ctx
        .service
        .authenticate(super::SPEC.id, &sec, expect(user_id, from.as_deref()))
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Caller { user_id, sec })
}

/// As [`authenticate`], with the caller's profile read in the same round trip.
pub async fn authenticate_profile(
    state: &State,
    req: &HttpRequest,
    params: &Params,
) -> Result<(Caller, Profile), Refused> {
    let (user_id, sec) = claims(params)?;
    let from = client_ip(req);
    let (_, profile) = state
        .ctx
        .service
        .authenticated_profile(
            super::SPEC.id,
            &sec,
            expect(user_id, from.as_deref()),
            Whose::Caller,
        )
        .await
        .map_err(|err| core_error(&err))?;
    let profile = profile.ok_or_else(|| core_error(&CoreError::UserNotFound))?;
    Ok((Caller { user_id, sec }, profile))
}

/// A new `sec` for the user, replacing the previous one; `xid` is kept with it.
pub async fn start_session(
    state: &State,
    user_id: UserId,
    xid: Option<String>,
) -> Result<String, Refused> {
    let session = state
        .ctx
        .service
        .create_session(
            user_id,
            SessionSpec {
                dialect: super::SPEC.id,
                shape: TokenShape::Hex16,
                ttl: state.config.session_ttl,
                client_id: xid,
                single_per_user: true,
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(session.token)
}
