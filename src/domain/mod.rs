//! Pure types and rules of the account core: identities, credentials, profiles, the social graph
//! and the errors the core can answer with. Nothing here touches HTTP, storage or the clock.

pub mod avatar;
pub mod captcha;
pub mod credential;
pub mod dates;
pub mod error;
pub mod identity;
pub mod phone;
pub mod profile;
pub mod social;
pub mod token;

pub use error::{CoreError, Field, FieldReason, Guessed};

/// Internal user id: a 64-bit integer, the sequence starts at 100000.
pub type UserId = i64;
/// Internal group id.
pub type GroupId = i64;
/// Milliseconds since the UNIX epoch: every time the core stores or compares.
pub type EpochMillis = i64;
