//! Avatar images, kept in the database so every gateway process can serve them.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::avatars;

pub fn put(
    conn: &mut DbConnection,
    user_id: i64,
    format: &str,
    bytes: &[u8],
    now: i64,
) -> QueryResult<()> {
    let updated = diesel::update(avatars::table.filter(avatars::user_id.eq(user_id)))
        .set((
            avatars::format.eq(format),
            avatars::bytes.eq(bytes),
            avatars::updated_at.eq(now),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(avatars::table)
            .values((
                avatars::user_id.eq(user_id),
                avatars::format.eq(format),
                avatars::bytes.eq(bytes),
                avatars::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn get(conn: &mut DbConnection, user_id: i64) -> QueryResult<Option<(String, Vec<u8>, i64)>> {
    avatars::table
        .filter(avatars::user_id.eq(user_id))
        .select((avatars::format, avatars::bytes, avatars::updated_at))
        .first(conn)
        .optional()
}

/// The stored format alone (for building an avatar's URL without reading its bytes).
pub fn format_of(conn: &mut DbConnection, user_id: i64) -> QueryResult<Option<String>> {
    avatars::table
        .filter(avatars::user_id.eq(user_id))
        .select(avatars::format)
        .first(conn)
        .optional()
}
