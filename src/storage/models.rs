//! Row types: what diesel reads from and writes to the tables.

use diesel::prelude::*;

use super::schema::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub nickname: String,
    pub real_name: Option<String>,
    pub avatar_url: Option<String>,
    pub gender: i32,
    pub age: Option<String>,
    pub birth_decade: Option<String>,
    pub signature: Option<String>,
    pub contact_phone: Option<String>,
    pub country: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    pub company: Option<String>,
    pub company_logo: Option<String>,
    pub company_address: Option<String>,
    pub industry: Option<String>,
    pub job_title: Option<String>,
    pub education: Option<String>,
    pub school: Option<String>,
    pub identity_card: Option<String>,
    pub qq_number: Option<String>,
    pub recommender_id: Option<i64>,
    pub recommender_raw: Option<String>,
    pub profile_completed: bool,
    pub role: i32,
    pub banned: bool,
    pub push_enabled: bool,
    pub im_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Every settable column of `users`; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, AsChangeset, Insertable)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub nickname: Option<String>,
    pub real_name: Option<String>,
    pub avatar_url: Option<String>,
    pub gender: Option<i32>,
    pub age: Option<String>,
    pub birth_decade: Option<String>,
    pub signature: Option<String>,
    pub contact_phone: Option<String>,
    pub country: Option<String>,
    pub province: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub street: Option<String>,
    pub company: Option<String>,
    pub company_logo: Option<String>,
    pub company_address: Option<String>,
    pub industry: Option<String>,
    pub job_title: Option<String>,
    pub education: Option<String>,
    pub school: Option<String>,
    pub identity_card: Option<String>,
    pub qq_number: Option<String>,
    pub recommender_id: Option<Option<i64>>,
    pub recommender_raw: Option<String>,
    pub profile_completed: Option<bool>,
    pub role: Option<i32>,
    pub banned: Option<bool>,
    pub push_enabled: Option<bool>,
    pub im_token: Option<String>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credentials)]
pub struct CredentialRow {
    pub user_id: i64,
    pub password_hash: String,
    pub failed_attempts: i32,
    pub locked_until: i64,
    pub last_login_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    pub dialect: String,
    pub client_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What a session check reads of a stored session: not the token hash and dialect it was
/// found by (two strings fewer to copy on every authenticated request).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct FoundSession {
    pub user_id: i64,
    pub client_id: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sms_codes)]
pub struct SmsCodeRow {
    pub region: String,
    pub phone: String,
    pub purpose: String,
    pub code: String,
    pub sent_at: i64,
    pub expires_at: i64,
    pub failed_attempts: i32,
    pub consumed: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = verification_tickets)]
pub struct TicketRow {
    pub ticket: String,
    pub region: String,
    pub phone: String,
    pub purpose: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sms_outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub region: String,
    pub phone: String,
    pub code: String,
    pub purpose: String,
    pub dialect: String,
    pub message: String,
    pub sent_at: i64,
    pub provider: String,
    pub outcome: String,
    pub message_id: Option<String>,
    pub request_id: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = sms_outbox)]
pub struct NewOutboxRow<'a> {
    pub region: &'a str,
    pub phone: &'a str,
    pub code: &'a str,
    pub purpose: &'a str,
    pub dialect: &'a str,
    pub message: &'a str,
    pub sent_at: i64,
    pub provider: &'a str,
    pub outcome: &'a str,
    pub message_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub detail: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = blacklist)]
pub struct BlacklistRow {
    pub user_id: i64,
    pub target_id: i64,
    pub active: bool,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = friendships)]
pub struct FriendshipRow {
    pub user_id: i64,
    pub friend_id: i64,
    pub display_name: String,
    pub message: String,
    pub status: i32,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = chat_groups)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub portrait_uri: String,
    pub creator_id: i64,
    pub bulletin: Option<String>,
    pub max_member_count: i32,
    pub deleted: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = group_members)]
pub struct MemberRow {
    pub group_id: i64,
    pub user_id: i64,
    pub display_name: String,
    pub role: i32,
    pub notify_mode: i32,
    pub deleted: bool,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, Queryable, Selectable, Insertable)]
#[diesel(table_name = data_versions)]
pub struct DataVersionRow {
    pub user_id: i64,
    pub user_version: i64,
    pub blacklist_version: i64,
    pub friendship_version: i64,
    pub group_version: i64,
    pub group_member_version: i64,
}
