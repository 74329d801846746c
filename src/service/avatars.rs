//! Avatar images: checked by content (jpg, jpeg, bmp, png), at most 3 MiB, kept in the database.

use super::Service;
use crate::domain::avatar::{ImageFormat, MAX_AVATAR_BYTES};
use crate::domain::{CoreError, UserId};
use crate::storage;
use crate::storage::social::VersionKind;

/// A stored avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avatar {
    pub format: ImageFormat,
    pub bytes: Vec<u8>,
    pub updated_at: i64,
}

impl Service {
    pub async fn set_avatar(
        &self,
        user_id: UserId,
        bytes: Vec<u8>,
    ) -> Result<ImageFormat, CoreError> {
        if bytes.len() > MAX_AVATAR_BYTES {
            return Err(CoreError::AvatarTooLarge);
        }
        let format = ImageFormat::sniff(&bytes).ok_or(CoreError::AvatarFormat)?;
        let now = self.now_ms();
        self.write(move |conn| {
            if !storage::users::exists(conn, user_id)? {
                return Err(CoreError::UserNotFound);
            }
            storage::avatars::put(conn, user_id, format.extension(), &bytes, now)?;
            storage::social::bump_versions(conn, &[user_id], VersionKind::User, now)?;
            Ok(())
        })
        .await?;
        Ok(format)
    }

    /// The format of a user's stored avatar, without its bytes (for its URL).
    pub async fn avatar_format(&self, user_id: UserId) -> Result<Option<ImageFormat>, CoreError> {
        let found = self
            .db(move |conn| storage::avatars::format_of(conn, user_id).map_err(CoreError::from))
            .await?;
        Ok(found.and_then(|format| ImageFormat::from_extension(&format)))
    }

    pub async fn avatar(&self, user_id: UserId) -> Result<Option<Avatar>, CoreError> {
        let found = self
            .db(move |conn| storage::avatars::get(conn, user_id).map_err(CoreError::from))
            .await?;
        Ok(found.and_then(|(format, bytes, updated_at)| {
            ImageFormat::from_extension(&format).map(|format| Avatar {
                format,
                bytes,
                updated_at,
            })
        }))
    }
}
