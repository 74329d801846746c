//! The errors the account core answers with. They carry no HTTP: every dialect maps each one
//! with an exhaustive `match`, so a new error does not compile until each dialect decides.

/// Everything a use case of the core can refuse with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("the phone number is not valid")]
    InvalidPhone,
    #[error("the username is not valid")]
    InvalidUsername,
    /// `reason` reads after the field's name: "is longer than 64 characters".
    #[error("{field} {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("the phone number is already registered")]
    PhoneAlreadyRegistered,
    #[error("the username is already taken")]
    UsernameTaken,
    #[error("no such user")]
    UserNotFound,
    /// Also the answer while the account is locked out, so a lockout reveals nothing.
    #[error("wrong password")]
    WrongPassword,
    #[error("the new password equals the old one")]
    SamePassword,
    #[error("the account is banned")]
    AccountBanned,
    #[error("too many login attempts from this address")]
    LoginThrottled,
    #[error("no such session")]
    SessionNotFound,
    #[error("the session has expired")]
    SessionExpired,
    #[error("no code was sent to this phone")]
    CodeNotRequested,
    #[error("wrong verification code")]
    CodeWrong,
    #[error("the verification code has expired")]
    CodeExpired,
    #[error("unknown or expired verification ticket")]
    TicketUnknown,
    #[error("a code was sent to this phone moments ago")]
    SmsTooSoon,
    #[error("this phone has had its codes for today")]
    SmsDailyLimit,
    #[error("too many codes requested from this address")]
    SmsIpLimit,
    #[error("the SMS provider refused this number")]
    SmsRejectedPhone,
    #[error("the SMS could not be sent")]
    SmsSendFailed,
    #[error("the image is not jpg, jpeg, bmp or png")]
    AvatarFormat,
    #[error("the image is larger than 3 MiB")]
    AvatarTooLarge,
    #[error("no such group")]
    GroupNotFound,
    #[error("not a member of this group")]
    NotGroupMember,
    #[error("the group is full")]
    GroupFull,
    #[error("not allowed")]
    Forbidden,
    /// The password-hashing queue is full past its deadline: try again later.
    #[error("the server is busy")]
    Busy,
    /// Storage or another internal failure; the text is for logs, never for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> CoreError {
        CoreError::InvalidField {
            field,
            reason: reason.into(),
        }
    }
}

impl From<super::profile::ProfileError> for CoreError {
    fn from(err: super::profile::ProfileError) -> Self {
        use super::profile::ProfileError;
        // The reason leaves the field out, so each dialect can name the field its own way.
        match err {
            ProfileError::TooLong { field, max } => {
                CoreError::invalid(field, format!("is longer than {max} characters"))
            }
            ProfileError::ControlCharacter { field } => {
                CoreError::invalid(field, "contains control characters")
            }
            ProfileError::EmptyNickname => CoreError::invalid("nickname", "is empty"),
        }
    }
}
