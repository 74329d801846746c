//! Third-party services the gateway speaks to or mints credentials for, each behind a small
//! adapter with its provider's exact signing: Qiniu upload tokens, RongCloud Server API requests
//! (SealTalk's `get_image_token`, `get_token` and blacklist sync), and the Aliyun and Tencent
//! Cloud SMS senders; with the HTTPS client they all go out through.

pub mod aliyun_sms;
pub mod https;
pub mod qiniu;
pub mod rongcloud;
pub mod signing;
pub mod sms;
pub mod tencent_sms;
