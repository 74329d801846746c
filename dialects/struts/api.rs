//! What each route of the `struts` dialect takes and answers, for its OpenAPI document.

use serde_json::Value;

use super::auth::{CLIENT_HEADER, TOKEN_HEADER, UID_HEADER};
use super::handlers::PROFILE_FIELDS;
use super::wire::{self, CONTENT_TYPE, UserData};
use crate::dialects::kit::openapi::{BodyFormat, Documented, Operation, schema};

const PARAMETERS: &str = "Parameters come from a form body, the query string (which wins) or a \
                          JSON body. The action is also served without `.action` and with `!` \
                          written `%21`.";

/// The envelope with the session headers that authenticated answers carry.
fn answered(data: Option<Value>, session_headers: bool) -> Documented {
    let answer = Documented::json(
        200,
        "Every handled outcome: success true with the document's info, or false with the reason.",
        CONTENT_TYPE,
        wire::envelope_schema(data),
    );
    if !session_headers {
        return answer;
    }
    answer
        .header(
            UID_HEADER,
            schema::matching("[0-9]+"),
            false,
            "the user's id",
        )
        .header(
            "accesstoken",
            schema::matching("[0-9a-f]{64}"),
            false,
            "the session's token",
        )
        .header(
            CLIENT_HEADER,
            schema::string(),
            false,
            "the request's client header, echoed",
        )
        .header(
            "expire",
            schema::matching("[0-9]+"),
            false,
            "when the token ends, epoch milliseconds",
        )
}

fn route(summary: &str, success: Documented) -> Operation {
    Operation::new(summary)
        .describe(PARAMETERS)
        .formats(&[BodyFormat::Form, BodyFormat::Json])
        .answer(success)
        .answer(Documented::otherwise(
            "Anything else (404 for an unknown action), success false.",
            CONTENT_TYPE,
            wire::envelope_schema(None),
        ))
}

/// An action that needs the session headers of a login.
fn authenticated(summary: &str, data: Option<Value>) -> Operation {
    route(summary, answered(data, true))
        .header(
            UID_HEADER,
            schema::string(),
            "the user's id, as login answered it",
        )
        .header(
            TOKEN_HEADER,
            schema::string(),
            "the accessToken login answered",
        )
        .header(
            CLIENT_HEADER,
            schema::string(),
            "the device, when the session was opened with one",
        )
}

const MOBILE: &str = "an 11-digit mainland mobile number";
const MD5: &str = "md5 hex of the password";

pub fn login() -> Operation {
    route("用户登录", answered(Some(UserData::schema()), true))
        .required(
            "userVO.userName",
            schema::string(),
            "the mobile number or a username",
        )
        .required("userVO.password", schema::string(), MD5)
        .header(
            CLIENT_HEADER,
            schema::string(),
            "the device, kept with the session",
        )
}

pub fn read_user() -> Operation {
    authenticated("读取用户信息", Some(UserData::schema()))
        .optional(
            "userVO.userId",
            schema::string(),
            "the user to read, by default the caller",
        )
        .optional("userId", schema::string(), "userVO.userId's other name")
}

pub fn update_user() -> Operation {
    let mut operation = authenticated("修改用户信息", None)
        .optional(
            "userVO.userId",
            schema::string(),
            "when sent, the caller's own id",
        )
        .optional("userVO.sex", schema::string(), "1 male, 2 female")
        .optional("userExtendVO.sex", schema::string(), "");
    for (name, _) in PROFILE_FIELDS {
        operation = operation
            .optional(&format!("userVO.{name}"), schema::string(), "")
            .optional(&format!("userExtendVO.{name}"), schema::string(), "");
    }
    operation
}

pub fn upload_photo() -> Operation {
    authenticated("上传用户头像", None)
        .formats(&[BodyFormat::Multipart])
        .required(
            "userPhoto",
            schema::file(),
            "jpg, jpeg, bmp or png, at most 3 MiB",
        )
}

pub fn update_password() -> Operation {
    authenticated("修改用户密码", None)
        .required("oldPassword", schema::string(), MD5)
        .required("userVO.password", schema::string(), MD5)
}

pub fn send_reset_code() -> Operation {
    route("获取重置密码验证码", answered(None, false)).required(
        "userVO.userMobile",
        schema::string(),
        MOBILE,
    )
}

pub fn reset_password() -> Operation {
    route("重置用户登录密码", answered(None, false))
        .required("userVO.userMobile", schema::string(), MOBILE)
        .required("userVO.password", schema::string(), MD5)
        .required("validateCode", schema::string(), "the 6-digit reset code")
}

pub fn send_register_code() -> Operation {
    route("获取注册验证码", answered(None, false)).required(
        "userVO.userMobile",
        schema::string(),
        MOBILE,
    )
}

pub fn register() -> Operation {
    route("用户注册", answered(None, false))
        .required("userVO.userMobile", schema::string(), MOBILE)
        .required("userVO.password", schema::string(), MD5)
        .required(
            "telSecurityCode",
            schema::string(),
            "the 6-digit register code",
        )
}

pub fn sign_out() -> Operation {
    authenticated("用户注销", None)
}

pub fn group_settings() -> Operation {
    authenticated("用户群资料设置", None)
        .required("groupId", schema::string(), "the group's id")
        .optional(
            "messageRemainMode",
            schema::string(),
            "1 receive and notify, 2 receive silently",
        )
        .optional(
            "showName",
            schema::string(),
            "the caller's name in the group",
        )
        .optional(
            "userId",
            schema::string(),
            "another member, renamed by a creator or manager",
        )
}

pub fn photo() -> Operation {
    Operation::new("the uploaded avatar")
        .path("uid", schema::matching("[0-9]+"), "the user's id")
        .path(
            "ext",
            schema::one_of_texts(&["jpg", "jpeg", "png", "bmp"]),
            "the photo's format",
        )
        .formats(&[])
        .answer(Documented {
            content: vec![
                ("image/jpeg", None),
                ("image/png", None),
                ("image/bmp", None),
            ],
            ..Documented::opaque(200, "The photo.", "image/jpeg")
        })
        .answer(Documented::json(
            404,
            "No such photo: success false.",
            CONTENT_TYPE,
            wire::envelope_schema(None),
        ))
        .answer(Documented::otherwise(
            "Anything else, success false.",
            CONTENT_TYPE,
            wire::envelope_schema(None),
        ))
}
