//! Image codes (captchas): a random code kept under a verify id for a short time, its picture
//! drawn on demand, and one check that uses it up, right or wrong (so it cannot be guessed at).

use std::time::Duration;

use super::{Service, logged_internal, random_digits};
use crate::domain::CoreError;
use crate::domain::captcha;
use crate::storage;

/// A new image code. `code` is for the caller's own checks and tests: a client only ever sees
/// the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageCode {
    pub verify_id: String,
    pub code: String,
    pub expires_at: i64,
}

impl Service {
    /// Stores a new code of `digits` digits (4 to 6) for `lifetime`; in test mode with a fixed
    /// code, that code (as for SMS codes).
    pub async fn new_image_code(
        &self,
        digits: usize,
        lifetime: Duration,
    ) -> Result<ImageCode, CoreError> {
        if !(4..=6).contains(&digits) {
            return Err(logged_internal(format!(
                "image code length {digits} is outside 4..=6"
            )));
        }
        let testing = &self.config().testing;
        let code = match (&testing.fixed_code, testing.enabled) {
            (Some(fixed), true) => fixed.clone(),
            _ => random_digits(digits),
        };
        let now = self.now_ms();
        let expires_at =
            now.saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX));
        let verify_id = uuid::Uuid::new_v4().simple().to_string();
        let (id, stored) = (verify_id.clone(), code.clone());
        self.write(move |conn| {
            storage::image_codes::insert(conn, &id, &stored, now, expires_at)
                .map_err(CoreError::from)
        })
        .await?;
        Ok(ImageCode {
            verify_id,
            code,
            expires_at,
        })
    }

    /// The picture of a live code, drawn anew each time; `None` when unknown, used or expired.
    pub async fn image_code_picture(&self, verify_id: &str) -> Result<Option<Vec<u8>>, CoreError> {
        let id = verify_id.to_owned();
        let now = self.now_ms();
        let found = self
            .db(move |conn| storage::image_codes::peek(conn, &id).map_err(CoreError::from))
            .await?;
        Ok(found
            .filter(|(_, expires_at)| *expires_at > now)
            .map(|(code, _)| captcha::render_png(&code, &mut rand::rng())))
    }

    /// Checks a code and uses it up: `CodeNotRequested` for an unknown or used verify id,
    /// `CodeExpired`, `CodeWrong`.
    pub async fn check_image_code(&self, verify_id: &str, code: &str) -> Result<(), CoreError> {
        let id = verify_id.to_owned();
        let now = self.now_ms();
        let (stored, expires_at) = self
            // One DELETE … RETURNING: two checks of one code cannot both take it.
            .write(move |conn| storage::image_codes::take(conn, &id).map_err(CoreError::from))
            .await?
            .ok_or(CoreError::CodeNotRequested)?;
        if now >= expires_at {
            return Err(CoreError::CodeExpired);
        }
        if !crate::domain::credential::constant_time_eq(code.trim().as_bytes(), stored.as_bytes()) {
            return Err(CoreError::CodeWrong);
        }
        Ok(())
    }
}
