//! The admin API of the operator contract, under `/admin/`, only when `ops.admin_token` is set,
//! with `Authorization: Bearer <token>`. Errors are `{"error": "<message>"}`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::OpsState;
use crate::domain::CoreError;
use crate::domain::credential::{PasswordInput, constant_time_eq};
use crate::domain::identity::Username;
use crate::domain::phone::Phone;
use crate::domain::profile::{ProfilePatch, Role, TextField};
use crate::domain::social::GroupRole;
use crate::service::accounts::{NewAccount, NewPhone};

pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/admin")
        .wrap(from_fn(require_token))
        .app_data(
            web::JsonConfig::default()
                .limit(64 * 1024)
                // Bodies are JSON whatever they are labelled: `curl -d` labels them as a form.
                // A browser cannot send a cross-site request with the bearer token unasked, so
                // accepting any label opens nothing.
                .content_type(|_| true)
                .content_type_required(false)
                .error_handler(reject(StatusCode::BAD_REQUEST)),
        )
        .app_data(web::PathConfig::default().error_handler(reject(StatusCode::NOT_FOUND)))
        .app_data(web::QueryConfig::default().error_handler(reject(StatusCode::BAD_REQUEST)))
        .route("/sms/outbox", web::get().to(outbox))
        .route("/users", web::post().to(create_user))
        .route("/users/{id}/ban", web::post().to(ban))
        .route("/users/{id}/unban", web::post().to(unban))
        .route("/users/{id}/role", web::put().to(set_role))
        .route("/groups", web::post().to(create_group))
        .route("/groups/{id}/members", web::post().to(add_member))
        .route("/friendships", web::post().to(make_friends))
        .configure(super::cockpit_api::routes)
        .configure(super::lookup::routes)
        .default_service(web::to(|| async {
            error(StatusCode::NOT_FOUND, "no such admin endpoint")
        }))
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": message.into()}))
}

/// Extractor failures (bad JSON, path or query) answered as `{"error": …}` with `status`.
fn reject<E>(status: StatusCode) -> impl Fn(E, &actix_web::HttpRequest) -> actix_web::Error + Clone
where
    E: std::fmt::Debug + std::fmt::Display + 'static,
{
    move |err, _| {
        let message = err.to_string();
        actix_web::error::InternalError::from_response(err, error(status, message)).into()
    }
}

async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let expected = req
        .app_data::<web::Data<OpsState>>()
        .and_then(|state| state.admin_token.clone());
    let Some(expected) = expected else {
        let response = error(
            StatusCode::NOT_FOUND,
            "the admin API is off: set ops.admin_token to turn it on",
        );
        return Ok(req.into_response(response));
    };
    let offered = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if !constant_time_eq(offered.as_bytes(), expected.as_bytes()) {
        return Ok(req.into_response(error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong admin token",
        )));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// Every core error as the admin API answers it.
fn core_error(err: &CoreError) -> HttpResponse {
    let status = match err {
        CoreError::InvalidPhone
        | CoreError::InvalidUsername
        | CoreError::InvalidField { .. }
        | CoreError::AvatarFormat
        | CoreError::AvatarTooLarge
        | CoreError::SamePassword
        | CoreError::CodeNotRequested
        | CoreError::CodeWrong
        | CoreError::CodeExpired
        | CoreError::TicketUnknown => StatusCode::BAD_REQUEST,
        CoreError::PhoneAlreadyRegistered
        | CoreError::UsernameTaken
        | CoreError::GroupFull
        | CoreError::Forbidden => StatusCode::CONFLICT,
        CoreError::UserNotFound | CoreError::GroupNotFound | CoreError::NotGroupMember => {
            StatusCode::NOT_FOUND
        }
        CoreError::WrongPassword
        | CoreError::AccountBanned
        | CoreError::SessionNotFound
        | CoreError::SessionExpired => StatusCode::FORBIDDEN,
        CoreError::LoginThrottled
        | CoreError::GuessingThrottled(_)
        | CoreError::SmsTooSoon
        | CoreError::SmsDailyLimit
        | CoreError::SmsIpLimit => StatusCode::TOO_MANY_REQUESTS,
        CoreError::SmsRejectedPhone | CoreError::SmsSendFailed => StatusCode::BAD_GATEWAY,
        CoreError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        // The core has logged it; the caller learns nothing more.
        CoreError::Internal(_) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    error(status, err.to_string())
}

pub(super) fn respond(result: Result<HttpResponse, CoreError>) -> HttpResponse {
    result.unwrap_or_else(|err| core_error(&err))
}

/// A digit string, also accepted as a JSON number; the error says which field is wrong.
fn digits(value: &Value, name: &str) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.trim().to_owned()),
        Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        _ => Err(format!("{name} must be a digit string")),
    }
}

#[derive(Deserialize)]
struct OutboxQuery {
    phone: Option<String>,
}

async fn outbox(state: web::Data<OpsState>, query: web::Query<OutboxQuery>) -> HttpResponse {
    let phone = query.into_inner().phone.filter(|p| !p.is_empty());
    respond(state.service.sms_outbox(phone).await.map(|messages| {
        let messages: Vec<Value> = messages
            .into_iter()
            .map(|m| {
                json!({
                    "region": m.region,
                    "phone": m.phone,
                    "code": m.code,
                    "purpose": m.purpose,
                    "dialect": m.dialect,
                    "sent_at": m.sent_at,
                    "provider": m.provider,
                    "outcome": m.outcome,
                    "message_id": m.message_id,
                    "request_id": m.request_id,
                    "detail": m.detail,
                })
            })
            .collect();
        HttpResponse::Ok().json(json!({ "messages": messages }))
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    region: Value,
    phone: Value,
    password: String,
    nickname: String,
    username: Option<String>,
}

async fn create_user(state: web::Data<OpsState>, body: web::Json<NewUser>) -> HttpResponse {
    let body = body.into_inner();
    let (region, number) = match (digits(&body.region, "region"), digits(&body.phone, "phone")) {
        (Ok(region), Ok(number)) => (region, number),
        (Err(message), _) | (_, Err(message)) => return error(StatusCode::BAD_REQUEST, message),
    };
    let Ok(phone) = Phone::parse(&region, &number) else {
        return error(
            StatusCode::BAD_REQUEST,
            "region and phone are not a valid phone number",
        );
    };
    let username = match body.username.as_deref().map(Username::parse).transpose() {
        Ok(username) => username,
        Err(err) => return error(StatusCode::BAD_REQUEST, format!("username: {err}")),
    };
    let account = NewAccount {
        username,
        ..NewAccount::new(
            NewPhone::Unverified(phone),
            PasswordInput::Plain(body.password),
            ProfilePatch::default().set(TextField::Nickname, body.nickname),
        )
    };
    respond(
        state
            .service
            .register(account)
            .await
            .map(|id| HttpResponse::Created().json(json!({ "id": id }))),
    )
}

async fn ban(state: web::Data<OpsState>, id: web::Path<i64>) -> HttpResponse {
    set_banned(&state, id.into_inner(), true).await
}

async fn unban(state: web::Data<OpsState>, id: web::Path<i64>) -> HttpResponse {
    set_banned(&state, id.into_inner(), false).await
}

async fn set_banned(state: &OpsState, id: i64, banned: bool) -> HttpResponse {
    respond(
        state
            .service
            .set_banned(id, banned)
            .await
            .map(|()| HttpResponse::Ok().json(json!({ "id": id, "banned": banned }))),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

async fn set_role(
    state: web::Data<OpsState>,
    id: web::Path<i64>,
    body: web::Json<RoleBody>,
) -> HttpResponse {
    let id = id.into_inner();
    let Some(role) = Role::parse(&body.role) else {
        return error(
            StatusCode::BAD_REQUEST,
            "role must be normal, service or superadmin",
        );
    };
    respond(
        state
            .service
            .set_role(id, role)
            .await
            .map(|()| HttpResponse::Ok().json(json!({ "id": id, "role": body.role }))),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGroup {
    name: String,
    creator_id: i64,
    portrait_uri: Option<String>,
}

async fn create_group(state: web::Data<OpsState>, body: web::Json<NewGroup>) -> HttpResponse {
    respond(
        state
            .service
            .create_group(body.creator_id, &body.name, body.portrait_uri.as_deref())
            .await
            .map(|id| HttpResponse::Created().json(json!({ "id": id }))),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMember {
    user_id: i64,
    role: Option<String>,
    display_name: Option<String>,
}

async fn add_member(
    state: web::Data<OpsState>,
    id: web::Path<i64>,
    body: web::Json<NewMember>,
) -> HttpResponse {
    let group_id = id.into_inner();
    let body = body.into_inner();
    let role = match body.role.as_deref() {
        None => GroupRole::Member,
        Some(name) => match GroupRole::parse(name) {
            Some(role) => role,
            None => return error(StatusCode::BAD_REQUEST, "role must be member or manager"),
        },
    };
    respond(
        state
            .service
            .add_group_member(group_id, body.user_id, role, body.display_name)
            .await
            .map(|()| {
                HttpResponse::Created()
                    .json(json!({ "group_id": group_id, "user_id": body.user_id }))
            }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFriendship {
    user_id: i64,
    friend_id: i64,
    display_name: Option<String>,
}

async fn make_friends(state: web::Data<OpsState>, body: web::Json<NewFriendship>) -> HttpResponse {
    let body = body.into_inner();
    respond(
        state
            .service
            .make_friends(body.user_id, body.friend_id, body.display_name)
            .await
            .map(|()| {
                HttpResponse::Created()
                    .json(json!({ "user_id": body.user_id, "friend_id": body.friend_id }))
            }),
    )
}
