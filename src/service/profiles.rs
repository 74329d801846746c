//! Profiles: read, partial update (with the version bumps it causes), roles, bans, push, IM token.

use super::Service;
use super::accounts::profile_changes;
use super::sessions::{Expect, SessionInfo};
use crate::domain::phone::Phone;
use crate::domain::profile::{
    Gender, Profile, ProfileCard, ProfilePatch, Recommender, Role, TextField,
};
use crate::domain::{CoreError, UserId};
use crate::storage;
use crate::storage::models::UserChanges;
use crate::storage::social::VersionKind;
use crate::storage::users::{CardRow, UserRecord};

/// Whose profile an authenticated read loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// The session's own user.
    Caller,
    User(UserId),
}

impl Whose {
    fn user(self, session: &SessionInfo) -> UserId {
        match self {
            Whose::Caller => session.user_id,
            Whose::User(id) => id,
        }
    }
}

impl Service {
    pub async fn profile(&self, user_id: UserId) -> Result<Profile, CoreError> {
        let record = self
            .db(move |conn| storage::users::load(conn, user_id).map_err(CoreError::from))
            .await?
            .ok_or(CoreError::UserNotFound)?;
        Ok(profile_from(record))
    }

    /// A session's check and a profile read in one round trip: `whose` profile (`None` when it
    /// names nobody), once the session holds (see [`Service::authenticate`] for the refusals).
    pub async fn authenticated_profile(
        &self,
        dialect: &'static str,
        token: &str,
        expect: Expect<'_>,
        whose: Whose,
    ) -> Result<(SessionInfo, Option<Profile>), CoreError> {
        let read = match whose {
            // The caller's own profile comes with the session, in its statement.
            Whose::Caller => {
                self.authenticated_by(
                    token,
                    expect,
                    move |conn, hash, counter| {
                        let found =
                            storage::sessions::find_with_profile(conn, hash, dialect, counter)?;
                        Ok(found.map(|(row, hits, record)| {
                            let banned = record.row.banned;
                            (row, banned, hits, record)
                        }))
                    },
                    |_, _, record| Ok(Some(record)),
                )
                .await
            }
            Whose::User(user_id) => {
                self.authenticated(dialect, token, expect, move |conn, _| {
                    Ok(storage::users::load(conn, user_id)?)
                })
                .await
            }
        };
        read.map(|(session, record)| (session, record.map(profile_from)))
    }

    /// A session's check and a profile card read in one round trip (`None`: nobody).
    pub async fn authenticated_card(
        &self,
        dialect: &'static str,
        token: &str,
        expect: Expect<'_>,
        whose: Whose,
    ) -> Result<(SessionInfo, Option<ProfileCard>), CoreError> {
        self.authenticated(dialect, token, expect, move |conn, session| {
            Ok(storage::users::load_card(conn, whose.user(session))?)
        })
        .await
        .map(|(session, row)| (session, row.map(card_from)))
    }

    /// The public fields of a profile, read cheaply (the hot path of detail lookups).
    pub async fn profile_card(&self, user_id: UserId) -> Result<ProfileCard, CoreError> {
        self.db(move |conn| storage::users::load_card(conn, user_id).map_err(CoreError::from))
            .await?
            .map(card_from)
            .ok_or(CoreError::UserNotFound)
    }

    /// The cards of many users with one query (SealTalk's `batch`, the users of a blacklist,
    /// a friend list or a group), in ascending id order; unknown ids are left out.
    pub async fn profile_cards(&self, mut ids: Vec<UserId>) -> Result<Vec<ProfileCard>, CoreError> {
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .db(move |conn| storage::users::load_cards(conn, &ids).map_err(CoreError::from))
            .await?;
        Ok(rows.into_iter().map(card_from).collect())
    }

    /// Applies a partial update. A change of nickname or avatar URL moves the user's own version
    /// and the friendship version of everyone who has the user as a friend.
    pub async fn update_profile(
        &self,
        user_id: UserId,
        patch: ProfilePatch,
    ) -> Result<(), CoreError> {
        patch.validate()?;
        if patch.is_empty() {
            return if self.user_exists(user_id).await? {
                Ok(())
            } else {
                Err(CoreError::UserNotFound)
            };
        }
        let now = self.now_ms();
        let mut changes = profile_changes(&patch);
        changes.updated_at = Some(now);
        let visible_to_friends = patch
            .text
            .iter()
            .any(|(f, _)| matches!(f, TextField::Nickname | TextField::AvatarUrl));
        self.write_user(user_id, changes, visible_to_friends, now)
            .await
    }

    async fn write_user(
        &self,
        user_id: UserId,
        changes: UserChanges,
        visible_to_friends: bool,
        now: i64,
    ) -> Result<(), CoreError> {
        self.write(move |conn| {
            if storage::users::update(conn, user_id, &changes)? == 0 {
                return Err(CoreError::UserNotFound);
            }
            storage::social::bump_versions(conn, &[user_id], VersionKind::User, now)?;
            if visible_to_friends {
                let agreed = crate::domain::social::FriendshipStatus::Agreed.code();
                let holders = storage::social::agreed_friends_of(conn, user_id, agreed)?;
                storage::social::bump_versions(conn, &holders, VersionKind::Friendship, now)?;
            }
            Ok(())
        })
        .await
    }

    /// Resolves a recommender as a client sent it (`code_sec`'s `recommend_user_id`): a known
    /// user id, else the 11-digit mainland phone of a known account; anything else is kept as
    /// sent, with no user behind it. The result goes into a profile patch.
    pub async fn resolve_recommender(&self, sent: &str) -> Result<Recommender, CoreError> {
        let sent = sent.trim();
        if let Ok(id) = sent.parse::<UserId>()
            && self.user_exists(id).await?
        {
            return Ok(Recommender::User(id));
        }
        if let Ok(phone) = Phone::parse("86", sent)
            && let Some(id) = self.find_user_by_phone(&phone).await?
        {
            return Ok(Recommender::User(id));
        }
        Ok(Recommender::Unresolved(sent.to_owned()))
    }

    /// The phone of a user's recommender, when the recommender is a known user with a phone.
    pub async fn recommender_phone(&self, profile: &Profile) -> Result<Option<Phone>, CoreError> {
        match profile.recommender_id {
            Some(id) => match self.profile_card(id).await {
                Ok(card) => Ok(card.phone),
                Err(CoreError::UserNotFound) => Ok(None),
                Err(err) => Err(err),
            },
            None => Ok(None),
        }
    }

    pub async fn user_exists(&self, user_id: UserId) -> Result<bool, CoreError> {
        self.db(move |conn| storage::users::exists(conn, user_id).map_err(CoreError::from))
            .await
    }

    /// Bans or unbans; a ban revokes every session at once.
    pub async fn set_banned(&self, user_id: UserId, banned: bool) -> Result<(), CoreError> {
        self.write(move |conn| {
            let changes = UserChanges {
                banned: Some(banned),
                ..UserChanges::default()
            };
            if storage::users::update(conn, user_id, &changes)? == 0 {
                return Err(CoreError::UserNotFound);
            }
            if banned {
                storage::sessions::delete_all_of_user(conn, user_id)?;
            }
            Ok(())
        })
        .await
    }

    pub async fn set_role(&self, user_id: UserId, role: Role) -> Result<(), CoreError> {
        let changes = UserChanges {
            role: Some(role.code()),
            ..UserChanges::default()
        };
        self.write(
            move |conn| match storage::users::update(conn, user_id, &changes)? {
                0 => Err(CoreError::UserNotFound),
                _ => Ok(()),
            },
        )
        .await
    }

    /// Stores the token the user's IM connection uses (SealTalk's RongCloud token).
    pub async fn set_im_token(&self, user_id: UserId, token: String) -> Result<(), CoreError> {
        let changes = UserChanges {
            im_token: Some(token),
            ..UserChanges::default()
        };
        self.write(
            move |conn| match storage::users::update(conn, user_id, &changes)? {
                0 => Err(CoreError::UserNotFound),
                _ => Ok(()),
            },
        )
        .await
    }
}

pub(super) fn card_from(row: CardRow) -> ProfileCard {
    let (
        (
            id,
            nickname,
            avatar_url,
            gender,
            birth_decade,
            signature,
            contact_phone,
            push_enabled,
            updated_at,
        ),
        phone,
    ) = row;
    ProfileCard {
        id,
        phone: phone.map(|(region, number)| Phone::from_stored(region, number)),
        nickname,
        avatar_url,
        gender: Gender::from_code(gender),
        birth_decade,
        signature,
        contact_phone,
        push_enabled,
        updated_at,
    }
}

fn profile_from(record: UserRecord) -> Profile {
    let UserRecord {
        row,
        phone,
        username,
        has_avatar,
    } = record;
    Profile {
        id: row.id,
        phone: phone.map(|(region, number)| Phone::from_stored(region, number)),
        username,
        nickname: row.nickname,
        real_name: row.real_name,
        avatar_url: row.avatar_url,
        gender: Gender::from_code(row.gender),
        age: row.age,
        birth_decade: row.birth_decade,
        signature: row.signature,
        contact_phone: row.contact_phone,
        country: row.country,
        province: row.province,
        city: row.city,
        district: row.district,
        street: row.street,
        company: row.company,
        company_logo: row.company_logo,
        company_address: row.company_address,
        industry: row.industry,
        job_title: row.job_title,
        education: row.education,
        school: row.school,
        identity_card: row.identity_card,
        qq_number: row.qq_number,
        recommender_id: row.recommender_id,
        recommender_raw: row.recommender_raw,
        profile_completed: row.profile_completed,
        role: Role::from_code(row.role),
        banned: row.banned,
        push_enabled: row.push_enabled,
        im_token: row.im_token,
        has_avatar_image: has_avatar,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
