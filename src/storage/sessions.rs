//! Sessions, stored by the SHA-256 of their token only.

use diesel::prelude::*;

use super::DbConnection;
use super::models::{FoundSession, SessionRow, UserRow};
use super::schema::{
    avatars, phone_identities, sessions, throttle_counters, username_identities, users,
};
use super::users::{JoinedUser, UserRecord, record_of};

pub fn insert(conn: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// The session of a token hash within a dialect, with its user's ban flag.
pub fn find(
    conn: &mut DbConnection,
    token_hash: &str,
    dialect: &str,
) -> QueryResult<Option<(FoundSession, bool)>> {
    on_backend!(conn, |conn| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::dialect.eq(dialect))
        .select((FoundSession::as_select(), users::banned))
        .first(conn)
        .optional())
}

/// One throttle counter: scope, subject and the start of its window.
pub type CounterKey<'a> = (&'a str, &'a str, i64);

/// The hits of one throttle counter, as a scalar subquery another statement reads along.
#[diesel::dsl::auto_type(no_type_alias)]
fn counter_hits<'a>(counter: CounterKey<'a>) -> _ {
    let (scope, subject, window_start): (&'a str, &'a str, i64) = counter;
    throttle_counters::table
        .filter(throttle_counters::scope.eq(scope))
        .filter(throttle_counters::subject.eq(subject))
        .filter(throttle_counters::window_start.eq(window_start))
        .select(throttle_counters::hits)
        .single_value()
}

/// As [`find`], with the hits of one throttle counter read by the same statement (`None`
/// when it has none): a request's guessing check costs no statement of its own.
pub fn find_counting(
    conn: &mut DbConnection,
    token_hash: &str,
    dialect: &str,
    counter: CounterKey<'_>,
) -> QueryResult<Option<(FoundSession, bool, Option<i32>)>> {
    let hits = counter_hits(counter);
    on_backend!(conn, |conn| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::dialect.eq(dialect))
        .select((FoundSession::as_select(), users::banned, hits))
        .first(conn)
        .optional())
}

/// As [`find_counting`], with the whole profile of the session's own user read by the same
/// statement: a read of the caller's profile costs one statement (on PostgreSQL one round trip).
pub fn find_with_profile(
    conn: &mut DbConnection,
    token_hash: &str,
    dialect: &str,
    counter: Option<CounterKey<'_>>,
) -> QueryResult<Option<(FoundSession, Option<i32>, UserRecord)>> {
    // Without a counter to read, the subquery is given the key of one that cannot exist (a
    // window starts on a whole minute): one statement serves both.
    let hits = counter_hits(counter.unwrap_or(("", "", i64::MIN)));
    let found: Option<(FoundSession, Option<i32>, JoinedUser)> = on_backend!(conn, |conn| {
        sessions::table
            .inner_join(users::table)
            .left_join(phone_identities::table.on(phone_identities::user_id.eq(users::id)))
            .left_join(username_identities::table.on(username_identities::user_id.eq(users::id)))
            .left_join(avatars::table.on(avatars::user_id.eq(users::id)))
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::dialect.eq(dialect))
            .select((
                FoundSession::as_select(),
                hits,
                (
                    UserRow::as_select(),
                    (phone_identities::region, phone_identities::number).nullable(),
                    username_identities::username.nullable(),
                    avatars::user_id.nullable(),
                ),
            ))
            .first(conn)
            .optional()
    })?;
    Ok(found.map(|(session, hits, user)| (session, hits, record_of(user))))
}

pub fn delete(conn: &mut DbConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn)
}

/// Revokes every session of a user, in every dialect.
pub fn delete_all_of_user(conn: &mut DbConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)
}

/// Revokes every session of a user but the one stored under `keep` (a token hash).
pub fn delete_all_of_user_except(
    conn: &mut DbConnection,
    user_id: i64,
    keep: Option<&str>,
) -> QueryResult<usize> {
    match keep {
        Some(keep) => diesel::delete(
            sessions::table
                .filter(sessions::user_id.eq(user_id))
                .filter(sessions::token_hash.ne(keep)),
        )
        .execute(conn),
        None => delete_all_of_user(conn, user_id),
    }
}

/// Revokes a user's sessions in one dialect (a dialect with one current session per user).
pub fn delete_of_user_in_dialect(
    conn: &mut DbConnection,
    user_id: i64,
    dialect: &str,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::dialect.eq(dialect)),
    )
    .execute(conn)
}

/// A session without its token hash: dialect, client, created and expiry times.
pub type ListedSession = (String, Option<String>, i64, i64);

/// A user's sessions still valid at `now`, newest first, at most `limit`.
pub fn live_of_user(
    conn: &mut DbConnection,
    user_id: i64,
    now: i64,
    limit: i64,
) -> QueryResult<Vec<ListedSession>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now))
        .order(sessions::created_at.desc())
        .select((
            sessions::dialect,
            sessions::client_id,
            sessions::created_at,
            sessions::expires_at,
        ))
        .limit(limit)
        .load(conn)
}

/// Forgets at most `limit` sessions that expired before `cutoff`.
pub fn purge_expired(conn: &mut DbConnection, cutoff: i64, limit: u32) -> QueryResult<usize> {
    super::delete_some(conn, "sessions", "expires_at < $1", &[cutoff], limit)
}
