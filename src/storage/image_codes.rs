//! Image codes (captchas) by their verify id, taken out by their first check.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::image_codes;

pub fn insert(
    conn: &mut DbConnection,
    verify_id: &str,
    code: &str,
    created_at: i64,
    expires_at: i64,
) -> QueryResult<()> {
    diesel::insert_into(image_codes::table)
        .values((
            image_codes::verify_id.eq(verify_id),
            image_codes::code.eq(code),
            image_codes::created_at.eq(created_at),
            image_codes::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The code and its expiry, left in place (to draw its picture).
pub fn peek(conn: &mut DbConnection, verify_id: &str) -> QueryResult<Option<(String, i64)>> {
    image_codes::table
        .filter(image_codes::verify_id.eq(verify_id))
        .select((image_codes::code, image_codes::expires_at))
        .first::<(String, i64)>(conn)
        .optional()
}

/// Removes the code and returns it with its expiry, so it can be checked once only.
pub fn take(conn: &mut DbConnection, verify_id: &str) -> QueryResult<Option<(String, i64)>> {
    diesel::delete(image_codes::table.filter(image_codes::verify_id.eq(verify_id)))
        .returning((image_codes::code, image_codes::expires_at))
        .get_result::<(String, i64)>(conn)
        .optional()
}

/// Forgets codes expired at `cutoff` (a code is dead from its expiry on).
pub fn purge_expired(conn: &mut DbConnection, cutoff: i64, limit: u32) -> QueryResult<usize> {
    super::delete_some(conn, "image_codes", "expires_at <= $1", &[cutoff], limit)
}
