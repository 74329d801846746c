//! The session carriers of the `error_code` dialect: `X-Auth-Token`, or the
//! `X-Auth-Username` + `X-Auth-Password` pair (README: Sessions).

use actix_web::HttpRequest;

use super::error::{core_error, detail};
use super::wire::{Code, ErrorReply};
use crate::dialects::DialectContext;
use crate::dialects::kit::{client_ip, header_text};
use crate::domain::UserId;
use crate::domain::credential::PasswordInput;
use crate::domain::identity::LoginName;
use crate::service::sessions::Expect;

pub const TOKEN_HEADER: &str = "X-Auth-Token";
pub const USERNAME_HEADER: &str = "X-Auth-Username";
pub const PASSWORD_HEADER: &str = "X-Auth-Password";

/// Who is calling, and how they proved it.
#[derive(Debug, Clone)]
pub enum Caller {
    Token { user_id: UserId, token: String },
    Credentials { user_id: UserId },
}

impl Caller {
    pub fn user_id(&self) -> UserId {
        match self {
            Caller::Token { user_id, .. } | Caller::Credentials { user_id } => *user_id,
        }
    }
}

/// Logs in with a name and a plain password, with the dialect's answers for unknown accounts
/// and wrong passwords.
pub async fn login(
    ctx: &DialectContext,
    req: &HttpRequest,
    username: &str,
    password: &str,
) -> Result<UserId, ErrorReply> {
    let name = LoginName::parse_phone_or_username(username)
        .map_err(|_| ErrorReply::new(Code::RequestFailed, detail::UNKNOWN_ACCOUNT))?;
    let ip = client_ip(req);
    ctx.service
        .login(
            &name,
            &PasswordInput::Plain(password.to_owned()),
            ip.as_deref(),
        )
        .await
        .map_err(|err| core_error(&err))
}

pub async fn authenticate(ctx: &DialectContext, req: &HttpRequest) -> Result<Caller, ErrorReply> {
    if let (Some(username), Some(password)) = (
        header_text(req, USERNAME_HEADER),
        header_text(req, PASSWORD_HEADER),
    ) {
        let user_id = login(ctx, req, username, password).await?;
        return Ok(Caller::Credentials { user_id });
    }
    let token = header_text(req, TOKEN_HEADER)
        .ok_or_else(|| ErrorReply::new(Code::TokenInvalid, detail::TOKEN_NOT_SET))?;
    let session = ctx
        .service
        .authenticate(
            super::SPEC.id,
            token,
            Expect {
                from: client_ip(req).as_deref(),
                ..Expect::NOTHING
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(Caller::Token {
        user_id: session.user_id,
        token: token.to_owned(),
    })
}
