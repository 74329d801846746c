//! Accounts: registration, login with lockout and throttling, password change and reset.

use super::Service;
use super::sessions::token_hash;
use super::sms::VerifiedPhone;
use crate::domain::credential::{PasswordInput, StoredHash};
use crate::domain::identity::{LoginName, Username};
use crate::domain::phone::Phone;
use crate::domain::profile::{ProfilePatch, TextField};
use crate::domain::{CoreError, Field, FieldReason, UserId};
use crate::storage::models::{CredentialRow, UserChanges};
use crate::storage::{self, DbConnection};

const MINUTE_MS: i64 = 60_000;
/// First lockout after the threshold; each further wrong password doubles it, up to an hour.
const LOCKOUT_BASE_MS: i64 = 60_000;
const LOCKOUT_MAX_MS: i64 = 3_600_000;
/// The account-wide lock needs this many times `lockout_threshold` failures from everywhere.
const ACCOUNT_LOCK_FACTOR: i64 = 10;
/// The throttle counter of login attempts per client address and minute.
const LOGIN_IP_SCOPE: &str = "login_ip";

/// The end of the lock that `failures` wrong passwords in a row earn: none below `threshold`,
/// then a minute, doubling with each further failure, at most an hour.
fn lock_end(failures: i64, threshold: i64, now: i64) -> Option<i64> {
    if threshold <= 0 || failures < threshold {
        return None;
    }
    let doublings = u32::try_from((failures - threshold).min(16)).unwrap_or(16);
    Some(now + (LOCKOUT_BASE_MS << doublings).min(LOCKOUT_MAX_MS))
}

/// A password hash as a legacy system stored it (`rosetta import`'s `hash_scheme`).
#[derive(Clone, PartialEq, Eq)]
pub enum LegacyPassword {
    /// `md5(plain)` hex (BlueU, and apps that stored the md5 their clients sent).
    Md5Hex(String),
    /// SealTalk's `sha1("<plain>|<salt>")` hex with its salt.
    SealtalkSha1 { digest: String, salt: String },
    /// bcrypt of the plain password.
    Bcrypt(String),
    /// The plain password itself.
    Plain(String),
}

impl std::fmt::Debug for LegacyPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a hash, not even in a test failure.
        f.write_str(match self {
            LegacyPassword::Md5Hex(_) => "Md5Hex(***)",
            LegacyPassword::SealtalkSha1 { .. } => "SealtalkSha1(***)",
            LegacyPassword::Bcrypt(_) => "Bcrypt(***)",
            LegacyPassword::Plain(_) => "Plain(***)",
        })
    }
}

/// A user of a legacy system, as `rosetta import` read it.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    /// The legacy id, kept.
    pub id: UserId,
    pub phone: Option<Phone>,
    pub username: Option<Username>,
    pub profile: ProfilePatch,
    pub role: crate::domain::profile::Role,
    pub banned: bool,
    pub password: LegacyPassword,
    /// Epoch milliseconds; the time of the import when unknown.
    pub created_at: Option<i64>,
}

/// What importing one user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported,
    /// The same user (id and identities) is already there: nothing changed.
    AlreadyPresent,
    /// Another account holds this id, phone or username: nothing was written.
    Duplicate(Duplicate),
}

/// What another account already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    Id,
    Phone,
    Username,
}

/// The phone identity of a new account.
#[derive(Debug, Clone)]
pub enum NewPhone {
    /// No phone (a username account).
    None,
    /// A phone proven by a code or ticket just checked (see [`Service::verify_code`]).
    Verified(VerifiedPhone),
    /// A phone taken on trust: the admin API, and dialects whose documents register without
    /// an SMS code (BlueU).
    Unverified(Phone),
}

/// A registration.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub phone: NewPhone,
    pub username: Option<Username>,
    pub password: PasswordInput,
    /// Canonical profile fields set at registration (nickname included).
    pub profile: ProfilePatch,
    /// The nickname when the profile sets none, made from the new id inside the registering
    /// transaction (`rest`: `小时候用户<userId>`).
    pub nickname_from_id: Option<fn(UserId) -> String>,
}

impl NewAccount {
    pub fn new(phone: NewPhone, password: PasswordInput, profile: ProfilePatch) -> NewAccount {
        NewAccount {
            phone,
            username: None,
            password,
            profile,
            nickname_from_id: None,
        }
    }
}

/// What happens to the caller's own session when the caller changes the password: every other
/// session of the user, in every dialect, ends either way.
#[derive(Debug, Clone, Copy)]
pub enum CallerSession<'a> {
    /// The session with this token survives (BlueU and SealTalk clients carry on with it).
    Keep(&'a str),
    /// The caller is logged out too (Struts: "后台会注销登陆信息"), or has no session.
    End,
}

impl Service {
    /// Creates an account: the password is hashed, then the account and its identities are
    /// written in one transaction; a phone or username claimed meanwhile by another
    /// registration answers `PhoneAlreadyRegistered` / `UsernameTaken`. A dialect that must
    /// check in its own order verifies the phone first and passes the [`VerifiedPhone`].
    pub async fn register(&self, account: NewAccount) -> Result<UserId, CoreError> {
        account.profile.validate()?;
        if account.password.is_empty() {
            return Err(CoreError::invalid(Field::Password, FieldReason::Empty));
        }
        let phone = match &account.phone {
            NewPhone::None => None,
            NewPhone::Verified(verified) => Some(verified.phone().clone()),
            NewPhone::Unverified(phone) => Some(phone.clone()),
        };
        let hash = self.inner.hasher.hash(account.password.canonical()).await?;
        let now = self.now_ms();
        let mut row = profile_changes(&account.profile);
        row.created_at = Some(now);
        row.updated_at = Some(now);
        let nickname_from_id = account.nickname_from_id.filter(|_| row.nickname.is_none());
        if row.nickname.is_none() {
            row.nickname = Some(String::new());
        }
        let username = account.username.clone();
        self.write(move |conn| {
            let id = storage::users::insert_user(conn, &row)?;
            if let Some(nickname) = nickname_from_id {
                let named = UserChanges {
                    nickname: Some(nickname(id)),
                    ..UserChanges::default()
                };
                storage::users::update(conn, id, &named)?;
            }
            claim_identities(conn, id, phone.as_ref(), username.as_ref(), hash, now)?;
            Ok(id)
        })
        .await
    }

    pub async fn is_phone_registered(&self, phone: &Phone) -> Result<bool, CoreError> {
        Ok(self.find_user_by_phone(phone).await?.is_some())
    }

    pub async fn find_user_by_phone(&self, phone: &Phone) -> Result<Option<UserId>, CoreError> {
        let (region, number) = (phone.region().to_owned(), phone.number().to_owned());
        self.db(move |conn| {
            storage::users::find_by_phone(conn, &region, &number).map_err(CoreError::from)
        })
        .await
    }

    pub async fn find_user(&self, name: &LoginName) -> Result<Option<UserId>, CoreError> {
        match name {
            LoginName::Phone(phone) => self.find_user_by_phone(phone).await,
            LoginName::Username(username) => {
                let key = username.key();
                self.db(move |conn| {
                    storage::users::find_by_username(conn, &key).map_err(CoreError::from)
                })
                .await
            }
        }
    }

    /// Checks a login. Refusals: `LoginThrottled` (too many failures from the address this
    /// minute), `UserNotFound`, `WrongPassword` (also while locked out), then `AccountBanned`
    /// (only after a right password, so a ban is not revealed to guessers).
    ///
    /// Every attempt from an address is counted, in one statement, before any password work, so
    /// simultaneous guesses cannot all slip under the limit; a successful login takes its count
    /// back (the limit is on failures). Wrong passwords lock the account for the address they
    /// came from (`lockout_threshold` in a row, then a growing time); the account as a whole
    /// only at ten times that many failures from everywhere, so that nobody can keep an owner
    /// out merely by guessing wrong on purpose.
    pub async fn login(
        &self,
        name: &LoginName,
        password: &PasswordInput,
        client_ip: Option<&str>,
    ) -> Result<UserId, CoreError> {
        let policy = self.config().login.clone();
        let now = self.now_ms();
        let minute = now.div_euclid(MINUTE_MS) * MINUTE_MS;
        let counted_ip = client_ip.filter(|_| policy.attempts_per_ip_per_minute > 0);
        if let Some(ip) = counted_ip {
            let ip = ip.to_owned();
            let attempts = self
                .write(move |conn| {
                    storage::sms::hit_counter(conn, LOGIN_IP_SCOPE, &ip, minute)
                        .map_err(CoreError::from)
                })
                .await?;
            if attempts.unsigned_abs() > policy.attempts_per_ip_per_minute {
                return Err(CoreError::LoginThrottled);
            }
        }
        let canonical = password.canonical();
        let Some(user_id) = self.find_user(name).await? else {
            self.inner.hasher.verify_dummy(canonical).await?;
            return Err(CoreError::UserNotFound);
        };
        let address = client_ip.unwrap_or_default().to_owned();
        let (credential, address_locked_until) = {
            let address = address.clone();
            self.db(move |conn| {
                let credential = storage::users::load_credential(conn, user_id)?;
                let locked = storage::users::address_locked_until(conn, user_id, &address)?;
                Ok::<_, CoreError>((credential, locked))
            })
            .await?
        };
        let credential = credential.ok_or(CoreError::UserNotFound)?;
        if credential.locked_until > now || address_locked_until > now {
            self.inner.hasher.verify_dummy(canonical).await?;
            return Err(CoreError::WrongPassword);
        }
        let stored = credential.password_hash;
        let legacy = StoredHash::parse(&stored).is_legacy();
        if !self.inner.hasher.verify_stored(password, stored).await? {
            let threshold = i64::from(policy.lockout_threshold);
            self.write(move |conn| {
                if threshold == 0 {
                    return Ok(());
                }
                let from_address = i64::from(storage::users::count_failed_login_from(
                    conn, user_id, &address, now,
                )?);
                if let Some(until) = lock_end(from_address, threshold, now) {
                    storage::users::lock_address(conn, user_id, &address, until)?;
                }
                let everywhere = i64::from(storage::users::count_failed_login(conn, user_id)?);
                let ceiling = threshold.saturating_mul(ACCOUNT_LOCK_FACTOR);
                if let Some(until) = lock_end(everywhere, ceiling, now) {
                    storage::users::lock_until(conn, user_id, until)?;
                }
                Ok::<_, CoreError>(())
            })
            .await?;
            return Err(CoreError::WrongPassword);
        }
        let banned = self
            .db(move |conn| storage::users::banned(conn, user_id).map_err(CoreError::from))
            .await?
            .unwrap_or(false);
        if banned {
            return Err(CoreError::AccountBanned);
        }
        // An imported legacy hash has just been opened by the plain password: from now on the
        // canonical credential, which every dialect's form of the password opens.
        let upgrade = if legacy {
            Some(self.inner.hasher.hash(canonical).await?)
        } else {
            None
        };
        let refund = counted_ip.map(str::to_owned);
        self.write(move |conn| {
            if let Some(hash) = &upgrade {
                storage::users::set_password(conn, user_id, hash, now)?;
            }
            storage::users::record_login(conn, user_id, now)?;
            storage::users::forget_failed_logins(conn, user_id, Some(&address))?;
            if let Some(ip) = &refund {
                storage::sms::refund_counter(conn, LOGIN_IP_SCOPE, ip, minute)?;
            }
            Ok(())
        })
        .await?;
        Ok(user_id)
    }

    /// Stores a password hash brought from a legacy system (the import): an md5 or a plain
    /// password becomes the canonical credential at once; a SealTalk digest or a bcrypt of the
    /// plain password is wrapped, opened by the plain password only, and replaced by the
    /// canonical credential at the first successful login. No weak hash is ever stored.
    pub async fn set_legacy_password(
        &self,
        user_id: UserId,
        legacy: LegacyPassword,
    ) -> Result<(), CoreError> {
        let stored = self.legacy_stored_hash(legacy).await?;
        let now = self.now_ms();
        self.write(
            move |conn| match storage::users::set_password(conn, user_id, &stored, now)? {
                0 => Err(CoreError::UserNotFound),
                _ => Ok(()),
            },
        )
        .await
    }

    /// What is stored for a legacy password: never the weak hash itself.
    async fn legacy_stored_hash(&self, legacy: LegacyPassword) -> Result<String, CoreError> {
        let hasher = &self.inner.hasher;
        Ok(match legacy {
            LegacyPassword::Md5Hex(md5) => {
                hasher
                    .hash(PasswordInput::ClientMd5(md5).canonical())
                    .await?
            }
            LegacyPassword::Plain(plain) => {
                hasher.hash(PasswordInput::Plain(plain).canonical()).await?
            }
            LegacyPassword::SealtalkSha1 { digest, salt } => {
                if salt.contains(':') {
                    return Err(CoreError::invalid(
                        Field::Password,
                        FieldReason::BadCharacter,
                    ));
                }
                let wrapped = hasher.hash(digest.trim().to_ascii_lowercase()).await?;
                StoredHash::sealtalk_text(&salt, &wrapped)
            }
            LegacyPassword::Bcrypt(hash) => {
                if !hash.starts_with("$2") {
                    return Err(CoreError::invalid(
                        Field::Password,
                        FieldReason::BadCharacter,
                    ));
                }
                StoredHash::plain_bcrypt_text(hash.trim())
            }
        })
    }
    /// Writes one user of a legacy system with its own id, identities, profile, role, ban and
    /// password, in one transaction. A user already imported (same id and phone or username)
    /// is `AlreadyPresent`, so importing a file twice changes nothing; an id, phone or username
    /// that another account holds is a `Duplicate`, and nothing is written.
    pub async fn import_user(&self, user: ImportedUser) -> Result<ImportOutcome, CoreError> {
        user.profile.validate()?;
        if user.phone.is_none() && user.username.is_none() {
            return Err(CoreError::InvalidPhone);
        }
        // Settled without hashing when the user is there already (a second run of a file).
        if let Some(outcome) = self.import_outcome_without_writing(&user).await? {
            return Ok(outcome);
        }
        let stored = self.legacy_stored_hash(user.password).await?;
        let now = self.now_ms();
        let mut row = profile_changes(&user.profile);
        row.nickname.get_or_insert_with(String::new);
        row.role = Some(user.role.code());
        row.banned = Some(user.banned);
        row.created_at = Some(user.created_at.unwrap_or(now));
        row.updated_at = Some(now);
        let (id, phone, username) = (user.id, user.phone, user.username);
        self.write(move |conn| {
            if let Some(outcome) = existing_import(conn, id, &phone, &username)? {
                return Ok(outcome);
            }
            storage::users::insert_user_with_id(conn, id, &row)?;
            claim_identities(conn, id, phone.as_ref(), username.as_ref(), stored, now)?;
            storage::users::advance_id_sequence(conn)?;
            Ok(ImportOutcome::Imported)
        })
        .await
    }

    /// What importing `user` would answer without writing, when that is already decided.
    async fn import_outcome_without_writing(
        &self,
        user: &ImportedUser,
    ) -> Result<Option<ImportOutcome>, CoreError> {
        let (id, phone, username) = (user.id, user.phone.clone(), user.username.clone());
        self.db(move |conn| existing_import(conn, id, &phone, &username))
            .await
    }

    /// True when `password` is the user's password.
    pub async fn check_password(
        &self,
        user_id: UserId,
        password: &PasswordInput,
    ) -> Result<bool, CoreError> {
        let credential = self
            .db(move |conn| storage::users::load_credential(conn, user_id).map_err(CoreError::from))
            .await?
            .ok_or(CoreError::UserNotFound)?;
        self.inner
            .hasher
            .verify_stored(password, credential.password_hash)
            .await
    }

    /// Changes a password knowing the old one. Every other session of the user, in every
    /// dialect, is revoked; the caller's own as `caller` says.
    pub async fn change_password(
        &self,
        user_id: UserId,
        old: &PasswordInput,
        new: &PasswordInput,
        caller: CallerSession<'_>,
    ) -> Result<(), CoreError> {
        if !self.check_password(user_id, old).await? {
            return Err(CoreError::WrongPassword);
        }
        let keep = match caller {
            CallerSession::Keep(token) => Some(token_hash(token)),
            CallerSession::End => None,
        };
        self.set_password(user_id, new, keep).await
    }

    /// Sets a new password for the account of a verified phone (a reset by SMS); every session
    /// of the user is revoked. Refusals: `UserNotFound`, `AccountBanned`, and `SamePassword`
    /// when `reject_same` (a dialect whose document forbids reusing the old password).
    pub async fn reset_password(
        &self,
        proof: &VerifiedPhone,
        new: &PasswordInput,
        reject_same: bool,
    ) -> Result<UserId, CoreError> {
        let user_id = self
            .find_user_by_phone(proof.phone())
            .await?
            .ok_or(CoreError::UserNotFound)?;
        let banned = self
            .db(move |conn| storage::users::banned(conn, user_id).map_err(CoreError::from))
            .await?
            .unwrap_or(false);
        if banned {
            return Err(CoreError::AccountBanned);
        }
        if reject_same && self.check_password(user_id, new).await? {
            return Err(CoreError::SamePassword);
        }
        self.set_password(user_id, new, None).await?;
        Ok(user_id)
    }

    /// Stores a new credential and revokes every session of the user but the one whose token
    /// hashes to `keep`.
    async fn set_password(
        &self,
        user_id: UserId,
        new: &PasswordInput,
        keep: Option<String>,
    ) -> Result<(), CoreError> {
        if new.is_empty() {
            return Err(CoreError::invalid(Field::Password, FieldReason::Empty));
        }
        let hash = self.inner.hasher.hash(new.canonical()).await?;
        let now = self.now_ms();
        self.write(move |conn| {
            if storage::users::set_password(conn, user_id, &hash, now)? == 0 {
                return Err(CoreError::UserNotFound);
            }
            storage::users::forget_failed_logins(conn, user_id, None)?;
            storage::sessions::delete_all_of_user_except(conn, user_id, keep.as_deref())?;
            Ok(())
        })
        .await
    }
}

/// The columns a profile patch sets.
pub(crate) fn profile_changes(patch: &ProfilePatch) -> UserChanges {
    let mut row = UserChanges::default();
    for (field, value) in &patch.text {
        let value = Some(value.clone());
        match field {
            TextField::Nickname => row.nickname = value,
            TextField::RealName => row.real_name = value,
            TextField::AvatarUrl => row.avatar_url = value,
            TextField::Age => row.age = value,
            TextField::BirthDecade => row.birth_decade = value,
            TextField::Signature => row.signature = value,
            TextField::ContactPhone => row.contact_phone = value,
            TextField::Country => row.country = value,
            TextField::Province => row.province = value,
            TextField::City => row.city = value,
            TextField::District => row.district = value,
            TextField::Street => row.street = value,
            TextField::Company => row.company = value,
            TextField::CompanyLogo => row.company_logo = value,
            TextField::CompanyAddress => row.company_address = value,
            TextField::Industry => row.industry = value,
            TextField::JobTitle => row.job_title = value,
            TextField::Education => row.education = value,
            TextField::School => row.school = value,
            TextField::IdentityCard => row.identity_card = value,
            TextField::QqNumber => row.qq_number = value,
            TextField::RecommenderRaw => row.recommender_raw = value,
        }
    }
    row.gender = patch.gender.map(|g| g.code());
    row.recommender_id = patch.recommender_id;
    row.profile_completed = patch.profile_completed;
    row.push_enabled = patch.push_enabled;
    row
}

/// The outcome of importing a user whose id, phone or username is already in the database:
/// `AlreadyPresent` for the same user, a `Duplicate` for another account's; `None` when the
/// user can be written.
fn existing_import(
    conn: &mut DbConnection,
    id: UserId,
    phone: &Option<Phone>,
    username: &Option<Username>,
) -> Result<Option<ImportOutcome>, CoreError> {
    let holder_of_phone = match phone {
        Some(p) => storage::users::find_by_phone(conn, p.region(), p.number())?,
        None => None,
    };
    let holder_of_name = match username {
        Some(name) => storage::users::find_by_username(conn, &name.key())?,
        None => None,
    };
    if storage::users::exists(conn, id)? {
        let same = phone.as_ref().is_none_or(|_| holder_of_phone == Some(id))
            && username.as_ref().is_none_or(|_| holder_of_name == Some(id));
        return Ok(Some(if same {
            ImportOutcome::AlreadyPresent
        } else {
            ImportOutcome::Duplicate(Duplicate::Id)
        }));
    }
    if holder_of_phone.is_some() {
        return Ok(Some(ImportOutcome::Duplicate(Duplicate::Phone)));
    }
    if holder_of_name.is_some() {
        return Ok(Some(ImportOutcome::Duplicate(Duplicate::Username)));
    }
    Ok(None)
}

/// A new account's phone and username (refused when another account holds either), its
/// credential and its data versions: what registration and import both write after the user row.
fn claim_identities(
    conn: &mut DbConnection,
    id: UserId,
    phone: Option<&Phone>,
    username: Option<&Username>,
    password_hash: String,
    now: i64,
) -> Result<(), CoreError> {
    if let Some(phone) = phone
        && storage::users::claim_phone(conn, id, phone.region(), phone.number())?.is_none()
    {
        return Err(CoreError::PhoneAlreadyRegistered);
    }
    if let Some(name) = username
        && storage::users::claim_username(conn, id, &name.key(), name.as_str())?.is_none()
    {
        return Err(CoreError::UsernameTaken);
    }
    storage::users::insert_credential(
        conn,
        &CredentialRow {
            user_id: id,
            password_hash,
            failed_attempts: 0,
            locked_until: 0,
            last_login_at: None,
            updated_at: now,
        },
    )?;
    storage::users::insert_data_versions(conn, id)?;
    Ok(())
}
