//! The `code_result` dialect: the SealTalk app server's user API (document 003). Under
//! construction: its id cipher, validation rules and wire shapes are here; until its endpoints
//! are, it is not registered and `[dialects.code_result]` is accepted with a "not served yet"
//! warning.

pub mod n3d;
pub mod rules;
pub mod wire;
