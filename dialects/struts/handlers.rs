//! The actions of document 000, one function each, answering as the dialect README says.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};

use super::State;
use super::auth::{self, Caller};
use super::error::{core_error, info, param_error};
use super::wire::{self, Failure, UserData, UserVo};
use crate::dialects::kit::multipart::{MultipartError, MultipartLimits, read_multipart};
use crate::dialects::kit::{
    Answer, FrameworkError, Outcome, ParamError, ParamErrorKind, Params, Refusal, Reply, Winner,
    client_ip, query_and_body,
};
use crate::domain::avatar::{ImageFormat, MAX_AVATAR_BYTES};
use crate::domain::credential::PasswordInput;
use crate::domain::identity::LoginName;
use crate::domain::phone::Phone;
use crate::domain::profile::{Gender, Profile, ProfilePatch, TextField};
use crate::domain::social::{MemberSettings, NotifyMode};
use crate::domain::{CoreError, UserId};
use crate::service::accounts::{CallerSession, NewAccount, NewPhone};
use crate::service::profiles::Whose;
use crate::service::sessions::SessionSpec;
use crate::service::sms::{CodeRequest, PhoneMust, SmsRules};

type Ctx = web::Data<State>;

/// Form bodies are small.
const BODY_LIMIT: usize = 64 * 1024;
/// Codes are six digits (`005512` in the document).
const CODE_LENGTH: usize = 6;
const PURPOSE_REGISTER: &str = "register";
const PURPOSE_RESET: &str = "retrieve";

/// Query string and body in one map, as Struts binds them (the query string first).
async fn params(req: &HttpRequest, payload: web::Payload) -> Result<Params, FrameworkError> {
    query_and_body(req, payload, BODY_LIMIT, Winner::Query).await
}

/// A field that must be sent and not be blank, trimmed (the document's samples carry stray
/// leading spaces).
fn required(params: &Params, name: &str) -> Result<String, Failure> {
    params.trimmed(name).map_err(param_error)
}

/// A field that may be left out; blank counts as left out ("为空表示不设置").
fn optional(params: &Params, name: &str) -> Result<Option<String>, Failure> {
    params.trimmed_optional(name).map_err(param_error)
}

/// A password as the app sends it: the md5 hex of the plain password (lowercased by the core).
fn password(params: &Params, name: &str) -> Result<PasswordInput, Failure> {
    Ok(PasswordInput::ClientMd5(required(params, name)?))
}

fn mobile(params: &Params) -> Result<Phone, Failure> {
    Phone::mainland(&required(params, "userVO.userMobile")?)
        .map_err(|_| Failure::new(info::INVALID_PHONE))
}

fn sms_rules(state: &State) -> SmsRules {
    SmsRules {
        code_ttl: Some(state.config.code_ttl),
        ..SmsRules::global(CODE_LENGTH)
    }
}

/// `sex`: 1 男 (male), 2 女 (female) — the opposite of `error_code`.
fn parse_sex(text: &str) -> Option<Gender> {
    match text {
        "1" => Some(Gender::Male),
        "2" => Some(Gender::Female),
        _ => None,
    }
}

fn render_sex(gender: Gender) -> &'static str {
    match gender {
        Gender::Male => "1",
        Gender::Female => "2",
        Gender::Unknown => "",
    }
}

/// Where this listener is reached, for photo URLs.
fn base_url(req: &HttpRequest, state: &State) -> String {
    match &state.config.public_base_url {
        Some(base) => format!("{base}{}", state.ctx.settings.prefix),
        None => {
            let info = req.connection_info();
            format!(
                "{}://{}{}",
                info.scheme(),
                info.host(),
                state.ctx.settings.prefix
            )
        }
    }
}

/// The document's `userVO` of a profile. `userPhoto` is the uploaded photo's URL on this
/// listener, else an avatar URL set through another dialect; `phoneNumber` the contact phone,
/// else the account's phone.
async fn user_vo(req: &HttpRequest, state: &State, profile: Profile) -> Result<UserVo, Failure> {
    let photo_format = if profile.has_avatar_image {
        state
            .ctx
            .service
            .avatar_format(profile.id)
            .await
            .map_err(|err| core_error(&err))?
    } else {
        None
    };
    let user_photo = match photo_format {
        Some(format) => format!(
            "{}/upload/images/userPhoto/{}_avatar.{}",
            base_url(req, state),
            profile.id,
            format.extension()
        ),
        None => profile.avatar_url.clone().unwrap_or_default(),
    };
    let text = |value: Option<String>| value.unwrap_or_default();
    Ok(UserVo {
        user_id: profile.id,
        sex: render_sex(profile.gender).to_owned(),
        age: text(profile.age),
        phone_number: profile
            .contact_phone
            .or_else(|| profile.phone.as_ref().map(|p| p.number().to_owned()))
            .unwrap_or_default(),
        country: text(profile.country),
        province: text(profile.province),
        city: text(profile.city),
        district: text(profile.district),
        street: text(profile.street),
        company: text(profile.company),
        occupation: text(profile.industry),
        role: text(profile.job_title),
        degrees: text(profile.education),
        school: text(profile.school),
        nick_name: profile.nickname,
        user_photo,
        signature: text(profile.signature),
    })
}

async fn user_data(req: &HttpRequest, state: &State, user_id: UserId) -> Result<UserData, Failure> {
    let profile = state
        .ctx
        .service
        .profile(user_id)
        .await
        .map_err(|err| core_error(&err))?;
    user_data_of(req, state, profile).await
}

async fn user_data_of(
    req: &HttpRequest,
    state: &State,
    profile: Profile,
) -> Result<UserData, Failure> {
    Ok(UserData {
        user_vo: user_vo(req, state, profile).await?,
    })
}

/// `user!login` — 1.用户登录 (000 §1): the session headers and the user.
pub async fn login(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let name = required(&params, "userVO.userName")?;
    let password = password(&params, "userVO.password")?;
    let wrong = || Failure::new(info::WRONG_LOGIN);
    let name = LoginName::parse_phone_or_username(&name).map_err(|_| wrong())?;
    let ip = client_ip(&req);
    let service = &state.ctx.service;
    let user_id = service
        .login(&name, &password, ip.as_deref())
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound | CoreError::WrongPassword => wrong(),
            other => core_error(&other),
        })?;
    let client = auth::client(&req);
    let session = service
        .create_session(
            user_id,
            SessionSpec {
                dialect: super::SPEC.id,
                shape: crate::domain::token::TokenShape::Opaque,
                ttl: state.config.token_ttl,
                client_id: client.clone(),
                single_per_user: false,
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    let caller = Caller {
        user_id,
        token: session.token,
        client,
        expires_at: session.expires_at,
    };
    let data = user_data(&req, &state, user_id).await?;
    Ok(auth::with_session(
        wire::success("登录成功", Some(&data)),
        &caller,
    ))
}

/// `user!readUser` — 2.读取用户信息 (000 §2): the caller, or the user `userVO.userId` (or
/// `userId`) names.
pub async fn read_user(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let whose = match named_user(&params) {
        Ok(whose) => whose,
        Err(failure) => {
            // The session is judged before the parameters.
            auth::authenticate(&state.ctx, &req).await?;
            return Err(failure.into());
        }
    };
    let (caller, profile) = auth::authenticate_profile(&state.ctx, &req, whose).await?;
    let data = user_data_of(&req, &state, profile).await?;
    Ok(auth::with_session(
        wire::success("获取用户信息成功", Some(&data)),
        &caller,
    ))
}

/// Whose profile `readUser` reads: `userVO.userId` (or `userId`), else the caller's.
fn named_user(params: &Params) -> Result<Whose, Failure> {
    let named = match optional(params, "userVO.userId")? {
        Some(id) => Some(id),
        None => optional(params, "userId")?,
    };
    match named {
        Some(id) => id.parse::<UserId>().map(Whose::User).map_err(|_| {
            param_error(ParamError {
                name: "userVO.userId".to_owned(),
                kind: ParamErrorKind::Malformed,
            })
        }),
        None => Ok(Whose::Caller),
    }
}

/// The profile fields of `updateUser`, by the document's names; each is read with either
/// prefix (`userVO.` or `userExtendVO.`), since the document mixes them.
pub(super) const PROFILE_FIELDS: &[(&str, TextField)] = &[
    ("age", TextField::Age),
    ("phoneNumber", TextField::ContactPhone),
    ("country", TextField::Country),
    ("province", TextField::Province),
    ("city", TextField::City),
    ("district", TextField::District),
    ("street", TextField::Street),
    ("company", TextField::Company),
    ("occupation", TextField::Industry),
    ("role", TextField::JobTitle),
    ("degrees", TextField::Education),
    ("school", TextField::School),
    ("nickName", TextField::Nickname),
    ("signature", TextField::Signature),
];

/// A profile field under either prefix; blank is "unchanged".
fn profile_field(params: &Params, name: &str) -> Result<Option<String>, Failure> {
    match optional(params, &format!("userExtendVO.{name}"))? {
        Some(value) => Ok(Some(value)),
        None => optional(params, &format!("userVO.{name}")),
    }
}

/// `user!updateUser` — 3.修改用户信息 (000 §3): only the fields sent change.
pub async fn update_user(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let caller = auth::authenticate(&state.ctx, &req).await?;
    if let Some(id) = profile_field(&params, "userId")?
        && id.parse::<UserId>().ok() != Some(caller.user_id)
    {
        return Err(Failure::new(info::OTHER_USER).into());
    }
    let mut patch = ProfilePatch::default();
    if let Some(sex) = profile_field(&params, "sex")? {
        patch.gender = Some(parse_sex(&sex).ok_or_else(|| Failure::new(info::BAD_SEX))?);
    }
    for (name, field) in PROFILE_FIELDS {
        let Some(value) = profile_field(&params, name)? else {
            continue;
        };
        if *field == TextField::Age && !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Failure::new(info::BAD_AGE).into());
        }
        patch = patch.set(*field, value);
    }
    state
        .ctx
        .service
        .update_profile(caller.user_id, patch)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(auth::with_session(
        wire::success("修改用户信息成功", None::<&()>),
        &caller,
    ))
}

/// Room for the photo and a few text fields.
const UPLOAD_LIMITS: MultipartLimits = MultipartLimits {
    total: MAX_AVATAR_BYTES + 64 * 1024,
    text_field: 4 * 1024,
    file: MAX_AVATAR_BYTES,
};

/// `user!uploadPhoto` — 4.上传用户头像 (000 §4): the multipart file `userPhoto`, jpg, jpeg, bmp
/// or png by its bytes (and by its name, when it has an extension), at most 3 MiB, refused
/// before the rest of an oversized body is read.
pub async fn upload_photo(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let caller = auth::authenticate(&state.ctx, &req).await?;
    let too_large = || Failure::new(info::PHOTO_TOO_LARGE);
    let body = match read_multipart(&req, payload, UPLOAD_LIMITS).await {
        Ok(body) => body,
        Err(MultipartError::FieldTooLarge { field }) if field == "userPhoto" => {
            return Err(too_large().into());
        }
        Err(MultipartError::FieldTooLarge { field }) => {
            return Err(param_error(ParamError {
                name: field,
                kind: ParamErrorKind::Malformed,
            })
            .into());
        }
        Err(MultipartError::Framework(FrameworkError::PayloadTooLarge)) => {
            return Err(too_large().into());
        }
        Err(MultipartError::Framework(err)) => return Err(err.into()),
    };
    let photo = body
        .file("userPhoto")
        .ok_or_else(|| Failure::new(info::PHOTO_MISSING))?;
    let named_extension = photo
        .filename
        .as_deref()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    if let Some(ext) = named_extension
        && ImageFormat::from_extension(&ext).is_none()
    {
        return Err(Failure::new(info::PHOTO_FORMAT).into());
    }
    state
        .ctx
        .service
        .set_avatar(caller.user_id, photo.bytes.to_vec())
        .await
        .map_err(|err| core_error(&err))?;
    Ok(auth::with_session(
        wire::success("上传用户头像成功", None::<&()>),
        &caller,
    ))
}

/// `user!updatePassword` — 5.修改用户密码 (000 §5): every session of the user ends, this one
/// too ("后台会注销登陆信息，app需要重新登陆").
pub async fn update_password(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let caller = auth::authenticate(&state.ctx, &req).await?;
    let old = password(&params, "oldPassword")?;
    let new = password(&params, "userVO.password")?;
    state
        .ctx
        .service
        .change_password(caller.user_id, &old, &new, CallerSession::End)
        .await
        .map_err(|err| match err {
            CoreError::WrongPassword => Failure::new(info::WRONG_OLD_PASSWORD),
            other => core_error(&other),
        })?;
    Ok(auth::with_session(
        wire::success("用户密码修改成功", None::<&()>),
        &caller,
    ))
}

async fn send_code(
    req: &HttpRequest,
    payload: web::Payload,
    state: &State,
    purpose: &str,
    phone_must: PhoneMust,
) -> Result<(), Refusal> {
    let params = params(req, payload).await?;
    let phone = mobile(&params)?;
    let ip = client_ip(req);
    state
        .ctx
        .service
        .send_code(CodeRequest {
            phone: &phone,
            purpose,
            dialect: super::SPEC.id,
            rules: sms_rules(state),
            phone_must,
            client_ip: ip.as_deref(),
        })
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound => Failure::new(info::PHONE_UNREGISTERED),
            other => core_error(&other),
        })?;
    Ok(())
}

/// `user!sendValidateCodeByRetreve` (sic) — 6.获取重置密码验证码 (000 §6): registered phones only.
pub async fn send_reset_code(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    send_code(
        &req,
        payload,
        &state,
        PURPOSE_RESET,
        PhoneMust::BeRegistered,
    )
    .await?;
    Ok(wire::success(
        "重置密码的验证码已发送到指定手机",
        None::<&()>,
    ))
}

/// `user!noLoginUpdatePassword` — 7.重置用户登录密码 (000 §7): the code is used up and every
/// session of the account ends.
pub async fn reset_password(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = mobile(&params)?;
    let new = password(&params, "userVO.password")?;
    let code = required(&params, "validateCode")?;
    let service = &state.ctx.service;
    let verified = service
        .verify_code_from(
            &phone,
            PURPOSE_RESET,
            &code,
            None,
            client_ip(&req).as_deref(),
        )
        .await
        .map_err(|err| core_error(&err))?;
    service
        .reset_password(&verified, &new, false)
        .await
        .map_err(|err| match err {
            CoreError::UserNotFound => Failure::new(info::PHONE_UNREGISTERED),
            other => core_error(&other),
        })?;
    Ok(wire::success("重置密码成功", None::<&()>))
}

/// `user!sendRegisterCode` — 8.获取注册验证码 (000 §8): unregistered phones only.
pub async fn send_register_code(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    send_code(&req, payload, &state, PURPOSE_REGISTER, PhoneMust::BeNew).await?;
    Ok(wire::success("验证码已发送到手机", None::<&()>))
}

/// `user!register` — 9.用户注册 (000 §9): no automatic login. A registered phone is refused
/// before its code is used up.
pub async fn register(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let phone = mobile(&params)?;
    let password = password(&params, "userVO.password")?;
    let code = required(&params, "telSecurityCode")?;
    let service = &state.ctx.service;
    if service
        .is_phone_registered(&phone)
        .await
        .map_err(|err| core_error(&err))?
    {
        return Err(Failure::new(info::PHONE_REGISTERED).into());
    }
    let verified = service
        .verify_code_from(
            &phone,
            PURPOSE_REGISTER,
            &code,
            None,
            client_ip(&req).as_deref(),
        )
        .await
        .map_err(|err| core_error(&err))?;
    service
        .register(NewAccount::new(
            NewPhone::Verified(verified),
            password,
            ProfilePatch::default(),
        ))
        .await
        .map_err(|err| core_error(&err))?;
    Ok(wire::success("用户注册成功", None::<&()>))
}

/// `user!signOut` — 10.用户注销 (000 §10): the token ends.
pub async fn sign_out(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    params(&req, payload).await?;
    let caller = auth::authenticate(&state.ctx, &req).await?;
    state
        .ctx
        .service
        .revoke_session(&caller.token)
        .await
        .map_err(|err| core_error(&err))?;
    Ok(wire::success("用户注销成功", None::<&()>))
}

/// `group!setingGroup` (sic) — 11.用户群资料设置 (000 §11): the caller's display name and
/// notification mode in a group; creators and managers may also rename another member, named
/// by the undocumented `userId`.
pub async fn group_settings(req: HttpRequest, payload: web::Payload, state: Ctx) -> Answer {
    let params = params(&req, payload).await?;
    let caller = auth::authenticate(&state.ctx, &req).await?;
    let group_id = required(&params, "groupId")?.parse::<i64>().map_err(|_| {
        param_error(ParamError {
            name: "groupId".to_owned(),
            kind: ParamErrorKind::Malformed,
        })
    })?;
    let notify_mode = match optional(&params, "messageRemainMode")?.as_deref() {
        None => None,
        Some("1") => Some(NotifyMode::Notify),
        Some("2") => Some(NotifyMode::Silent),
        Some(_) => return Err(Failure::new(info::BAD_REMIND_MODE).into()),
    };
    let display_name = optional(&params, "showName")?;
    let target = match optional(&params, "userId")? {
        Some(id) => id.parse::<UserId>().map_err(|_| {
            param_error(ParamError {
                name: "userId".to_owned(),
                kind: ParamErrorKind::Malformed,
            })
        })?,
        None => caller.user_id,
    };
    state
        .ctx
        .service
        .update_member_settings(
            caller.user_id,
            group_id,
            target,
            MemberSettings {
                display_name,
                notify_mode,
            },
        )
        .await
        .map_err(|err| core_error(&err))?;
    Ok(auth::with_session(
        wire::success("群设置成功", None::<&()>),
        &caller,
    ))
}

/// `GET /upload/images/userPhoto/<uid>_avatar.<ext>`: an uploaded photo, with its type.
pub async fn photo(req: HttpRequest, state: Ctx) -> Answer {
    let missing = || Failure {
        status: StatusCode::NOT_FOUND,
        ..Failure::new("用户头像不存在")
    };
    let user_id: UserId = req
        .match_info()
        .get("uid")
        .and_then(|id| id.parse().ok())
        .ok_or_else(missing)?;
    let asked = req
        .match_info()
        .get("ext")
        .and_then(ImageFormat::from_extension);
    let avatar = state
        .ctx
        .service
        .avatar(user_id)
        .await
        .map_err(|err| core_error(&err))?
        .filter(|avatar| Some(avatar.format) == asked)
        .ok_or_else(missing)?;
    Ok(Reply::bytes(
        StatusCode::OK,
        Outcome::Ok,
        avatar.format.mime(),
        avatar.bytes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sex_codes_are_this_documents_own() {
        assert_eq!(parse_sex("1"), Some(Gender::Male));
        assert_eq!(parse_sex("2"), Some(Gender::Female));
        assert_eq!(parse_sex("0"), None);
        assert_eq!(render_sex(Gender::Unknown), "");
        for g in [Gender::Male, Gender::Female] {
            assert_eq!(parse_sex(render_sex(g)), Some(g));
        }
    }
}
