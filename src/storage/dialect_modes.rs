//! The dialect modes the admin API set, shared by every gateway process on the database.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::dialect_modes;

/// A dialect's mode as the admin API set it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dialect_modes)]
#[diesel(treat_none_as_null = true)]
pub struct ModeRow {
    pub dialect: String,
    pub mode: String,
    pub legacy_url: Option<String>,
    pub changed_at: i64,
}

pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<ModeRow>> {
    dialect_modes::table
        .order(dialect_modes::dialect)
        .select(ModeRow::as_select())
        .load(conn)
}

/// Sets a dialect's mode, replacing the one set before.
pub fn set(conn: &mut DbConnection, row: &ModeRow) -> QueryResult<()> {
    // diesel builds upserts per backend, not through the multi-backend connection.
    on_backend!(conn, |conn| diesel::insert_into(dialect_modes::table)
        .values(row)
        .on_conflict(dialect_modes::dialect)
        .do_update()
        .set(row)
        .execute(conn)
        .map(|_| ()))
}

/// Forgets a dialect's mode: its settings file decides again. Whether there was one.
pub fn clear(conn: &mut DbConnection, dialect: &str) -> QueryResult<bool> {
    diesel::delete(dialect_modes::table.filter(dialect_modes::dialect.eq(dialect)))
        .execute(conn)
        .map(|n| n > 0)
}
