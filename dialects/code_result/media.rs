//! Tokens and pictures: the IM token, the Qiniu upload token and the SMS picture code (rows
//! 14–16 of the original's route table).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use serde_json::json;

use super::error::{Failure, core_error};
use super::wire::TextError;
use super::{State, auth, im_token};
use crate::dialects::kit::{Answer, Outcome, Reply};

type Ctx = web::Data<State>;

/// Digits of a picture code.
const IMAGE_CODE_DIGITS: usize = 4;

/// `GET /user/get_token` (route 14): a new IM token, which becomes the user's current one.
pub async fn get_token(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(im_token_of(&req, payload, &state).await)
}

async fn im_token_of(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    let (caller, _) = auth::logged_in(req, payload, state).await?;
    let token = im_token::new_token(state, caller.user_id).await?;
    Ok(state.ok(Some(json!({
        "userId": state.encode_id(caller.user_id),
        "token": token,
    }))))
}

/// `GET /user/get_image_token` (route 15): a Qiniu upload token for the configured bucket.
pub async fn get_image_token(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(image_token(&req, payload, &state).await)
}

async fn image_token(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    auth::logged_in(req, payload, state).await?;
    let Some(qiniu) = &state.config.qiniu else {
        tracing::warn!("get_image_token was called but no qiniu_* keys are set");
        return Err(Failure::Text(TextError::route(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Image uploads are not configured.",
        )));
    };
    let now_secs = u64::try_from(state.ctx.service.now_ms() / 1000).unwrap_or(0);
    let token = qiniu
        .account
        .upload_token(now_secs, qiniu.token_ttl.as_secs());
    Ok(state.ok(Some(json!({
        "target": "qiniu",
        "domain": qiniu.domain,
        "token": token,
    }))))
}

/// `GET /user/get_sms_img_code` (route 16): a picture code and where to fetch its picture.
pub async fn get_sms_img_code(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    state.answer(image_code(&req, payload, &state).await)
}

async fn image_code(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
) -> Result<Reply, Failure> {
    auth::open(req, payload, state).await?;
    let code = state
        .ctx
        .service
        .new_image_code(IMAGE_CODE_DIGITS, state.config.img_code_ttl)
        .await
        .map_err(|err| core_error(&err))?;
    let base = match &state.config.public_base_url {
        Some(base) => base.clone(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    let url = format!(
        "{base}{}/user/sms_img_code/{}.png",
        state.ctx.settings.prefix, code.verify_id
    );
    Ok(state.ok(Some(json!({ "url": url, "verifyId": code.verify_id }))))
}

/// `GET /user/sms_img_code/<verifyId>.png`: the picture of a live code (no cookie needed: it is
/// shown before login). Unknown, used or expired codes are `404 Unknown verifyId.`.
pub async fn sms_img_code_picture(req: HttpRequest, state: Ctx) -> Answer {
    state.answer(picture(&req, &state).await)
}

async fn picture(req: &HttpRequest, state: &State) -> Result<Reply, Failure> {
    let verify_id = req.match_info().get("verify_id").unwrap_or_default();
    let png = state
        .ctx
        .service
        .image_code_picture(verify_id)
        .await
        .map_err(|err| core_error(&err))?
        .ok_or_else(|| Failure::not_found("Unknown verifyId."))?;
    Ok(Reply::bytes(StatusCode::OK, Outcome::Ok, "image/png", png)
        .header("cache-control", "no-store"))
}
