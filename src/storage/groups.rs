//! Groups and their members with per-member settings.

use diesel::prelude::*;

use super::models::{GroupRow, MemberRow};
use super::schema::{chat_groups, group_members};
use super::{DbConnection, insert_or_conflict};

pub fn insert_group(
    conn: &mut DbConnection,
    name: &str,
    portrait_uri: &str,
    creator_id: i64,
    max_member_count: i32,
    now: i64,
) -> QueryResult<i64> {
    diesel::insert_into(chat_groups::table)
        .values((
            chat_groups::name.eq(name),
            chat_groups::portrait_uri.eq(portrait_uri),
            chat_groups::creator_id.eq(creator_id),
            chat_groups::max_member_count.eq(max_member_count),
            chat_groups::created_at.eq(now),
            chat_groups::updated_at.eq(now),
        ))
        .returning(chat_groups::id)
        .get_result(conn)
}

pub fn group(conn: &mut DbConnection, group_id: i64) -> QueryResult<Option<GroupRow>> {
    chat_groups::table
        .filter(chat_groups::id.eq(group_id))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()
}

pub fn member_count(conn: &mut DbConnection, group_id: i64) -> QueryResult<i64> {
    group_members::table
        .filter(group_members::group_id.eq(group_id))
        .filter(group_members::deleted.eq(false))
        .count()
        .get_result(conn)
}

/// Active member counts of several groups in one query, as `(group id, count)`.
pub fn member_counts(conn: &mut DbConnection, group_ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    group_members::table
        .filter(group_members::group_id.eq_any(group_ids))
        .filter(group_members::deleted.eq(false))
        .group_by(group_members::group_id)
        .select((group_members::group_id, diesel::dsl::count_star()))
        .load(conn)
}

pub fn member(
    conn: &mut DbConnection,
    group_id: i64,
    user_id: i64,
) -> QueryResult<Option<MemberRow>> {
    group_members::table
        .filter(group_members::group_id.eq(group_id))
        .filter(group_members::user_id.eq(user_id))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()
}

/// Adds a member, or brings back one who had left; false when already an active member.
pub fn put_member(conn: &mut DbConnection, row: &MemberRow) -> QueryResult<bool> {
    let revived = diesel::update(
        group_members::table
            .filter(group_members::group_id.eq(row.group_id))
            .filter(group_members::user_id.eq(row.user_id))
            .filter(group_members::deleted.eq(true)),
    )
    .set((
        group_members::deleted.eq(false),
        group_members::role.eq(row.role),
        group_members::display_name.eq(&row.display_name),
        group_members::notify_mode.eq(row.notify_mode),
        group_members::updated_at.eq(row.updated_at),
    ))
    .execute(conn)?;
    if revived > 0 {
        return Ok(true);
    }
    Ok(insert_or_conflict(conn, |c| {
        diesel::insert_into(group_members::table)
            .values(row)
            .execute(c)
    })?
    .is_some())
}

pub fn update_member_settings(
    conn: &mut DbConnection,
    group_id: i64,
    user_id: i64,
    display_name: Option<&str>,
    notify_mode: Option<i32>,
    now: i64,
) -> QueryResult<usize> {
    let target = group_members::table
        .filter(group_members::group_id.eq(group_id))
        .filter(group_members::user_id.eq(user_id));
    if let Some(name) = display_name {
        diesel::update(target)
            .set(group_members::display_name.eq(name))
            .execute(conn)?;
    }
    if let Some(mode) = notify_mode {
        diesel::update(target)
            .set(group_members::notify_mode.eq(mode))
            .execute(conn)?;
    }
    diesel::update(target)
        .set(group_members::updated_at.eq(now))
        .execute(conn)
}

/// A user's active memberships with their groups.
pub fn memberships_of(
    conn: &mut DbConnection,
    user_id: i64,
) -> QueryResult<Vec<(MemberRow, GroupRow)>> {
    group_members::table
        .inner_join(chat_groups::table)
        .filter(group_members::user_id.eq(user_id))
        .filter(group_members::deleted.eq(false))
        .order(group_members::group_id.asc())
        .select((MemberRow::as_select(), GroupRow::as_select()))
        .load(conn)
}

/// Active members of a group.
pub fn members_of(conn: &mut DbConnection, group_id: i64) -> QueryResult<Vec<MemberRow>> {
    group_members::table
        .filter(group_members::group_id.eq(group_id))
        .filter(group_members::deleted.eq(false))
        .order(group_members::user_id.asc())
        .select(MemberRow::as_select())
        .load(conn)
}

/// Active members of several groups in one query, by group then user.
pub fn members_of_groups(
    conn: &mut DbConnection,
    group_ids: &[i64],
) -> QueryResult<Vec<MemberRow>> {
    group_members::table
        .filter(group_members::group_id.eq_any(group_ids))
        .filter(group_members::deleted.eq(false))
        .order((group_members::group_id.asc(), group_members::user_id.asc()))
        .select(MemberRow::as_select())
        .load(conn)
}
