//! Sessions of the `code_sec` dialect: a `uid` + 16-character `sec` pair sent as parameters; one
//! current `sec` per user (a new login or registration replaces it), stored with the `xid`.

use super::State;
use super::error::{core_error, param_error};
use super::wire::{Code, Refused};
use actix_web::HttpRequest;

use crate::dialects::kit::{Params, client_ip};
use crate::domain::UserId;
use crate::domain::token::TokenShape;
use crate::service::sessions::{Expect, SessionSpec};

/// The caller a `uid` + `sec` pair names.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub sec: String,
}

/// Missing `uid` or `sec` is 400; a pair that is not a live session of that user is 4000.
pub async fn authenticate(
    state: &State,
    req: &HttpRequest,
    params: &Params,
) -> Result<Caller, Refused> {
    let uid = params.non_blank("uid").map_err(param_error)?;
    let sec = params.non_blank("sec").map_err(param_error)?;
    let user_id: UserId = uid.trim().parse().map_err(|_| Refused::new(Code::BadSec))?;
    let sec = sec.trim().to_ascii_lowercase();
    state
        .ctx
        .service
        .authenticate(
            super::SPEC.id,
            &sec,
            Expect {
                user_id: Some(user_id),
                client_id: None,
                from: client_ip(req).as_deref(),
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Caller { user_id, sec })
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
