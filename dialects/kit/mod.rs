//! The dialect kit: everything a dialect needs besides its wire format, built once — reading
//! parameters, one route table, one reply type, framework failures in the dialect's own
//! envelope, and bounded bodies and uploads.

pub mod failure;
pub mod multipart;
pub mod openapi;
pub mod params;
pub mod reply;
pub mod request;
pub mod routes;

pub use crate::ops::clients::hint as name_client;
pub use failure::{Answer, FailureHook, FrameworkError, Refusal, RequestPart};
pub use params::{ParamError, ParamErrorKind, Params, Winner};
pub use reply::{Outcome, Reply};
pub use request::{
    client_ip, cookie_value, header_text, is_cookie_name, query_and_body, read_body,
};
pub use routes::RouteDoc;
