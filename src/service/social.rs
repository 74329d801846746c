//! The social graph: blacklist, friendships, groups and members, data versions and sync.

use super::Service;
use crate::domain::profile::ProfileCard;
use crate::domain::social::{
    BlacklistEntry, DataVersions, Friendship, FriendshipStatus, Group, GroupRole,
    MAX_GROUP_MEMBERS, MemberSettings, Membership, NotifyMode,
};
use crate::domain::{CoreError, EpochMillis, Field, FieldReason, GroupId, UserId};
use crate::storage::models::{BlacklistRow, FriendshipRow, GroupRow, MemberRow};
use crate::storage::social::VersionKind;
use crate::storage::{self, DbConnection, read_tx};

/// Everything that changed for a user after a version (SealTalk's `sync/:version`).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncData {
    pub versions: DataVersions,
    pub blacklist: Vec<BlacklistEntry>,
    pub friends: Vec<Friendship>,
    /// The user's memberships changed after the version, with their groups.
    pub groups: Vec<(Membership, Group)>,
    /// Members changed after the version, of the groups listed above.
    pub group_members: Vec<Membership>,
    /// The public profiles of the user and of everyone named above, read in the same
    /// transaction, in ascending id order.
    pub cards: Vec<ProfileCard>,
}

const NAME_MAX_CHARS: usize = 32;
const PORTRAIT_MAX_CHARS: usize = 1024;

fn check_display_name(name: &str) -> Result<(), CoreError> {
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(CoreError::invalid(
            Field::DisplayName,
            FieldReason::TooLong {
                max: NAME_MAX_CHARS,
            },
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            Field::DisplayName,
            FieldReason::BadCharacter,
        ));
    }
    Ok(())
}

impl Service {
    /// Blacklists `target` for `user`; no friendship is required.
    pub async fn add_to_blacklist(
        &self,
        user_id: UserId,
        target_id: UserId,
    ) -> Result<(), CoreError> {
        self.put_blacklist(user_id, target_id, true).await
    }

    pub async fn remove_from_blacklist(
        &self,
        user_id: UserId,
        target_id: UserId,
    ) -> Result<(), CoreError> {
        self.put_blacklist(user_id, target_id, false).await
    }

    async fn put_blacklist(
        &self,
        user_id: UserId,
        target_id: UserId,
        active: bool,
    ) -> Result<(), CoreError> {
        let now = self.now_ms();
        self.write(move |conn| {
            if !storage::users::exists(conn, target_id)? {
                return Err(CoreError::UserNotFound);
            }
            storage::social::put_blacklist(
                conn,
                &BlacklistRow {
                    user_id,
                    target_id,
                    active,
                    updated_at: now,
                },
            )?;
            storage::social::bump_versions(conn, &[user_id], VersionKind::Blacklist, now)?;
            Ok(())
        })
        .await
    }

    /// The active blacklist of a user, oldest first.
    pub async fn blacklist(&self, user_id: UserId) -> Result<Vec<BlacklistEntry>, CoreError> {
        let rows = self
            .db(move |conn| {
                storage::social::active_blacklist(conn, user_id).map_err(CoreError::from)
            })
            .await?;
        Ok(rows.into_iter().map(blacklist_entry).collect())
    }

    pub async fn is_blacklisted(
        &self,
        user_id: UserId,
        target_id: UserId,
    ) -> Result<bool, CoreError> {
        self.db(move |conn| {
            storage::social::is_blacklisted(conn, user_id, target_id).map_err(CoreError::from)
        })
        .await
    }

    /// Makes two users mutual friends (status agreed on both sides).
    pub async fn make_friends(
        &self,
        user_id: UserId,
        friend_id: UserId,
        display_name: Option<String>,
    ) -> Result<(), CoreError> {
        if user_id == friend_id {
            return Err(CoreError::invalid(Field::FriendId, FieldReason::OutOfRange));
        }
        let display_name = display_name.unwrap_or_default();
        check_display_name(&display_name)?;
        let now = self.now_ms();
        self.write(move |conn| {
            for id in [user_id, friend_id] {
                if !storage::users::exists(conn, id)? {
                    return Err(CoreError::UserNotFound);
                }
            }
            let agreed = FriendshipStatus::Agreed.code();
            let mine = FriendshipRow {
                user_id,
                friend_id,
                display_name: display_name.clone(),
                message: String::new(),
                status: agreed,
                updated_at: now,
            };
            let theirs = storage::social::friendship(conn, friend_id, user_id)?;
            storage::social::put_friendship(conn, &mine)?;
            storage::social::put_friendship(
                conn,
                &FriendshipRow {
                    user_id: friend_id,
                    friend_id: user_id,
                    display_name: theirs.map(|t| t.display_name).unwrap_or_default(),
                    message: String::new(),
                    status: agreed,
                    updated_at: now,
                },
            )?;
            storage::social::bump_versions(
                conn,
                &[user_id, friend_id],
                VersionKind::Friendship,
                now,
            )?;
            Ok(())
        })
        .await
    }

    /// Friendship rows of a user changed after `since` (all statuses).
    pub async fn friendships_since(
        &self,
        user_id: UserId,
        since: EpochMillis,
    ) -> Result<Vec<Friendship>, CoreError> {
        let rows = self
            .db(move |conn| {
                storage::social::friendships_since(conn, user_id, since).map_err(CoreError::from)
            })
            .await?;
        Ok(rows.into_iter().filter_map(friendship).collect())
    }

    /// Creates a group; the creator becomes its first member with the creator role.
    pub async fn create_group(
        &self,
        creator_id: UserId,
        name: &str,
        portrait_uri: Option<&str>,
    ) -> Result<GroupId, CoreError> {
        let name = name.trim().to_owned();
        let length = name.chars().count();
        if length > NAME_MAX_CHARS {
            return Err(CoreError::invalid(
                Field::GroupName,
                FieldReason::TooLong {
                    max: NAME_MAX_CHARS,
                },
            ));
        }
        if length == 0 {
            return Err(CoreError::invalid(Field::GroupName, FieldReason::Empty));
        }
        if length < 2 {
            return Err(CoreError::invalid(
                Field::GroupName,
                FieldReason::OutOfRange,
            ));
        }
        let portrait = portrait_uri.unwrap_or_default().to_owned();
        if portrait.chars().count() > PORTRAIT_MAX_CHARS {
            return Err(CoreError::invalid(
                Field::GroupPortraitUri,
                FieldReason::TooLong {
                    max: PORTRAIT_MAX_CHARS,
                },
            ));
        }
        let now = self.now_ms();
        self.write(move |conn| {
            if !storage::users::exists(conn, creator_id)? {
                return Err(CoreError::UserNotFound);
            }
            let id = storage::groups::insert_group(
                conn,
                &name,
                &portrait,
                creator_id,
                MAX_GROUP_MEMBERS,
                now,
            )?;
            storage::groups::put_member(
                conn,
                &MemberRow {
                    group_id: id,
                    user_id: creator_id,
                    display_name: String::new(),
                    role: GroupRole::Creator.code(),
                    notify_mode: NotifyMode::Notify.code(),
                    deleted: false,
                    updated_at: now,
                },
            )?;
            storage::social::bump_versions(conn, &[creator_id], VersionKind::GroupMember, now)?;
            Ok(id)
        })
        .await
    }

    /// Adds a member (or brings back one who left). `Forbidden` if already a member.
    pub async fn add_group_member(
        &self,
        group_id: GroupId,
        user_id: UserId,
        role: GroupRole,
        display_name: Option<String>,
    ) -> Result<(), CoreError> {
        let display_name = display_name.unwrap_or_default();
        check_display_name(&display_name)?;
        if role == GroupRole::Creator {
            return Err(CoreError::invalid(
                Field::MemberRole,
                FieldReason::OutOfRange,
            ));
        }
        let now = self.now_ms();
        self.write(move |conn| {
            let group = live_group(conn, group_id)?;
            if !storage::users::exists(conn, user_id)? {
                return Err(CoreError::UserNotFound);
            }
            if storage::groups::member_count(conn, group_id)? >= i64::from(group.max_member_count) {
                return Err(CoreError::GroupFull);
            }
            let added = storage::groups::put_member(
                conn,
                &MemberRow {
                    group_id,
                    user_id,
                    display_name,
                    role: role.code(),
                    notify_mode: NotifyMode::Notify.code(),
                    deleted: false,
                    updated_at: now,
                },
            )?;
            if !added {
                return Err(CoreError::Forbidden);
            }
            bump_member_versions(conn, group_id, now)
        })
        .await
    }

    /// Changes a member's display name or notification mode. Members change their own; creators
    /// and managers may also change another member's display name (never their notifications).
    pub async fn update_member_settings(
        &self,
        actor_id: UserId,
        group_id: GroupId,
        target_id: UserId,
        settings: MemberSettings,
    ) -> Result<(), CoreError> {
        if let Some(name) = &settings.display_name {
            check_display_name(name)?;
        }
        let now = self.now_ms();
        self.write(move |conn| {
            live_group(conn, group_id)?;
            let actor = storage::groups::member(conn, group_id, actor_id)?
                .filter(|m| !m.deleted)
                .ok_or(CoreError::NotGroupMember)?;
            if target_id != actor_id {
                if settings.notify_mode.is_some()
                    || !GroupRole::from_code(actor.role).may_manage_members()
                {
                    return Err(CoreError::Forbidden);
                }
                storage::groups::member(conn, group_id, target_id)?
                    .filter(|m| !m.deleted)
                    .ok_or(CoreError::NotGroupMember)?;
            }
            storage::groups::update_member_settings(
                conn,
                group_id,
                target_id,
                settings.display_name.as_deref(),
                settings.notify_mode.map(NotifyMode::code),
                now,
            )?;
            bump_member_versions(conn, group_id, now)
        })
        .await
    }

    /// A user's groups with the user's own membership (two queries, whatever the count).
    pub async fn groups_of(&self, user_id: UserId) -> Result<Vec<(Membership, Group)>, CoreError> {
        self.db(move |conn| {
            let rows = storage::groups::memberships_of(conn, user_id)?;
            with_counts(conn, rows)
        })
        .await
    }

    pub async fn group_members(&self, group_id: GroupId) -> Result<Vec<Membership>, CoreError> {
        self.db(move |conn| {
            live_group(conn, group_id)?;
            Ok(storage::groups::members_of(conn, group_id)?
                .into_iter()
                .map(membership)
                .collect())
        })
        .await
    }

    pub async fn data_versions(&self, user_id: UserId) -> Result<DataVersions, CoreError> {
        let row = self
            .db(move |conn| storage::social::versions(conn, user_id).map_err(CoreError::from))
            .await?;
        Ok(row.map(versions_from).unwrap_or_default())
    }

    /// Everything that changed for `user_id` after `since`, for incremental sync.
    pub async fn sync_since(
        &self,
        user_id: UserId,
        since: EpochMillis,
    ) -> Result<SyncData, CoreError> {
        self.db(move |conn| {
            read_tx(conn, |conn| {
                let versions = storage::social::versions(conn, user_id)?
                    .map(versions_from)
                    .unwrap_or_default();
                let blacklist = if versions.blacklist > since {
                    storage::social::blacklist_since(conn, user_id, since)?
                        .into_iter()
                        .map(blacklist_entry)
                        .collect()
                } else {
                    Vec::new()
                };
                let friends = if versions.friendship > since {
                    storage::social::friendships_since(conn, user_id, since)?
                        .into_iter()
                        .filter_map(friendship)
                        .collect()
                } else {
                    Vec::new()
                };
                let mut groups = Vec::new();
                let mut group_members = Vec::new();
                if versions.group > since {
                    let changed: Vec<(MemberRow, GroupRow)> =
                        storage::groups::memberships_of(conn, user_id)?
                            .into_iter()
                            .filter(|(member, group)| {
                                member.updated_at > since || group.updated_at > since
                            })
                            .collect();
                    let ids: Vec<GroupId> = changed.iter().map(|(_, group)| group.id).collect();
                    groups = with_counts(conn, changed)?;
                    group_members = storage::groups::members_of_groups(conn, &ids)?
                        .into_iter()
                        .filter(|m| m.updated_at > since)
                        .map(membership)
                        .collect();
                }
                let mut ids: Vec<UserId> = std::iter::once(user_id)
                    .chain(blacklist.iter().map(|b: &BlacklistEntry| b.target_id))
                    .chain(friends.iter().map(|f: &Friendship| f.friend_id))
                    .chain(group_members.iter().map(|m: &Membership| m.user_id))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                let cards = storage::users::load_cards(conn, &ids)?
                    .into_iter()
                    .map(super::profiles::card_from)
                    .collect();
                Ok(SyncData {
                    versions,
                    blacklist,
                    friends,
                    groups,
                    group_members,
                    cards,
                })
            })
        })
        .await
    }
}

/// Memberships with their groups' member counts, counted in one query.
fn with_counts(
    conn: &mut DbConnection,
    rows: Vec<(MemberRow, GroupRow)>,
) -> Result<Vec<(Membership, Group)>, CoreError> {
    let ids: Vec<GroupId> = rows.iter().map(|(_, group)| group.id).collect();
    let counts: std::collections::HashMap<GroupId, i64> =
        storage::groups::member_counts(conn, &ids)?
            .into_iter()
            .collect();
    Ok(rows
        .into_iter()
        .map(|(member, group)| {
            let count = counts.get(&group.id).copied().unwrap_or(0);
            (membership(member), group_from(group, count))
        })
        .collect())
}

/// Moves the group-member version of everyone in the group (a change every member syncs).
fn bump_member_versions(
    conn: &mut DbConnection,
    group_id: GroupId,
    now: i64,
) -> Result<(), CoreError> {
    let members: Vec<UserId> = storage::groups::members_of(conn, group_id)?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    storage::social::bump_versions(conn, &members, VersionKind::GroupMember, now)?;
    Ok(())
}

fn live_group(conn: &mut DbConnection, group_id: GroupId) -> Result<GroupRow, CoreError> {
    storage::groups::group(conn, group_id)?
        .filter(|g| !g.deleted)
        .ok_or(CoreError::GroupNotFound)
}

fn blacklist_entry(row: BlacklistRow) -> BlacklistEntry {
    BlacklistEntry {
        user_id: row.user_id,
        target_id: row.target_id,
        active: row.active,
        updated_at: row.updated_at,
    }
}

fn friendship(row: FriendshipRow) -> Option<Friendship> {
    Some(Friendship {
        user_id: row.user_id,
        friend_id: row.friend_id,
        display_name: row.display_name,
        status: FriendshipStatus::from_code(row.status)?,
        updated_at: row.updated_at,
    })
}

fn membership(row: MemberRow) -> Membership {
    Membership {
        group_id: row.group_id,
        user_id: row.user_id,
        display_name: row.display_name,
        role: GroupRole::from_code(row.role),
        notify_mode: NotifyMode::from_code(row.notify_mode),
        deleted: row.deleted,
        updated_at: row.updated_at,
    }
}

fn group_from(row: GroupRow, member_count: i64) -> Group {
    Group {
        id: row.id,
        name: row.name,
        portrait_uri: row.portrait_uri,
        creator_id: row.creator_id,
        member_count,
        max_member_count: row.max_member_count,
        deleted: row.deleted,
        updated_at: row.updated_at,
    }
}

fn versions_from(row: crate::storage::models::DataVersionRow) -> DataVersions {
    DataVersions {
        user: row.user_version,
        blacklist: row.blacklist_version,
        friendship: row.friendship_version,
        group: row.group_version,
        group_member: row.group_member_version,
    }
}
