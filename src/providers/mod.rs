//! Third-party services the gateway speaks to or mints credentials for, each behind a small
//! adapter with its provider's exact signing: Qiniu upload tokens so far (SealTalk's
//! `get_image_token`); RongCloud and the SMS providers follow.

pub mod qiniu;
