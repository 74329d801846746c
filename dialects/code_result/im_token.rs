//! The IM port: where `login` and `get_token` get a user's IM token, and where blacklist changes
//! are mirrored — made here (`local`) or by the RongCloud Server API (`rongcloud`), as the
//! original server did with its SDK.

use std::time::Duration;

use actix_web::http::StatusCode;
use rand::RngCore;

use super::State;
use super::error::{Failure, core_error};
use super::wire::TextError;
use crate::domain::UserId;
use crate::domain::credential::to_hex;
use crate::providers::rongcloud::{self, RongCloudApp, SignedRequest};

/// How long a RongCloud call may take before the request fails.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The IM token port.
#[derive(Debug, Clone)]
pub enum ImTokens {
    /// Opaque tokens made by the gateway, for deployments without RongCloud.
    Local,
    /// The RongCloud Server API.
    RongCloud { app: RongCloudApp, base_url: String },
}

/// A RongCloud base URL the gateway can call.
pub fn check_base_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    if url.starts_with("https://") {
        return Err(
            "https:// needs the gateway's HTTPS client, which this build does not have yet; use http://api-cn.ronghub.com (as the original SDK did) or an http:// relay".to_owned(),
        );
    }
    if !url.starts_with("http://") || url.len() <= "http://".len() {
        return Err(format!("`{url}` is not an http:// URL"));
    }
    Ok(url.to_owned())
}

fn provider_failure(detail: impl std::fmt::Display) -> Failure {
    tracing::error!(%detail, "RongCloud call failed");
    // The original passed the SDK's error to its error handler: a 500 with its message.
    Failure::Text(TextError::route(
        StatusCode::INTERNAL_SERVER_ERROR,
        "RongCloud Server API Error.",
    ))
}

fn nonce() -> String {
    rand::rng().next_u32().to_string()
}

async fn call(base_url: &str, request: SignedRequest) -> Result<(u16, Vec<u8>), Failure> {
    let (status, body) = rongcloud::send(base_url, &request, CALL_TIMEOUT)
        .await
        .map_err(provider_failure)?;
    Ok((status, body.to_vec()))
}

/// A new IM token for the user, stored as the user's current one.
pub async fn new_token(state: &State, user_id: UserId) -> Result<String, Failure> {
    let service = &state.ctx.service;
    let token = match &state.config.im_tokens {
        ImTokens::Local => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            to_hex(&bytes)
        }
        ImTokens::RongCloud { app, base_url } => {
            let card = service
                .profile_card(user_id)
                .await
                .map_err(|err| core_error(&err))?;
            let wire_id = state.encode_id(user_id);
            let wire_id = wire_id.as_str().unwrap_or_default();
            let request = app.get_token(
                wire_id,
                &card.nickname,
                card.avatar_url.as_deref(),
                &nonce(),
                service.now_ms(),
            );
            let (status, body) = call(base_url, request).await?;
            rongcloud::read_token(status, &body).map_err(provider_failure)?
        }
    };
    service
        .set_im_token(user_id, token.clone())
        .await
        .map_err(|err| core_error(&err))?;
    Ok(token)
}

/// The user's stored IM token, or a new one when there is none (`login`).
pub async fn stored_or_new(state: &State, user_id: UserId) -> Result<String, Failure> {
    let profile = state
        .ctx
        .service
        .profile(user_id)
        .await
        .map_err(|err| core_error(&err))?;
    match profile.im_token.filter(|token| !token.is_empty()) {
        Some(token) => Ok(token),
        None => new_token(state, user_id).await,
    }
}

/// Mirrors a blacklist change to the IM server (nothing to do for `local`).
pub async fn mirror_blacklist(
    state: &State,
    user_id: UserId,
    target_id: UserId,
    add: bool,
) -> Result<(), Failure> {
    let ImTokens::RongCloud { app, base_url } = &state.config.im_tokens else {
        return Ok(());
    };
    let (user, target) = (state.encode_id(user_id), state.encode_id(target_id));
    let request = app.blacklist(
        add,
        user.as_str().unwrap_or_default(),
        &[target.as_str().unwrap_or_default()],
        &nonce(),
        state.ctx.service.now_ms(),
    );
    let (status, body) = call(base_url, request).await?;
    rongcloud::read_done(status, &body).map_err(provider_failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_plain_http_until_the_https_client_lands() {
        assert_eq!(
            check_base_url("http://api-cn.ronghub.com/").unwrap(),
            "http://api-cn.ronghub.com"
        );
        assert!(check_base_url("https://api-cn.ronghub.com").is_err());
        assert!(check_base_url("api-cn.ronghub.com").is_err());
        assert!(check_base_url("http://").is_err());
    }
}
