//! Sessions, stored by the SHA-256 of their token only.

use diesel::prelude::*;

use super::DbConnection;
use super::models::{FoundSession, SessionRow};
use super::schema::{sessions, throttle_counters, users};

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

/// As [`find`], with the hits of one throttle counter read by the same statement (`None`
/// when it has none): a request's guessing check costs no statement of its own.
pub fn find_counting(
    conn: &mut DbConnection,
    token_hash: &str,
    dialect: &str,
    (scope, subject, window_start): CounterKey<'_>,
) -> QueryResult<Option<(FoundSession, bool, Option<i32>)>> {
    let hits = throttle_counters::table
        .filter(throttle_counters::scope.eq(scope))
        .filter(throttle_counters::subject.eq(subject))
        .filter(throttle_counters::window_start.eq(window_start))
        .select(throttle_counters::hits)
        .single_value();
    on_backend!(conn, |conn| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::dialect.eq(dialect))
        .select((FoundSession::as_select(), users::banned, hits))
        .first(conn)
        .optional())
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

/// Forgets at most `limit` sessions that expired before `cutoff`.
pub fn purge_expired(conn: &mut DbConnection, cutoff: i64, limit: u32) -> QueryResult<usize> {
    super::delete_some(conn, "sessions", "expires_at < $1", &[cutoff], limit)
}
