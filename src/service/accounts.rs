//! Accounts: registration, login with lockout and throttling, password change and reset.

use super::Service;
use crate::domain::credential::PasswordInput;
use crate::domain::identity::{LoginName, Username};
use crate::domain::phone::Phone;
use crate::domain::profile::{ProfilePatch, TextField};
use crate::domain::{CoreError, UserId};
use crate::storage::models::{CredentialRow, UserChanges};
use crate::storage::{self, write_tx};

const MINUTE_MS: i64 = 60_000;
/// First lockout after the threshold; each further wrong password doubles it, up to an hour.
const LOCKOUT_BASE_MS: i64 = 60_000;
const LOCKOUT_MAX_MS: i64 = 3_600_000;

/// How the phone of a new account was proven.
#[derive(Debug, Clone)]
pub enum PhoneProof {
    /// A code sent to the phone for `purpose`; consumed by the registration.
    SmsCode {
        purpose: String,
        code: String,
        universal: Option<String>,
    },
    /// A ticket from an earlier verification (its phone is the account's phone).
    Ticket(String),
    /// No proof: the admin API and dialects whose documents register without SMS.
    Unverified,
}

/// A registration.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub phone: Option<Phone>,
    pub username: Option<Username>,
    pub proof: PhoneProof,
    pub password: PasswordInput,
    /// Canonical profile fields set at registration (nickname included).
    pub profile: ProfilePatch,
}

impl Service {
    /// Creates an account. The proof is checked first, then the password is hashed, then the
    /// account and its identities are written in one transaction; a phone or username claimed
    /// meanwhile by another registration answers `PhoneAlreadyRegistered` / `UsernameTaken`.
    pub async fn register(&self, account: NewAccount) -> Result<UserId, CoreError> {
        account.profile.validate()?;
        if account.password.is_empty() {
            return Err(CoreError::invalid("password", "is empty"));
        }
        let phone = match &account.proof {
            PhoneProof::SmsCode {
                purpose,
                code,
                universal,
            } => {
                let phone = account.phone.clone().ok_or(CoreError::InvalidPhone)?;
                if self.is_phone_registered(&phone).await? {
                    return Err(CoreError::PhoneAlreadyRegistered);
                }
                self.verify_code(&phone, purpose, code, universal.as_deref())
                    .await?;
                Some(phone)
            }
            PhoneProof::Ticket(ticket) => Some(self.redeem_ticket(ticket).await?.phone),
            PhoneProof::Unverified => account.phone.clone(),
        };
        let hash = self.inner.hasher.hash(account.password.canonical()).await?;
        let now = self.now_ms();
        let mut row = profile_changes(&account.profile);
        row.created_at = Some(now);
        row.updated_at = Some(now);
        if row.nickname.is_none() {
            row.nickname = Some(String::new());
        }
        let username = account.username.clone();
        self.db(move |conn| {
            write_tx(conn, |conn| {
                let id = storage::users::insert_user(conn, &row)?;
                if let Some(phone) = &phone
                    && storage::users::claim_phone(conn, id, phone.region(), phone.number())?
                        .is_none()
                {
                    return Err(CoreError::PhoneAlreadyRegistered);
                }
                if let Some(name) = &username
                    && storage::users::claim_username(conn, id, &name.key(), name.as_str())?
                        .is_none()
                {
                    return Err(CoreError::UsernameTaken);
                }
                storage::users::insert_credential(
                    conn,
                    &CredentialRow {
                        user_id: id,
                        password_hash: hash,
                        failed_attempts: 0,
                        locked_until: 0,
                        last_login_at: None,
                        updated_at: now,
                    },
                )?;
                storage::users::insert_data_versions(conn, id, now)?;
                Ok(id)
            })
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
    pub async fn login(
        &self,
        name: &LoginName,
        password: &PasswordInput,
        client_ip: Option<&str>,
    ) -> Result<UserId, CoreError> {
        let policy = self.config().login.clone();
        let now = self.now_ms();
        let minute = now.div_euclid(MINUTE_MS) * MINUTE_MS;
        if let Some(ip) = client_ip
            && policy.attempts_per_ip_per_minute > 0
        {
            let ip = ip.to_owned();
            let failures = self
                .db(move |conn| {
                    storage::sms::counter_value(conn, "login_ip", &ip, minute)
                        .map_err(CoreError::from)
                })
                .await?;
            if failures as u32 >= policy.attempts_per_ip_per_minute {
                return Err(CoreError::LoginThrottled);
            }
        }
        let canonical = password.canonical();
        let Some(user_id) = self.find_user(name).await? else {
            self.inner.hasher.verify_dummy(canonical).await?;
            self.count_ip_failure(client_ip, minute).await?;
            return Err(CoreError::UserNotFound);
        };
        let credential = self
            .db(move |conn| storage::users::load_credential(conn, user_id).map_err(CoreError::from))
            .await?
            .ok_or(CoreError::UserNotFound)?;
        if credential.locked_until > now {
            self.inner.hasher.verify_dummy(canonical).await?;
            self.count_ip_failure(client_ip, minute).await?;
            return Err(CoreError::WrongPassword);
        }
        if !self
            .inner
            .hasher
            .verify(canonical, credential.password_hash)
            .await?
        {
            let threshold = i64::from(policy.lockout_threshold);
            self.db(move |conn| {
                let failures = i64::from(storage::users::count_failed_login(conn, user_id)?);
                if threshold > 0 && failures >= threshold {
                    let doublings = u32::try_from((failures - threshold).min(16)).unwrap_or(16);
                    let lock = (LOCKOUT_BASE_MS << doublings).min(LOCKOUT_MAX_MS);
                    storage::users::lock_until(conn, user_id, now + lock)?;
                }
                Ok(())
            })
            .await?;
            self.count_ip_failure(client_ip, minute).await?;
            return Err(CoreError::WrongPassword);
        }
        let banned = self
            .db(move |conn| storage::users::banned(conn, user_id).map_err(CoreError::from))
            .await?
            .unwrap_or(false);
        if banned {
            return Err(CoreError::AccountBanned);
        }
        self.db(move |conn| {
            storage::users::record_login(conn, user_id, now).map_err(CoreError::from)
        })
        .await?;
        Ok(user_id)
    }

    async fn count_ip_failure(
        &self,
        client_ip: Option<&str>,
        minute: i64,
    ) -> Result<(), CoreError> {
        if let Some(ip) = client_ip {
            let ip = ip.to_owned();
            self.db(move |conn| {
                storage::sms::hit_counter(conn, "login_ip", &ip, minute)
                    .map(|_| ())
                    .map_err(CoreError::from)
            })
            .await?;
        }
        Ok(())
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
            .verify(password.canonical(), credential.password_hash)
            .await
    }

    /// Changes a password knowing the old one; every session of the user is revoked.
    pub async fn change_password(
        &self,
        user_id: UserId,
        old: &PasswordInput,
        new: &PasswordInput,
    ) -> Result<(), CoreError> {
        if !self.check_password(user_id, old).await? {
            return Err(CoreError::WrongPassword);
        }
        self.set_password(user_id, new).await
    }

    /// Sets a new password for the account of a verified phone; every session is revoked.
    /// Refusals after the proof: `UserNotFound`, `AccountBanned`, and `SamePassword` when
    /// `reject_same` (a dialect whose document forbids reusing the old password).
    pub async fn reset_password(
        &self,
        phone: &Phone,
        proof: PhoneProof,
        new: &PasswordInput,
        reject_same: bool,
    ) -> Result<UserId, CoreError> {
        let phone = match proof {
            PhoneProof::SmsCode {
                purpose,
                code,
                universal,
            } => {
                self.verify_code(phone, &purpose, &code, universal.as_deref())
                    .await?;
                phone.clone()
            }
            PhoneProof::Ticket(ticket) => self.redeem_ticket(&ticket).await?.phone,
            PhoneProof::Unverified => phone.clone(),
        };
        let user_id = self
            .find_user_by_phone(&phone)
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
        self.set_password(user_id, new).await?;
        Ok(user_id)
    }

    async fn set_password(&self, user_id: UserId, new: &PasswordInput) -> Result<(), CoreError> {
        if new.is_empty() {
            return Err(CoreError::invalid("password", "is empty"));
        }
        let hash = self.inner.hasher.hash(new.canonical()).await?;
        let now = self.now_ms();
        self.db(move |conn| {
            write_tx(conn, |conn| {
                if storage::users::set_password(conn, user_id, &hash, now)? == 0 {
                    return Err(CoreError::UserNotFound);
                }
                storage::sessions::delete_all_of_user(conn, user_id)?;
                Ok(())
            })
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
