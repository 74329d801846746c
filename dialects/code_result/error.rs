//! How the `code_result` dialect answers each core error (an exhaustive match), unreadable
//! parameters, and framework failures: the original's `{code}` outcomes and plain-text statuses.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use futures_util::future::LocalBoxFuture;

use super::wire::{Business, Code, TEXT_CONTENT_TYPE, TextError};
use super::{Config, auth, profile};
use crate::dialects::DialectContext;
use crate::dialects::kit::{FrameworkError, Outcome, ParamError, ParamErrorKind, Refusal, Reply};
use crate::domain::profile::TextField;
use crate::domain::{CoreError, Field};

/// The original's development-mode messages of business outcomes.
pub mod message {
    pub const WRONG_LOGIN: &str = "Invalid phone or password.";
    pub const WRONG_OLD_PASSWORD: &str = "Wrong old password.";
    pub const WRONG_CODE: &str = "Invalid verification code.";
    pub const EXPIRED_CODE: &str = "Verification code expired.";
    pub const THROTTLED: &str = "Throttle limit exceeded.";
    pub const WRONG_IMAGE_CODE: &str = "Invalid image verification code.";
}

/// The original's plain-text request errors.
pub mod text {
    pub const UNKNOWN_USER: &str = "Unknown user.";
    pub const UNKNOWN_PHONE: &str = "Unknown phone number.";
    pub const UNKNOWN_TOKEN: &str = "Unknown verification_token.";
    pub const PHONE_EXISTS: &str = "Phone number has already existed.";
    pub const NOT_A_USER_ID: &str = "friendId is not an available userId.";
    pub const NOT_IMPLEMENTED: &str = "Not implements.";
}

/// A refusal: a business outcome (HTTP 200, `message` in test mode only) or a request error.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Business(Business),
    Text(TextError),
    /// An answer made elsewhere (the busy answer).
    Ready(Box<Reply>),
    /// A request that could not be read, for the failure hook.
    Framework(FrameworkError),
}

impl Failure {
    pub fn business(code: Code, message: &'static str) -> Failure {
        Failure::Business(Business::refused(code, message))
    }

    pub fn bad_request(text: impl Into<String>) -> Failure {
        Failure::Text(TextError::bad_request(text))
    }

    pub fn not_found(text: impl Into<String>) -> Failure {
        Failure::Text(TextError::not_found(text))
    }

    /// The answer; business messages only `with_messages` (test mode).
    pub fn into_refusal(self, with_messages: bool) -> Refusal {
        Refusal::Answer(match self {
            Failure::Business(business) => business.render(with_messages),
            Failure::Text(text) => text.into(),
            Failure::Ready(reply) => *reply,
            Failure::Framework(err) => return Refusal::Framework(err),
        })
    }
}

impl From<FrameworkError> for Failure {
    fn from(err: FrameworkError) -> Failure {
        Failure::Framework(err)
    }
}

impl From<ParamError> for Failure {
    fn from(err: ParamError) -> Failure {
        param_error(err)
    }
}

impl From<TextError> for Failure {
    fn from(err: TextError) -> Failure {
        Failure::Text(err)
    }
}

impl From<super::rules::Refused> for Failure {
    fn from(refused: super::rules::Refused) -> Failure {
        Failure::bad_request(refused.0)
    }
}

/// The 400 text for a field the core refused, in the words the original used for it.
fn field_text(field: Field) -> String {
    match field {
        Field::Password => "Length of password invalid.".to_owned(),
        Field::Profile(TextField::Nickname) => "Invalid nickname length.".to_owned(),
        Field::Profile(TextField::AvatarUrl) => "Invalid portraitUri length.".to_owned(),
        Field::FriendId => "Empty friendId.".to_owned(),
        Field::Profile(other) => format!("Invalid {}.", other.name()),
        Field::GroupName | Field::GroupPortraitUri | Field::DisplayName | Field::MemberRole => {
            format!("Invalid {}.", field.name())
        }
    }
}

/// The answer for a core error where the endpoint has no words of its own for it.
pub fn core_error(err: &CoreError) -> Failure {
    use message::*;
    match err {
        CoreError::InvalidPhone | CoreError::SmsRejectedPhone => {
            Failure::bad_request(super::rules::INVALID_PHONE.0)
        }
        CoreError::InvalidUsername => Failure::bad_request("Invalid username."),
        CoreError::InvalidField { field, .. } => Failure::bad_request(field_text(*field)),
        CoreError::PhoneAlreadyRegistered => Failure::bad_request(text::PHONE_EXISTS),
        CoreError::UsernameTaken => Failure::bad_request("Username has already existed."),
        CoreError::UserNotFound => Failure::not_found(text::UNKNOWN_USER),
        // SealTalk has no ban: a banned account cannot log in, like a wrong password (§9).
        CoreError::WrongPassword | CoreError::AccountBanned => {
            Failure::business(Code::Refused, WRONG_LOGIN)
        }
        CoreError::SamePassword => {
            Failure::bad_request("New password must be different from the old one.")
        }
        CoreError::LoginThrottled => Failure::business(Code::Refused, THROTTLED),
        CoreError::GuessingThrottled(_) => Failure::business(Code::Throttled, THROTTLED),
        CoreError::SessionNotFound | CoreError::SessionExpired => {
            Failure::Text(TextError::not_logged_in())
        }
        CoreError::CodeNotRequested => Failure::not_found(text::UNKNOWN_PHONE),
        CoreError::CodeWrong => Failure::business(Code::Refused, WRONG_CODE),
        CoreError::CodeExpired => Failure::business(Code::Expired, EXPIRED_CODE),
        CoreError::TicketUnknown => Failure::not_found(text::UNKNOWN_TOKEN),
        CoreError::SmsTooSoon | CoreError::SmsDailyLimit | CoreError::SmsIpLimit => {
            Failure::business(Code::Throttled, THROTTLED)
        }
        CoreError::SmsSendFailed => Failure::Text(TextError::route(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Send SMS failed.",
        )),
        CoreError::AvatarFormat => Failure::bad_request("Invalid portraitUri format."),
        CoreError::AvatarTooLarge => Failure::bad_request("Invalid portraitUri length."),
        CoreError::GroupNotFound => Failure::not_found("Unknown group."),
        CoreError::NotGroupMember | CoreError::Forbidden => Failure::Text(TextError::route(
            StatusCode::FORBIDDEN,
            "Permission denied.",
        )),
        CoreError::GroupFull => {
            Failure::bad_request("Group's member count is out of max group member count limit.")
        }
        CoreError::Busy => Failure::Ready(Box::new(
            Reply::bytes(
                StatusCode::SERVICE_UNAVAILABLE,
                Outcome::Busy,
                TEXT_CONTENT_TYPE,
                "Server is busy, try again later.",
            )
            .header("retry-after", "1"),
        )),
        // The core has logged it, with the request id; the client learns nothing more.
        CoreError::Internal(_) => Failure::Text(TextError::route(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error.",
        )),
    }
}

/// A parameter that could not be read. The original's preprocessor refused present-but-empty
/// values as `Empty <prop>.`; a missing one crashed its route (500), which is fixed into the
/// same answer; a value of the wrong shape is named as invalid.
pub fn param_error(err: ParamError) -> Failure {
    let ParamError { name, kind } = err;
    match kind {
        ParamErrorKind::Missing | ParamErrorKind::Null | ParamErrorKind::Empty => {
            Failure::Text(TextError::empty(&name))
        }
        ParamErrorKind::NotScalar | ParamErrorKind::Malformed => {
            Failure::Text(TextError::bad_request(format!("Invalid {name}.")))
        }
    }
}

/// The dialect's failure hook. Unknown routes and wrong methods are answered as Express did
/// after the auth middleware: 403 without a valid cookie, else its 404 `Cannot <METHOD> <path>`;
/// a GET of any other single segment under `/user/` is the original's `/:id` route.
pub fn framework_error(
    req: HttpRequest,
    ctx: DialectContext,
    err: FrameworkError,
) -> LocalBoxFuture<'static, Reply> {
    Box::pin(async move {
        // The mounted state when the request reached the dialect's scope; otherwise (a path
        // outside every prefix) the settings are read again.
        let mounted = req
            .app_data::<actix_web::web::Data<super::State>>()
            .cloned();
        let rebuilt;
        let config = match &mounted {
            Some(state) => &state.config,
            None => match Config::from_settings(&ctx.settings) {
                Ok(config) => {
                    rebuilt = config;
                    &rebuilt
                }
                Err(_) => {
                    return TextError::route(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Internal server error.",
                    )
                    .into();
                }
            },
        };
        let with_messages = ctx.service.config().testing.enabled;
        let answer = match err {
            FrameworkError::NotFound | FrameworkError::MethodNotAllowed { .. } => {
                unrouted(&req, &ctx, config).await
            }
            FrameworkError::PayloadTooLarge => Err(Failure::Text(TextError::route(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request entity too large",
            ))),
            // body-parser's refusal, answered as the client error it is (the original: 500).
            FrameworkError::Malformed { part, detail } => Err(Failure::Text(TextError {
                status: StatusCode::BAD_REQUEST,
                text: format!("Invalid {}: {detail}", part.as_str()),
                stage: super::wire::Stage::BeforeCacheControl,
            })),
            FrameworkError::Internal(_) => Err(Failure::Text(TextError::route(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error.",
            ))),
        };
        match answer {
            Ok(reply) => reply,
            Err(failure) => match failure.into_refusal(with_messages) {
                Refusal::Answer(reply) => reply,
                Refusal::Framework(_) => {
                    Reply::empty(StatusCode::INTERNAL_SERVER_ERROR, Outcome::ServerError)
                }
            },
        }
    })
}

/// A path no route serves for this method.
async fn unrouted(
    req: &HttpRequest,
    ctx: &DialectContext,
    config: &Config,
) -> Result<Reply, Failure> {
    let path = auth::dialect_path(req, &ctx.settings.prefix);
    if req.method() == actix_web::http::Method::OPTIONS {
        // The original's CORS middleware answered every preflight before authentication.
        return Ok(Reply::empty(StatusCode::NO_CONTENT, Outcome::Ok));
    }
    let single_segment = path
        .strip_prefix("/user/")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'));
    if req.method() == actix_web::http::Method::GET && single_segment {
        let segment = path.trim_start_matches("/user/").to_owned();
        if !auth::is_exempt(&path) {
            auth::caller(req, ctx, config).await?;
        }
        return profile::user_by_segment(ctx, config, &segment).await;
    }
    if !auth::is_exempt(&path) {
        auth::caller(req, ctx, config).await?;
    }
    Err(Failure::Text(TextError {
        status: StatusCode::NOT_FOUND,
        text: cannot(req),
        stage: super::wire::Stage::Route,
    }))
}

/// Express's 404 text: `Cannot <METHOD> <url>`, the URL as sent (query included), HTML-escaped.
fn cannot(req: &HttpRequest) -> String {
    let url = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    format!("Cannot {} {}", req.method(), escape_html(&url))
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn express_escapes_the_url_it_cannot_route() {
        assert_eq!(
            escape_html("/user/<a>?x=\"1\"&y='2'"),
            "/user/&lt;a&gt;?x=&quot;1&quot;&amp;y=&#39;2&#39;"
        );
    }

    #[test]
    fn missing_and_empty_parameters_read_as_the_preprocessor_wrote_them() {
        for kind in [
            ParamErrorKind::Missing,
            ParamErrorKind::Null,
            ParamErrorKind::Empty,
        ] {
            let failure = param_error(ParamError {
                name: "phone".into(),
                kind,
            });
            assert_eq!(failure, Failure::Text(TextError::empty("phone")));
        }
        let failure = param_error(ParamError {
            name: "phone".into(),
            kind: ParamErrorKind::NotScalar,
        });
        assert_eq!(failure, Failure::bad_request("Invalid phone."));
    }
}
