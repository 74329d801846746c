//! The canonical user profile (every dialect maps its own field names onto it) and the rules for changing it.

use super::error::FieldReason;
use super::{EpochMillis, UserId, phone::Phone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gender {
    #[default]
    Unknown,
    Male,
    Female,
}

impl Gender {
    pub fn code(self) -> i32 {
        match self {
            Gender::Unknown => 0,
            Gender::Male => 1,
            Gender::Female => 2,
        }
    }

    pub fn from_code(code: i32) -> Gender {
        match code {
            1 => Gender::Male,
            2 => Gender::Female,
            _ => Gender::Unknown,
        }
    }
}

/// Permission role (`code_sec`'s `user_role` 1/2/3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    Normal,
    Service,
    SuperAdmin,
}

impl Role {
    pub fn code(self) -> i32 {
        match self {
            Role::Normal => 0,
            Role::Service => 1,
            Role::SuperAdmin => 2,
        }
    }

    pub fn from_code(code: i32) -> Role {
        match code {
            1 => Role::Service,
            2 => Role::SuperAdmin,
            _ => Role::Normal,
        }
    }

    /// The name of the admin API.
    pub fn name(self) -> &'static str {
        match self {
            Role::Normal => "normal",
            Role::Service => "service",
            Role::SuperAdmin => "superadmin",
        }
    }

    /// The names of the admin API (`normal`, `service`, `superadmin`).
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "normal" => Some(Role::Normal),
            "service" => Some(Role::Service),
            "superadmin" => Some(Role::SuperAdmin),
            _ => None,
        }
    }
}

/// Every canonical text field of the profile; values are stored as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Nickname,
    RealName,
    AvatarUrl,
    Age,
    BirthDecade,
    Signature,
    ContactPhone,
    Country,
    Province,
    City,
    District,
    Street,
    Company,
    CompanyLogo,
    CompanyAddress,
    Industry,
    JobTitle,
    Education,
    School,
    IdentityCard,
    QqNumber,
    RecommenderRaw,
}

impl TextField {
    pub fn name(self) -> &'static str {
        match self {
            TextField::Nickname => "nickname",
            TextField::RealName => "real_name",
            TextField::AvatarUrl => "avatar_url",
            TextField::Age => "age",
            TextField::BirthDecade => "birth_decade",
            TextField::Signature => "signature",
            TextField::ContactPhone => "contact_phone",
            TextField::Country => "country",
            TextField::Province => "province",
            TextField::City => "city",
            TextField::District => "district",
            TextField::Street => "street",
            TextField::Company => "company",
            TextField::CompanyLogo => "company_logo",
            TextField::CompanyAddress => "company_address",
            TextField::Industry => "industry",
            TextField::JobTitle => "job_title",
            TextField::Education => "education",
            TextField::School => "school",
            TextField::IdentityCard => "identity_card",
            TextField::QqNumber => "qq_number",
            TextField::RecommenderRaw => "recommender_raw",
        }
    }

    /// The longest value the core keeps, in characters.
    pub fn max_chars(self) -> usize {
        match self {
            TextField::AvatarUrl | TextField::CompanyLogo => 1024,
            TextField::Nickname => 64,
            TextField::Signature | TextField::Street | TextField::CompanyAddress => 256,
            _ => 128,
        }
    }
}

/// A whole profile as the core holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: UserId,
    pub phone: Option<Phone>,
    pub username: Option<String>,
    pub nickname: String,
    pub real_name: Option<String>,
    pub avatar_url: Option<String>,
    pub gender: Gender,
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
    pub recommender_id: Option<UserId>,
    pub recommender_raw: Option<String>,
    pub profile_completed: bool,
    pub role: Role,
    pub banned: bool,
    pub push_enabled: bool,
    pub im_token: Option<String>,
    pub has_avatar_image: bool,
    pub created_at: EpochMillis,
    /// The profile's version: the time of its last change.
    pub updated_at: EpochMillis,
}

/// The fields that public lookups show (a user's detail, a search result): read with one
/// narrow query, because every column a hot path decodes costs time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileCard {
    pub id: UserId,
    pub phone: Option<Phone>,
    pub nickname: String,
    pub avatar_url: Option<String>,
    pub gender: Gender,
    pub birth_decade: Option<String>,
    pub signature: Option<String>,
    pub contact_phone: Option<String>,
    pub push_enabled: bool,
    pub updated_at: EpochMillis,
}

/// A partial profile update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfilePatch {
    pub text: Vec<(TextField, String)>,
    pub gender: Option<Gender>,
    pub recommender_id: Option<Option<UserId>>,
    pub profile_completed: Option<bool>,
    pub push_enabled: Option<bool>,
}

/// A profile value the core's own limits refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {reason}", field.name())]
pub struct ProfileError {
    pub field: TextField,
    pub reason: FieldReason,
}

/// A recommender as the core resolved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recommender {
    User(UserId),
    /// Neither a known user id nor the phone of a known account: kept as sent.
    Unresolved(String),
}

impl ProfilePatch {
    /// Sets the recommender: a resolved user replaces any raw value, an unresolved one is kept
    /// as text with no user behind it.
    pub fn recommender(mut self, recommender: Recommender) -> Self {
        match recommender {
            Recommender::User(id) => {
                self.recommender_id = Some(Some(id));
                self.text.push((TextField::RecommenderRaw, id.to_string()));
            }
            Recommender::Unresolved(raw) => {
                self.recommender_id = Some(None);
                self.text.push((TextField::RecommenderRaw, raw));
            }
        }
        self
    }

    pub fn set(mut self, field: TextField, value: impl Into<String>) -> Self {
        self.text.push((field, value.into()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
            && self.gender.is_none()
            && self.recommender_id.is_none()
            && self.profile_completed.is_none()
            && self.push_enabled.is_none()
    }

    /// The core's own limits, whatever dialect the change came through.
    pub fn validate(&self) -> Result<(), ProfileError> {
        for (field, value) in &self.text {
            validate_text(*field, value)?;
        }
        Ok(())
    }
}

/// Checks one text value against the core's limits.
pub fn validate_text(field: TextField, value: &str) -> Result<(), ProfileError> {
    let refuse = |reason| Err(ProfileError { field, reason });
    if value.chars().count() > field.max_chars() {
        return refuse(FieldReason::TooLong {
            max: field.max_chars(),
        });
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return refuse(FieldReason::BadCharacter);
    }
    if field == TextField::Nickname && value.trim().is_empty() {
        return refuse(FieldReason::Empty);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for g in [Gender::Unknown, Gender::Male, Gender::Female] {
            assert_eq!(Gender::from_code(g.code()), g);
        }
        for r in [Role::Normal, Role::Service, Role::SuperAdmin] {
            assert_eq!(Role::from_code(r.code()), r);
        }
        assert_eq!(Role::parse("superadmin"), Some(Role::SuperAdmin));
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn patch_limits() {
        let ok = ProfilePatch::default().set(TextField::Nickname, "张三");
        assert!(ok.validate().is_ok());
        let long = ProfilePatch::default().set(TextField::Nickname, "x".repeat(65));
        assert_eq!(
            long.validate(),
            Err(ProfileError {
                field: TextField::Nickname,
                reason: FieldReason::TooLong { max: 64 }
            })
        );
        let empty = ProfilePatch::default().set(TextField::Nickname, "  ");
        assert_eq!(
            empty.validate(),
            Err(ProfileError {
                field: TextField::Nickname,
                reason: FieldReason::Empty
            })
        );
        let ctrl = ProfilePatch::default().set(TextField::City, "a\u{0}b");
        assert_eq!(
            ctrl.validate(),
            Err(ProfileError {
                field: TextField::City,
                reason: FieldReason::BadCharacter
            })
        );
    }
}
