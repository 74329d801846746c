//! Users, their identities, credentials and profile columns.

use diesel::prelude::*;

use super::models::{CredentialRow, UserChanges, UserRow};
use super::schema::{
    avatars, credentials, data_versions, login_failures, phone_identities, username_identities,
    users,
};
use super::{DbConnection, insert_or_conflict};

/// Inserts the user row and returns the new id (the sequence starts at 100000).
pub fn insert_user(conn: &mut DbConnection, row: &UserChanges) -> QueryResult<i64> {
    diesel::insert_into(users::table)
        .values(row)
        .returning(users::id)
        .get_result(conn)
}

/// A user with the id it had in a legacy system (the import); the id sequence is then moved
/// past it with [`advance_id_sequence`].
pub fn insert_user_with_id(
    conn: &mut DbConnection,
    user_id: i64,
    row: &UserChanges,
) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values((users::id.eq(user_id), row))
        .execute(conn)
        .map(|_| ())
}

/// Moves PostgreSQL's id sequence past the largest user id, so new accounts never collide with
/// imported ids. SQLite's AUTOINCREMENT follows the largest id by itself.
pub fn advance_id_sequence(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Pg(_) => {
            diesel::sql_query(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), \
                 GREATEST((SELECT MAX(id) FROM users), 100000))",
            )
            .execute(conn)?;
        }
        DbConnection::Sqlite(_) => {}
    }
    Ok(())
}

/// Claims a phone for a user; `None` when the phone is taken already.
pub fn claim_phone(
    conn: &mut DbConnection,
    user_id: i64,
    region: &str,
    number: &str,
) -> QueryResult<Option<()>> {
    insert_or_conflict(conn, |c| {
        diesel::insert_into(phone_identities::table)
            .values((
                phone_identities::region.eq(region),
                phone_identities::number.eq(number),
                phone_identities::user_id.eq(user_id),
            ))
            .execute(c)
            .map(|_| ())
    })
}

/// Claims a username for a user; `None` when it is taken already.
pub fn claim_username(
    conn: &mut DbConnection,
    user_id: i64,
    key: &str,
    display: &str,
) -> QueryResult<Option<()>> {
    insert_or_conflict(conn, |c| {
        diesel::insert_into(username_identities::table)
            .values((
                username_identities::username_key.eq(key),
                username_identities::username.eq(display),
                username_identities::user_id.eq(user_id),
            ))
            .execute(c)
            .map(|_| ())
    })
}

pub fn insert_credential(conn: &mut DbConnection, row: &CredentialRow) -> QueryResult<()> {
    diesel::insert_into(credentials::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// A new account's data versions, all 0: nothing has changed yet that a client could have
/// missed (SealTalk's first `sync/0` after registering reports nothing, `version` null).
pub fn insert_data_versions(conn: &mut DbConnection, user_id: i64) -> QueryResult<()> {
    diesel::insert_into(data_versions::table)
        .values(data_versions::user_id.eq(user_id))
        .execute(conn)
        .map(|_| ())
}

pub fn find_by_phone(
    conn: &mut DbConnection,
    region: &str,
    number: &str,
) -> QueryResult<Option<i64>> {
    phone_identities::table
        .filter(phone_identities::region.eq(region))
        .filter(phone_identities::number.eq(number))
        .select(phone_identities::user_id)
        .first(conn)
        .optional()
}

pub fn find_by_username(conn: &mut DbConnection, key: &str) -> QueryResult<Option<i64>> {
    username_identities::table
        .filter(username_identities::username_key.eq(key))
        .select(username_identities::user_id)
        .first(conn)
        .optional()
}

/// A user row with its identities and whether an avatar image is stored.
pub struct UserRecord {
    pub row: UserRow,
    pub phone: Option<(String, String)>,
    pub username: Option<String>,
    pub has_avatar: bool,
}

/// A user row with its phone, username and avatar owner id, as one query reads them.
pub(super) type JoinedUser = (
    UserRow,
    Option<(String, String)>,
    Option<String>,
    Option<i64>,
);

pub(super) fn record_of((row, phone, username, avatar): JoinedUser) -> UserRecord {
    UserRecord {
        row,
        phone,
        username,
        has_avatar: avatar.is_some(),
    }
}

pub fn load(conn: &mut DbConnection, user_id: i64) -> QueryResult<Option<UserRecord>> {
    let found: Option<JoinedUser> = on_backend!(conn, |conn| users::table
        .left_join(phone_identities::table)
        .left_join(username_identities::table)
        .left_join(avatars::table.on(avatars::user_id.eq(users::id)))
        .filter(users::id.eq(user_id))
        .select((
            UserRow::as_select(),
            (phone_identities::region, phone_identities::number).nullable(),
            username_identities::username.nullable(),
            avatars::user_id.nullable(),
        ))
        .first(conn)
        .optional())?;
    Ok(found.map(record_of))
}

/// The columns of a profile card, with the phone identity.
pub type CardRow = (
    (
        i64,
        String,
        Option<String>,
        i32,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
        i64,
    ),
    Option<(String, String)>,
);

/// The few columns public lookups show, in one narrow query.
pub fn load_card(conn: &mut DbConnection, user_id: i64) -> QueryResult<Option<CardRow>> {
    on_backend!(conn, |conn| cards_query()
        .filter(users::id.eq(user_id))
        .first(conn)
        .optional())
}

/// The cards of many users in one query, in ascending id order; unknown ids are left out.
pub fn load_cards(conn: &mut DbConnection, user_ids: &[i64]) -> QueryResult<Vec<CardRow>> {
    cards_query()
        .filter(users::id.eq_any(user_ids))
        .order(users::id.asc())
        .load(conn)
}

#[diesel::dsl::auto_type(no_type_alias)]
fn cards_query() -> _ {
    users::table.left_join(phone_identities::table).select((
        (
            users::id,
            users::nickname,
            users::avatar_url,
            users::gender,
            users::birth_decade,
            users::signature,
            users::contact_phone,
            users::push_enabled,
            users::updated_at,
        ),
        (phone_identities::region, phone_identities::number).nullable(),
    ))
}

pub fn exists(conn: &mut DbConnection, user_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::id.eq(user_id)),
    ))
    .get_result(conn)
}

pub fn update(conn: &mut DbConnection, user_id: i64, changes: &UserChanges) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(user_id)))
        .set(changes)
        .execute(conn)
}

pub fn banned(conn: &mut DbConnection, user_id: i64) -> QueryResult<Option<bool>> {
    users::table
        .filter(users::id.eq(user_id))
        .select(users::banned)
        .first(conn)
        .optional()
}

pub fn load_credential(
    conn: &mut DbConnection,
    user_id: i64,
) -> QueryResult<Option<CredentialRow>> {
    credentials::table
        .filter(credentials::user_id.eq(user_id))
        .select(CredentialRow::as_select())
        .first(conn)
        .optional()
}

/// Counts one wrong password; returns the new count so the caller can decide a lockout.
pub fn count_failed_login(conn: &mut DbConnection, user_id: i64) -> QueryResult<i32> {
    diesel::update(credentials::table.filter(credentials::user_id.eq(user_id)))
        .set(credentials::failed_attempts.eq(credentials::failed_attempts + 1))
        .returning(credentials::failed_attempts)
        .get_result(conn)
}

pub fn lock_until(conn: &mut DbConnection, user_id: i64, until: i64) -> QueryResult<()> {
    diesel::update(credentials::table.filter(credentials::user_id.eq(user_id)))
        .set(credentials::locked_until.eq(until))
        .execute(conn)
        .map(|_| ())
}

/// Until when logins of the account from the address are refused (0 when they are not).
pub fn address_locked_until(
    conn: &mut DbConnection,
    user_id: i64,
    address: &str,
) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::user_id.eq(user_id))
        .filter(login_failures::address.eq(address))
        .select(login_failures::locked_until)
        .first(conn)
        .optional()
        .map(|until| until.unwrap_or(0))
}

/// Counts a wrong password of the account from the address; returns the failures in a row from
/// there. One statement, so concurrent failures are all counted.
pub fn count_failed_login_from(
    conn: &mut DbConnection,
    user_id: i64,
    address: &str,
    now: i64,
) -> QueryResult<i32> {
    let upsert = diesel::insert_into(login_failures::table)
        .values((
            login_failures::user_id.eq(user_id),
            login_failures::address.eq(address),
            login_failures::failures.eq(1),
            login_failures::updated_at.eq(now),
        ))
        .on_conflict((login_failures::user_id, login_failures::address))
        .do_update()
        .set((
            login_failures::failures.eq(login_failures::failures + 1),
            login_failures::updated_at.eq(now),
        ))
        .returning(login_failures::failures);
    // diesel builds upserts per backend, not through the multi-backend connection.
    match conn {
        DbConnection::Sqlite(sqlite) => upsert.get_result(sqlite),
        #[cfg(feature = "postgres")]
        DbConnection::Pg(pg) => upsert.get_result(pg),
    }
}

pub fn lock_address(
    conn: &mut DbConnection,
    user_id: i64,
    address: &str,
    until: i64,
) -> QueryResult<()> {
    diesel::update(
        login_failures::table
            .filter(login_failures::user_id.eq(user_id))
            .filter(login_failures::address.eq(address)),
    )
    .set(login_failures::locked_until.eq(until))
    .execute(conn)
    .map(|_| ())
}

/// Forgets the account's failures from one address, or from all when `None`.
pub fn forget_failed_logins(
    conn: &mut DbConnection,
    user_id: i64,
    address: Option<&str>,
) -> QueryResult<()> {
    let of_user = login_failures::table.filter(login_failures::user_id.eq(user_id));
    match address {
        Some(address) => {
            diesel::delete(of_user.filter(login_failures::address.eq(address))).execute(conn)?
        }
        None => diesel::delete(of_user).execute(conn)?,
    };
    Ok(())
}

/// Forgets failures last counted before `cutoff` whose lock is over by `now`.
pub fn purge_failed_logins(
    conn: &mut DbConnection,
    cutoff: i64,
    now: i64,
    limit: u32,
) -> QueryResult<usize> {
    super::delete_some(
        conn,
        "login_failures",
        "updated_at < $1 AND locked_until < $2",
        &[cutoff, now],
        limit,
    )
}

pub fn record_login(conn: &mut DbConnection, user_id: i64, now: i64) -> QueryResult<()> {
    diesel::update(credentials::table.filter(credentials::user_id.eq(user_id)))
        .set((
            credentials::failed_attempts.eq(0),
            credentials::locked_until.eq(0i64),
            credentials::last_login_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn set_password(
    conn: &mut DbConnection,
    user_id: i64,
    hash: &str,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(credentials::table.filter(credentials::user_id.eq(user_id)))
        .set((
            credentials::password_hash.eq(hash),
            credentials::failed_attempts.eq(0),
            credentials::locked_until.eq(0i64),
            credentials::updated_at.eq(now),
        ))
        .execute(conn)
}
