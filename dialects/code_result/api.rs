//! What each route of the `code_result` dialect takes and answers, for its OpenAPI document.

use serde_json::Value;

use super::wire::{self, JSON_CONTENT_TYPE, TEXT_CONTENT_TYPE};
use crate::dialects::kit::openapi::{BodyFormat, Documented, Operation, schema};

/// The default name of the auth cookie (`cookie_name`).
const COOKIE: &str = "rong_im_auth";

/// A value sent as a string or a number (the document's samples send numbers).
fn scalar() -> Value {
    schema::any_of(vec![schema::string(), schema::integer()])
}

/// An id on the wire: N3D base-62 text.
fn wire_id() -> Value {
    schema::matching("[0-9a-zA-Z]+")
}

/// `{id, nickname, portraitUri}` with a wire id.
fn card() -> Value {
    schema::record(vec![
        ("id", wire_id()),
        ("nickname", schema::string()),
        ("portraitUri", schema::string()),
    ])
}

/// `{id, nickname, portraitUri}` with a raw id (sync), or `null` for a user that is gone.
fn raw_card() -> Value {
    schema::nullable(schema::record(vec![
        ("id", schema::integer()),
        ("nickname", schema::string()),
        ("portraitUri", schema::string()),
    ]))
}

/// A business outcome: HTTP 200, code 200 with `result` (as given) or 1000, 2000, 5000.
fn business(result: Option<Value>) -> Documented {
    Documented::json(
        200,
        "A business outcome: code 200 with the result, or 1000, 2000, 5000.",
        JSON_CONTENT_TYPE,
        wire::business_schema(result),
    )
    .header(
        "Cache-Control",
        schema::constant("private"),
        true,
        "every business outcome",
    )
}

/// A business outcome that sets the auth cookie when it is a success.
fn sets_cookie(answer: Documented) -> Documented {
    answer.header(
        "Set-Cookie",
        schema::string(),
        false,
        "the auth cookie, on success",
    )
}

/// A route: its business outcome and the plain-text request errors (any other status).
fn route(summary: &str, success: Documented) -> Operation {
    Operation::new(summary)
        .describe(
            "Bodies are JSON objects whatever the Content-Type; values may be strings or numbers.",
        )
        .formats(&[BodyFormat::Json])
        .answer(success)
        .answer(Documented::otherwise_opaque(
            "A request error (400, 403 Not loged in., 404, 413, 500, 503): a bare status with a \
             plain-text reason.",
            TEXT_CONTENT_TYPE,
        ))
}

/// A route that needs the auth cookie of register or login.
fn logged_in(summary: &str, success: Documented) -> Operation {
    route(summary, success).cookie(
        COOKIE,
        schema::string(),
        "the session of register or login (its name is the cookie_name setting)",
    )
}

fn region_and_phone(operation: Operation) -> Operation {
    operation.required("region", scalar(), "86").required(
        "phone",
        scalar(),
        "a mainland mobile number",
    )
}

pub fn send_code() -> Operation {
    region_and_phone(route("send_code", business(None)))
        .optional(
            "verify_id",
            schema::string(),
            "with require_img_code: the picture code's id",
        )
        .optional("verify_code", scalar(), "with require_img_code: its digits")
}

pub fn verify_code() -> Operation {
    region_and_phone(route(
        "verify_code",
        business(Some(schema::record(vec![(
            "verification_token",
            schema::matching("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        )]))),
    ))
    .required("code", scalar(), "the code sent by SMS")
}

pub fn check_phone_available() -> Operation {
    region_and_phone(route(
        "check_phone_available",
        business(Some(schema::boolean())),
    ))
}

pub fn register() -> Operation {
    route(
        "register",
        sets_cookie(business(Some(schema::record(vec![("id", wire_id())])))),
    )
    .required("nickname", scalar(), "1–32 characters")
    .required("password", scalar(), "6–20 characters, no spaces")
    .required("verification_token", schema::string(), "from verify_code")
}

pub fn login() -> Operation {
    region_and_phone(route(
        "login",
        sets_cookie(business(Some(schema::record(vec![
            ("id", wire_id()),
            ("token", schema::string()),
        ])))),
    ))
    .required("password", scalar(), "")
}

pub fn logout() -> Operation {
    logged_in("logout", sets_cookie(business(None)))
}

pub fn reset_password() -> Operation {
    route("reset_password", business(None))
        .required("password", scalar(), "6–20 characters, no spaces")
        .required("verification_token", schema::string(), "from verify_code")
}

pub fn change_password() -> Operation {
    logged_in("change_password", business(None))
        .required("oldPassword", scalar(), "")
        .required("newPassword", scalar(), "6–20 characters, no spaces")
}

pub fn set_nickname() -> Operation {
    logged_in("set_nickname", business(None)).required("nickname", scalar(), "1–32 characters")
}

pub fn set_portrait_uri() -> Operation {
    logged_in("set_portrait_uri", business(None)).required(
        "portraitUri",
        schema::string(),
        "an http or https URL, 12–256 characters",
    )
}

pub fn add_to_blacklist() -> Operation {
    logged_in("add_to_blacklist", business(None)).required(
        "friendId",
        schema::string(),
        "a wire id",
    )
}

pub fn remove_from_blacklist() -> Operation {
    logged_in("remove_from_blacklist", business(None)).required(
        "friendId",
        schema::string(),
        "a wire id",
    )
}

pub fn upload_contacts() -> Operation {
    logged_in(
        "upload_contacts (answers 404 Not implements.)",
        business(None),
    )
}

pub fn get_token() -> Operation {
    logged_in(
        "get_token",
        business(Some(schema::record(vec![
            ("userId", wire_id()),
            ("token", schema::string()),
        ]))),
    )
}

pub fn get_image_token() -> Operation {
    logged_in(
        "get_image_token",
        business(Some(schema::record(vec![
            ("target", schema::constant("qiniu")),
            ("domain", schema::string()),
            ("token", schema::string()),
        ]))),
    )
}

pub fn get_sms_img_code() -> Operation {
    route(
        "get_sms_img_code",
        business(Some(schema::record(vec![
            ("url", schema::string()),
            ("verifyId", schema::matching("[0-9a-f]+")),
        ]))),
    )
}

pub fn sms_img_code_picture() -> Operation {
    Operation::new("the picture of a picture code")
        .formats(&[])
        .path(
            "verify_id",
            schema::matching("[0-9a-f]+"),
            "verifyId of get_sms_img_code",
        )
        .answer(Documented {
            // A path that names no picture code is an unknown path: with a throttled address,
            // that is the business outcome {"code":5000}.
            content: vec![
                ("image/png", None),
                (JSON_CONTENT_TYPE, Some(wire::business_schema(None))),
            ],
            ..Documented::opaque(
                200,
                "The PNG (or, for a path that names no picture code from a throttled address, \
                 the business outcome {\"code\":5000}).",
                "image/png",
            )
        })
        .answer(Documented::otherwise_opaque(
            "404 Unknown verifyId.",
            TEXT_CONTENT_TYPE,
        ))
}

pub fn blacklist() -> Operation {
    logged_in(
        "blacklist",
        business(Some(schema::array(schema::record(vec![(
            "user",
            schema::record(vec![
                ("id", wire_id()),
                ("nickname", schema::string()),
                ("portraitUri", schema::string()),
                ("updatedAt", schema::string()),
            ]),
        )])))),
    )
}

pub fn groups() -> Operation {
    let group = schema::record(vec![
        ("id", wire_id()),
        ("name", schema::string()),
        ("portraitUri", schema::string()),
        ("creatorId", wire_id()),
        ("memberCount", schema::integer()),
        ("maxMemberCount", schema::integer()),
    ]);
    logged_in(
        "groups",
        business(Some(schema::array(schema::record(vec![
            ("role", schema::one_of_integers(&[0, 1, 2])),
            ("group", schema::nullable(group)),
        ])))),
    )
}

pub fn sync() -> Operation {
    let timestamp = schema::integer;
    let blacklist = schema::record(vec![
        ("friendId", schema::integer()),
        ("status", schema::boolean()),
        ("timestamp", timestamp()),
        ("user", raw_card()),
    ]);
    let friend = schema::record(vec![
        ("friendId", schema::integer()),
        ("displayName", schema::string()),
        ("status", schema::one_of_integers(&[10, 11, 20, 21, 30])),
        ("timestamp", timestamp()),
        ("user", raw_card()),
    ]);
    let group = schema::record(vec![
        ("groupId", schema::integer()),
        ("displayName", schema::string()),
        ("role", schema::one_of_integers(&[0, 1, 2])),
        ("isDeleted", schema::boolean()),
        (
            "group",
            schema::record(vec![
                ("id", schema::integer()),
                ("name", schema::string()),
                ("portraitUri", schema::string()),
                ("timestamp", timestamp()),
            ]),
        ),
    ]);
    let member = schema::record(vec![
        ("groupId", schema::integer()),
        ("memberId", schema::integer()),
        ("displayName", schema::string()),
        ("role", schema::one_of_integers(&[0, 1, 2])),
        ("isDeleted", schema::boolean()),
        ("timestamp", timestamp()),
        ("user", raw_card()),
    ]);
    let user = schema::record(vec![
        ("id", schema::integer()),
        ("nickname", schema::string()),
        ("portraitUri", schema::string()),
        ("timestamp", timestamp()),
    ]);
    logged_in(
        "sync",
        business(Some(schema::record(vec![
            ("version", schema::nullable(timestamp())),
            ("user", schema::nullable(user)),
            ("blacklist", schema::array(blacklist)),
            ("friends", schema::array(friend)),
            ("groups", schema::array(group)),
            ("group_members", schema::nullable(schema::array(member))),
        ]))),
    )
    .path(
        "version",
        schema::string(),
        "milliseconds: changes after this version (0 for everything)",
    )
}

pub fn batch() -> Operation {
    logged_in("batch", business(Some(schema::array(card()))))
        .formats(&[])
        .query("id", schema::array(schema::string()), "wire ids, repeated")
}

pub fn find() -> Operation {
    logged_in("find", business(Some(card())))
        .path("region", schema::string(), "86")
        .path("phone", schema::string(), "a mainland mobile number")
}

pub fn user() -> Operation {
    logged_in("a user's card", business(Some(card()))).path("id", schema::string(), "a wire id")
}
