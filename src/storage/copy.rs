//! Whole-database copy, table by table: rows read in primary-key order, batch after batch,
//! written to another database of either backend, fingerprinted so that both sides can be
//! compared; identity sequences carried over; where an unfinished copy stands.

use std::marker::PhantomData;

use diesel::dsl::{max, sql};
use diesel::helper_types::SqlTypeOf;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::DbConnection;
use super::schema;

/// What one batch read (and, when copying, wrote).
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub rows: usize,
    /// The primary key of the batch's last row (a JSON array), where the next batch starts;
    /// `None` when the batch was empty.
    pub last_key: Option<Value>,
    /// The wrapping sum of the rows' fingerprints: added up over every batch, a checksum of the
    /// table that does not depend on the order the rows came in (the backends sort text keys
    /// differently).
    pub checksum: u64,
}

/// One table as the copy sees it.
pub trait CopiedTable: Sync {
    fn name(&self) -> &'static str;
    /// Rows per batch: enough to make each round trip count, few enough to stay under both
    /// backends' bound-parameter limits and to keep large values (avatars) in bounded memory.
    fn batch_rows(&self) -> usize;
    fn count(&self, conn: &mut DbConnection) -> QueryResult<i64>;
    /// Reads the batch after `after` (from the start when `None`) from `source` and inserts it
    /// into `target`.
    fn copy_batch(
        &self,
        source: &mut DbConnection,
        target: &mut DbConnection,
        after: Option<&Value>,
    ) -> QueryResult<Batch>;
    /// Reads the batch after `after` and fingerprints it, for verification.
    fn digest_batch(&self, conn: &mut DbConnection, after: Option<&Value>) -> QueryResult<Batch>;
    fn delete_all(&self, conn: &mut DbConnection) -> QueryResult<usize>;
}

/// A value's canonical bytes for a row fingerprint: the same value read from either backend
/// gives the same bytes, and a type tag and length keep neighbouring columns apart.
trait Canonical {
    fn feed(&self, out: &mut Vec<u8>);
}

impl Canonical for i64 {
    fn feed(&self, out: &mut Vec<u8>) {
        out.push(b'i');
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Canonical for i32 {
    fn feed(&self, out: &mut Vec<u8>) {
        i64::from(*self).feed(out);
    }
}

impl Canonical for bool {
    fn feed(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"bt" } else { b"bf" });
    }
}

impl Canonical for String {
    fn feed(&self, out: &mut Vec<u8>) {
        feed_bytes(b's', self.as_bytes(), out);
    }
}

impl Canonical for Vec<u8> {
    fn feed(&self, out: &mut Vec<u8>) {
        feed_bytes(b'x', self, out);
    }
}

fn feed_bytes(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}

impl<T: Canonical> Canonical for Option<T> {
    fn feed(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(b'n'),
            Some(value) => value.feed(out),
        }
    }
}

fn fingerprint(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// A resume key saved in the progress table that no longer reads as this table's key.
fn bad_key(err: serde_json::Error) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(
        format!("the saved position of an unfinished copy cannot be read: {err}").into(),
    )
}

/// The copy's handle on one table, by its row type.
pub struct Table<Row>(PhantomData<fn() -> Row>);

/// Declares each copied table: its row (every column, in schema order), its primary key (with
/// the Rust types of its columns) and its batch size. The resume filter compares row values,
/// `(a, b) > (x, y)`, which both backends answer from the primary-key index.
macro_rules! copied_tables {
    ($(
        $table:ident as $row:ident, batch $batch:expr,
        key ($k0:ident: $k0ty:ty $(, $kn:ident: $knty:ty)*)
        { $($col:ident: $ty:ty),+ $(,)? }
    )+) => {
        $(
            #[derive(Queryable, Selectable, Insertable)]
            #[diesel(table_name = schema::$table, treat_none_as_default_value = false)]
            pub struct $row {
                $($col: $ty),+
            }

            impl Table<$row> {
                fn read(conn: &mut DbConnection, after: Option<&Value>) -> QueryResult<Vec<$row>> {
                    use schema::$table::dsl as t;
                    let order = (t::$k0.asc(), $(t::$kn.asc(),)*);
                    let limit = Self::BATCH as i64;
                    let Some(after) = after else {
                        return t::$table
                            .select($row::as_select())
                            .order(order)
                            .limit(limit)
                            .load(conn);
                    };
                    let ($k0, $($kn,)*): ($k0ty, $($knty,)*) =
                        serde_json::from_value(after.clone()).map_err(bad_key)?;
                    let after_key = sql::<Bool>(concat!(
                        "(", stringify!($k0) $(, ", ", stringify!($kn))*, ") > ("
                    ))
                    .bind::<SqlTypeOf<t::$k0>, _>($k0)
                    $(.sql(", ").bind::<SqlTypeOf<t::$kn>, _>($kn))*
                    .sql(")");
                    t::$table
                        .select($row::as_select())
                        .filter(after_key)
                        .order(order)
                        .limit(limit)
                        .load(conn)
                }

                const BATCH: usize = $batch;

                fn key(row: &$row) -> Value {
                    serde_json::json!([row.$k0, $(row.$kn,)*])
                }

                fn checksum(rows: &[$row]) -> u64 {
                    let mut bytes = Vec::new();
                    rows.iter().fold(0u64, |sum, row| {
                        bytes.clear();
                        $(row.$col.feed(&mut bytes);)+
                        sum.wrapping_add(fingerprint(&bytes))
                    })
                }

                fn batch(rows: &[$row]) -> Batch {
                    Batch {
                        rows: rows.len(),
                        last_key: rows.last().map(Self::key),
                        checksum: Self::checksum(rows),
                    }
                }
            }

            impl CopiedTable for Table<$row> {
                fn name(&self) -> &'static str {
                    stringify!($table)
                }

                fn batch_rows(&self) -> usize {
                    Self::BATCH
                }

                fn count(&self, conn: &mut DbConnection) -> QueryResult<i64> {
                    schema::$table::table.count().get_result(conn)
                }

                fn copy_batch(
                    &self,
                    source: &mut DbConnection,
                    target: &mut DbConnection,
                    after: Option<&Value>,
                ) -> QueryResult<Batch> {
                    let rows = Self::read(source, after)?;
                    if !rows.is_empty() {
                        // One multi-row INSERT per batch. diesel builds those for each backend
                        // but not through the multi-backend connection, hence the match.
                        let insert = diesel::insert_into(schema::$table::table).values(&rows);
                        match target {
                            DbConnection::Sqlite(sqlite) => insert.execute(sqlite)?,
                            #[cfg(feature = "postgres")]
                            DbConnection::Pg(pg) => insert.execute(pg)?,
                        };
                    }
                    Ok(Self::batch(&rows))
                }

                fn digest_batch(
                    &self,
                    conn: &mut DbConnection,
                    after: Option<&Value>,
                ) -> QueryResult<Batch> {
                    Self::read(conn, after).map(|rows| Self::batch(&rows))
                }

                fn delete_all(&self, conn: &mut DbConnection) -> QueryResult<usize> {
                    diesel::delete(schema::$table::table).execute(conn)
                }
            }
        )+

        /// Every table of the account core, parents before children (the order the copy
        /// writes them in; deletion runs backwards).
        pub static TABLES: &[&dyn CopiedTable] = &[$(&Table::<$row>(PhantomData)),+];
    };
}

copied_tables! {
    users as UserCopy, batch 400, key (id: i64) {
        id: i64,
        nickname: String,
        real_name: Option<String>,
        avatar_url: Option<String>,
        gender: i32,
        age: Option<String>,
        birth_decade: Option<String>,
        signature: Option<String>,
        contact_phone: Option<String>,
        country: Option<String>,
        province: Option<String>,
        city: Option<String>,
        district: Option<String>,
        street: Option<String>,
        company: Option<String>,
        company_logo: Option<String>,
        company_address: Option<String>,
        industry: Option<String>,
        job_title: Option<String>,
        education: Option<String>,
        school: Option<String>,
        identity_card: Option<String>,
        qq_number: Option<String>,
        recommender_id: Option<i64>,
        recommender_raw: Option<String>,
        profile_completed: bool,
        role: i32,
        banned: bool,
        push_enabled: bool,
        im_token: Option<String>,
        created_at: i64,
        updated_at: i64,
    }
    phone_identities as PhoneIdentityCopy, batch 1000, key (region: String, number: String) {
        region: String,
        number: String,
        user_id: i64,
    }
    username_identities as UsernameIdentityCopy, batch 1000, key (username_key: String) {
        username_key: String,
        username: String,
        user_id: i64,
    }
    credentials as CredentialCopy, batch 1000, key (user_id: i64) {
        user_id: i64,
        password_hash: String,
        failed_attempts: i32,
        locked_until: i64,
        last_login_at: Option<i64>,
        updated_at: i64,
    }
    sessions as SessionCopy, batch 1000, key (token_hash: String) {
        token_hash: String,
        user_id: i64,
        dialect: String,
        client_id: Option<String>,
        created_at: i64,
        expires_at: i64,
    }
    dialect_modes as DialectModeCopy, batch 100, key (dialect: String) {
        dialect: String,
        mode: String,
        legacy_url: Option<String>,
        changed_at: i64,
    }
    login_failures as LoginFailureCopy, batch 1000, key (user_id: i64, address: String) {
        user_id: i64,
        address: String,
        failures: i32,
        locked_until: i64,
        updated_at: i64,
    }
    data_versions as DataVersionCopy, batch 1000, key (user_id: i64) {
        user_id: i64,
        user_version: i64,
        blacklist_version: i64,
        friendship_version: i64,
        group_version: i64,
        group_member_version: i64,
    }
    // Avatars are up to a few MiB each: a small batch bounds the memory a batch holds.
    avatars as AvatarCopy, batch 16, key (user_id: i64) {
        user_id: i64,
        format: String,
        bytes: Vec<u8>,
        updated_at: i64,
    }
    blacklist as BlacklistCopy, batch 1000, key (user_id: i64, target_id: i64) {
        user_id: i64,
        target_id: i64,
        active: bool,
        updated_at: i64,
    }
    friendships as FriendshipCopy, batch 1000, key (user_id: i64, friend_id: i64) {
        user_id: i64,
        friend_id: i64,
        display_name: String,
        message: String,
        status: i32,
        updated_at: i64,
    }
    chat_groups as GroupCopy, batch 1000, key (id: i64) {
        id: i64,
        name: String,
        portrait_uri: String,
        creator_id: i64,
        bulletin: Option<String>,
        max_member_count: i32,
        deleted: bool,
        created_at: i64,
        updated_at: i64,
    }
    group_members as MemberCopy, batch 1000, key (group_id: i64, user_id: i64) {
        group_id: i64,
        user_id: i64,
        display_name: String,
        role: i32,
        notify_mode: i32,
        deleted: bool,
        updated_at: i64,
    }
    sms_codes as SmsCodeCopy, batch 1000,
        key (region: String, phone: String, purpose: String) {
        region: String,
        phone: String,
        purpose: String,
        code: String,
        sent_at: i64,
        expires_at: i64,
        failed_attempts: i32,
        consumed: bool,
    }
    verification_tickets as TicketCopy, batch 1000, key (ticket: String) {
        ticket: String,
        region: String,
        phone: String,
        purpose: String,
        created_at: i64,
        expires_at: i64,
    }
    image_codes as ImageCodeCopy, batch 1000, key (verify_id: String) {
        verify_id: String,
        code: String,
        created_at: i64,
        expires_at: i64,
    }
    throttle_counters as ThrottleCopy, batch 1000,
        key (scope: String, subject: String, window_start: i64) {
        scope: String,
        subject: String,
        window_start: i64,
        hits: i32,
    }
    sms_outbox as OutboxCopy, batch 1000, key (id: i64) {
        id: i64,
        region: String,
        phone: String,
        code: String,
        purpose: String,
        dialect: String,
        message: String,
        sent_at: i64,
        provider: String,
        outcome: String,
        message_id: Option<String>,
        request_id: Option<String>,
        detail: Option<String>,
    }
}

/// The tables whose ids a sequence hands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequence {
    Users,
    ChatGroups,
    SmsOutbox,
}

impl Sequence {
    pub const ALL: [Sequence; 3] = [Sequence::Users, Sequence::ChatGroups, Sequence::SmsOutbox];

    pub fn table(self) -> &'static str {
        match self {
            Sequence::Users => "users",
            Sequence::ChatGroups => "chat_groups",
            Sequence::SmsOutbox => "sms_outbox",
        }
    }

    fn largest_id(self, conn: &mut DbConnection) -> QueryResult<Option<i64>> {
        match self {
            Sequence::Users => schema::users::table
                .select(max(schema::users::id))
                .get_result(conn),
            Sequence::ChatGroups => schema::chat_groups::table
                .select(max(schema::chat_groups::id))
                .get_result(conn),
            Sequence::SmsOutbox => schema::sms_outbox::table
                .select(max(schema::sms_outbox::id))
                .get_result(conn),
        }
    }
}

/// The id the database hands out next for the table: never at or below an id in use, and past
/// every id the sequence handed out before (a deleted user's id is not given again).
pub fn next_id(conn: &mut DbConnection, sequence: Sequence) -> QueryResult<i64> {
    let table = sequence.table();
    let from_sequence = match conn {
        DbConnection::Sqlite(sqlite) => {
            #[derive(QueryableByName)]
            struct Seq {
                #[diesel(sql_type = Nullable<BigInt>)]
                seq: Option<i64>,
            }
            let Seq { seq } =
                diesel::sql_query("SELECT MAX(seq) AS seq FROM sqlite_sequence WHERE name = ?")
                    .bind::<Text, _>(table)
                    .get_result(sqlite)?;
            seq.map(|seq| seq + 1)
        }
        #[cfg(feature = "postgres")]
        DbConnection::Pg(pg) => {
            #[derive(QueryableByName)]
            struct Position {
                #[diesel(sql_type = BigInt)]
                last_value: i64,
                #[diesel(sql_type = Bool)]
                is_called: bool,
            }
            #[derive(QueryableByName)]
            struct Name {
                #[diesel(sql_type = Text)]
                name: String,
            }
            let Name { name } =
                diesel::sql_query("SELECT pg_get_serial_sequence($1, 'id') AS name")
                    .bind::<Text, _>(table)
                    .get_result(pg)?;
            // The name comes from PostgreSQL itself, already quoted where it needs to be.
            let position: Position =
                diesel::sql_query(format!("SELECT last_value, is_called FROM {name}"))
                    .get_result(pg)?;
            Some(if position.is_called {
                position.last_value + 1
            } else {
                position.last_value
            })
        }
    };
    let past_largest = sequence.largest_id(conn)?.map(|id| id + 1);
    Ok(from_sequence.max(past_largest).unwrap_or(1))
}

/// Makes the table's sequence hand out `next` next.
pub fn set_next_id(conn: &mut DbConnection, sequence: Sequence, next: i64) -> QueryResult<()> {
    let table = sequence.table();
    match conn {
        DbConnection::Sqlite(sqlite) => {
            let updated = diesel::sql_query("UPDATE sqlite_sequence SET seq = ? WHERE name = ?")
                .bind::<BigInt, _>(next - 1)
                .bind::<Text, _>(table)
                .execute(sqlite)?;
            if updated == 0 {
                diesel::sql_query("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)")
                    .bind::<Text, _>(table)
                    .bind::<BigInt, _>(next - 1)
                    .execute(sqlite)?;
            }
        }
        #[cfg(feature = "postgres")]
        DbConnection::Pg(pg) => {
            diesel::sql_query("SELECT setval(pg_get_serial_sequence($1, 'id'), $2, false)")
                .bind::<Text, _>(table)
                .bind::<BigInt, _>(next)
                .execute(pg)?;
        }
    }
    Ok(())
}

/// Where an unfinished copy stands: `(item, value)` pairs, empty when no copy is under way.
pub fn progress(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    use schema::copy_progress::dsl as p;
    p::copy_progress
        .select((p::item, p::value))
        .order(p::item.asc())
        .load(conn)
}

/// Records one item of the copy's progress, replacing its earlier value.
pub fn put_progress(conn: &mut DbConnection, item: &str, value: &str) -> QueryResult<()> {
    use schema::copy_progress::dsl as p;
    delete_progress(conn, item)?;
    diesel::insert_into(p::copy_progress)
        .values((p::item.eq(item), p::value.eq(value)))
        .execute(conn)?;
    Ok(())
}

pub fn delete_progress(conn: &mut DbConnection, item: &str) -> QueryResult<()> {
    use schema::copy_progress::dsl as p;
    diesel::delete(p::copy_progress.filter(p::item.eq(item))).execute(conn)?;
    Ok(())
}

pub fn clear_progress(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::delete(schema::copy_progress::table).execute(conn)?;
    Ok(())
}
