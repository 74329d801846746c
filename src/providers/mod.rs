//! Third-party services the gateway speaks to or mints credentials for, each behind a small
//! adapter with its provider's exact signing: Qiniu upload tokens and RongCloud Server API
//! requests so far (SealTalk's `get_image_token`, `get_token` and blacklist sync); the SMS
//! providers follow.

pub mod qiniu;
pub mod rongcloud;
