//! The errors the account core answers with. They carry no HTTP: every dialect maps each one
//! with an exhaustive `match`, so a new error does not compile until each dialect decides.

use super::profile::TextField;

/// A value the core checks, named by what it is rather than by any dialect's field name, so
/// each dialect renders its own name (and a renamed field fails to compile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Password,
    Profile(TextField),
    /// The other user of a friendship or blacklist entry.
    FriendId,
    GroupName,
    GroupPortraitUri,
    /// A member's or friend's display name.
    DisplayName,
    MemberRole,
}

impl Field {
    /// The core's own name, for logs and the admin API.
    pub fn name(self) -> &'static str {
        match self {
            Field::Password => "password",
            Field::Profile(field) => field.name(),
            Field::FriendId => "friend_id",
            Field::GroupName => "name",
            Field::GroupPortraitUri => "portrait_uri",
            Field::DisplayName => "display_name",
            Field::MemberRole => "role",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a value was refused; each dialect words it in its own language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldReason {
    Empty,
    TooLong {
        max: usize,
    },
    /// Control characters, or characters the rule forbids.
    BadCharacter,
    /// Too short, or a value outside the allowed set (a group of one character, a second
    /// creator, befriending oneself).
    OutOfRange,
}

impl std::fmt::Display for FieldReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldReason::Empty => f.write_str("is empty"),
            FieldReason::TooLong { max } => write!(f, "is longer than {max} characters"),
            FieldReason::BadCharacter => f.write_str("contains characters that are not allowed"),
            FieldReason::OutOfRange => f.write_str("is out of range"),
        }
    }
}

/// What was being guessed, for the dialect to answer in the words of the call it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guessed {
    Token,
    Code,
}

impl std::fmt::Display for Guessed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Guessed::Token => "session token",
            Guessed::Code => "SMS code",
        })
    }
}

/// Everything a use case of the core can refuse with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("the phone number is not valid")]
    InvalidPhone,
    #[error("the username is not valid")]
    InvalidUsername,
    #[error("{field} {reason}")]
    InvalidField { field: Field, reason: FieldReason },
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
    /// Too many wrong session tokens or SMS codes from one address (or against one account
    /// from addresses that keep failing): every attempt is refused for the rest of the minute,
    /// a right guess too.
    #[error("too many failed {0} attempts")]
    GuessingThrottled(Guessed),
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
    pub fn invalid(field: Field, reason: FieldReason) -> CoreError {
        CoreError::InvalidField { field, reason }
    }
}

impl From<super::profile::ProfileError> for CoreError {
    fn from(err: super::profile::ProfileError) -> Self {
        CoreError::InvalidField {
            field: Field::Profile(err.field),
            reason: err.reason,
        }
    }
}
