//! Wire shapes of the `struts` dialect: `{success, info[, data]}` with HTTP 200 (the
//! struts2-json-plugin's way), `application/json;charset=UTF-8`, and the `userVO` object.

use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::dialects::kit::openapi::schema;
use crate::dialects::kit::{Outcome, Reply};

/// The exact Content-Type of every answer.
pub const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// `{"success", "info", "data"}` in that order; `data` only where the document shows it.
#[derive(Debug, Serialize)]
struct Envelope<'a, D: Serialize> {
    success: bool,
    info: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<D>,
}

/// The schema of [`Envelope`], with `data` where the route has some.
pub fn envelope_schema(data: Option<Value>) -> Value {
    let mut properties = vec![("success", schema::boolean()), ("info", schema::string())];
    if let Some(data) = data {
        properties.push(("data", data));
    }
    schema::object(properties, &["success", "info"])
}

/// A success with the document's `info` text.
pub fn success(info: &str, data: Option<&impl Serialize>) -> Reply {
    Reply::json(
        StatusCode::OK,
        Outcome::Ok,
        CONTENT_TYPE,
        &Envelope {
            success: true,
            info,
            data,
        },
    )
}

/// A refusal: `success:false` with the reason in `info`. HTTP 200 like every answer, except an
/// unknown action, which Struts answered with a 404.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub info: String,
    pub status: StatusCode,
    pub outcome: Outcome,
}

impl Failure {
    pub fn new(info: impl Into<String>) -> Failure {
        Failure {
            info: info.into(),
            status: StatusCode::OK,
            outcome: Outcome::ClientError,
        }
    }

    pub fn with_outcome(self, outcome: Outcome) -> Failure {
        Failure { outcome, ..self }
    }
}

impl From<Failure> for Reply {
    fn from(failure: Failure) -> Reply {
        Reply::json(
            failure.status,
            failure.outcome,
            CONTENT_TYPE,
            &Envelope::<()> {
                success: false,
                info: &failure.info,
                data: None,
            },
        )
    }
}

impl crate::dialects::kit::failure::DialectRefusal for Failure {}

/// `data` of `login` and `readUser`.
#[derive(Debug, Serialize)]
pub struct UserData {
    #[serde(rename = "userVO")]
    pub user_vo: UserVo,
}

impl UserData {
    pub fn schema() -> Value {
        schema::record(vec![("userVO", UserVo::schema())])
    }
}

/// A user as the document shows it: `userId` a number, every other field a string (`""` when
/// unset), in the document's order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserVo {
    pub user_id: i64,
    pub sex: String,
    pub age: String,
    pub phone_number: String,
    pub country: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub street: String,
    pub company: String,
    pub occupation: String,
    pub role: String,
    pub degrees: String,
    pub school: String,
    pub nick_name: String,
    pub user_photo: String,
    pub signature: String,
}

impl UserVo {
    pub fn schema() -> Value {
        let mut properties = vec![
            ("userId", schema::integer()),
            ("sex", schema::one_of_texts(&["", "1", "2"])),
        ];
        for name in [
            "age",
            "phoneNumber",
            "country",
            "province",
            "city",
            "district",
            "street",
            "company",
            "occupation",
            "role",
            "degrees",
            "school",
            "nickName",
            "userPhoto",
            "signature",
        ] {
            properties.push((name, schema::string()));
        }
        schema::record(properties)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_keeps_the_documents_order_and_leaves_data_out_on_failures() {
        let ok = success(
            "登录成功",
            Some(&serde_json::json!({"userVO": {"userId": 1}})),
        );
        assert_eq!(
            ok.body(),
            r#"{"success":true,"info":"登录成功","data":{"userVO":{"userId":1}}}"#.as_bytes()
        );
        let bare = success("用户注销成功", None::<&()>);
        assert_eq!(
            bare.body(),
            r#"{"success":true,"info":"用户注销成功"}"#.as_bytes()
        );
        let refused: Reply = Failure::new("原密码错误").into();
        assert_eq!(refused.status(), StatusCode::OK);
        assert_eq!(refused.outcome(), Outcome::ClientError);
        assert_eq!(
            refused.body(),
            r#"{"success":false,"info":"原密码错误"}"#.as_bytes()
        );
    }
}
