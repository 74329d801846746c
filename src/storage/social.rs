//! Blacklist, friendships and the per-user data versions that drive incremental sync.

use diesel::prelude::*;

use super::models::{BlacklistRow, DataVersionRow, FriendshipRow};
use super::schema::{blacklist, data_versions, friendships};
use super::{DbConnection, insert_or_conflict};

/// Which per-user version a change moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionKind {
    User,
    Blacklist,
    Friendship,
    Group,
    GroupMember,
}

/// Moves one version of each user to `now`, creating missing rows (users created before they had
/// one). Versions never go backwards, even if two changes share a millisecond.
pub fn bump_versions(
    conn: &mut DbConnection,
    user_ids: &[i64],
    kind: VersionKind,
    now: i64,
) -> QueryResult<()> {
    for &user_id in user_ids {
        let row = data_versions::table.filter(data_versions::user_id.eq(user_id));
        let updated = match kind {
            VersionKind::User => diesel::update(row)
                .set(data_versions::user_version.eq(now))
                .execute(conn)?,
            VersionKind::Blacklist => diesel::update(row)
                .set(data_versions::blacklist_version.eq(now))
                .execute(conn)?,
            VersionKind::Friendship => diesel::update(row)
                .set(data_versions::friendship_version.eq(now))
                .execute(conn)?,
            VersionKind::Group => diesel::update(row)
                .set(data_versions::group_version.eq(now))
                .execute(conn)?,
            VersionKind::GroupMember => diesel::update(row)
                .set((
                    data_versions::group_member_version.eq(now),
                    data_versions::group_version.eq(now),
                ))
                .execute(conn)?,
        };
        if updated == 0 {
            let mut fresh = DataVersionRow {
                user_id,
                user_version: 0,
                blacklist_version: 0,
                friendship_version: 0,
                group_version: 0,
                group_member_version: 0,
            };
            match kind {
                VersionKind::User => fresh.user_version = now,
                VersionKind::Blacklist => fresh.blacklist_version = now,
                VersionKind::Friendship => fresh.friendship_version = now,
                VersionKind::Group => fresh.group_version = now,
                VersionKind::GroupMember => {
                    fresh.group_member_version = now;
                    fresh.group_version = now;
                }
            }
            if insert_or_conflict(conn, |c| {
                diesel::insert_into(data_versions::table)
                    .values(&fresh)
                    .execute(c)
            })?
            .is_none()
            {
                // Someone created the row meanwhile: apply the bump to it.
                return bump_versions(conn, &[user_id], kind, now);
            }
        }
    }
    Ok(())
}

pub fn versions(conn: &mut DbConnection, user_id: i64) -> QueryResult<Option<DataVersionRow>> {
    data_versions::table
        .filter(data_versions::user_id.eq(user_id))
        .select(DataVersionRow::as_select())
        .first(conn)
        .optional()
}

pub fn put_blacklist(conn: &mut DbConnection, row: &BlacklistRow) -> QueryResult<()> {
    let updated = diesel::update(
        blacklist::table
            .filter(blacklist::user_id.eq(row.user_id))
            .filter(blacklist::target_id.eq(row.target_id)),
    )
    .set((
        blacklist::active.eq(row.active),
        blacklist::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    if updated == 0
        && row.active
        && insert_or_conflict(conn, |c| {
            diesel::insert_into(blacklist::table).values(row).execute(c)
        })?
        .is_none()
    {
        return put_blacklist(conn, row);
    }
    Ok(())
}

/// A user's blacklist rows changed after `since` (all rows, active or not).
pub fn blacklist_since(
    conn: &mut DbConnection,
    user_id: i64,
    since: i64,
) -> QueryResult<Vec<BlacklistRow>> {
    blacklist::table
        .filter(blacklist::user_id.eq(user_id))
        .filter(blacklist::updated_at.gt(since))
        .order(blacklist::updated_at.asc())
        .select(BlacklistRow::as_select())
        .load(conn)
}

pub fn active_blacklist(conn: &mut DbConnection, user_id: i64) -> QueryResult<Vec<BlacklistRow>> {
    blacklist::table
        .filter(blacklist::user_id.eq(user_id))
        .filter(blacklist::active.eq(true))
        .order(blacklist::updated_at.asc())
        .select(BlacklistRow::as_select())
        .load(conn)
}

pub fn is_blacklisted(conn: &mut DbConnection, user_id: i64, target_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        blacklist::table
            .filter(blacklist::user_id.eq(user_id))
            .filter(blacklist::target_id.eq(target_id))
            .filter(blacklist::active.eq(true)),
    ))
    .get_result(conn)
}

pub fn put_friendship(conn: &mut DbConnection, row: &FriendshipRow) -> QueryResult<()> {
    let updated = diesel::update(
        friendships::table
            .filter(friendships::user_id.eq(row.user_id))
            .filter(friendships::friend_id.eq(row.friend_id)),
    )
    .set((
        friendships::display_name.eq(&row.display_name),
        friendships::status.eq(row.status),
        friendships::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    if updated == 0
        && insert_or_conflict(conn, |c| {
            diesel::insert_into(friendships::table)
                .values(row)
                .execute(c)
        })?
        .is_none()
    {
        return put_friendship(conn, row);
    }
    Ok(())
}

pub fn friendship(
    conn: &mut DbConnection,
    user_id: i64,
    friend_id: i64,
) -> QueryResult<Option<FriendshipRow>> {
    friendships::table
        .filter(friendships::user_id.eq(user_id))
        .filter(friendships::friend_id.eq(friend_id))
        .select(FriendshipRow::as_select())
        .first(conn)
        .optional()
}

pub fn friendships_since(
    conn: &mut DbConnection,
    user_id: i64,
    since: i64,
) -> QueryResult<Vec<FriendshipRow>> {
    friendships::table
        .filter(friendships::user_id.eq(user_id))
        .filter(friendships::updated_at.gt(since))
        .order(friendships::updated_at.asc())
        .select(FriendshipRow::as_select())
        .load(conn)
}

/// Users who hold `user_id` as an agreed friend (their friend lists show this user's profile).
pub fn agreed_friends_of(
    conn: &mut DbConnection,
    user_id: i64,
    agreed: i32,
) -> QueryResult<Vec<i64>> {
    friendships::table
        .filter(friendships::friend_id.eq(user_id))
        .filter(friendships::status.eq(agreed))
        .select(friendships::user_id)
        .load(conn)
}
