//! `multipart/form-data` bodies with a total cap checked before anything is read and a cap per
//! field checked while reading (`struts` `uploadPhoto`: the photo in `userPhoto`, ≤ 3 MiB).

use actix_web::HttpRequest;
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::StreamExt;

use super::failure::{FrameworkError, RequestPart};
use super::params::{Params, Pick};
use super::request::{declared_length, payload_problem, within_body_timeout};

/// How much a multipart body may carry.
#[derive(Debug, Clone, Copy)]
pub struct MultipartLimits {
    /// The whole body, checked against Content-Length before reading and while reading.
    pub total: usize,
    /// One text field.
    pub text_field: usize,
    /// One file.
    pub file: usize,
}

/// An uploaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub field: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// A decoded multipart body: its text fields as parameters and its files.
#[derive(Debug, Clone, Default)]
pub struct MultipartBody {
    pub params: Params,
    pub files: Vec<Upload>,
}

impl MultipartBody {
    pub fn file(&self, field: &str) -> Option<&Upload> {
        self.files.iter().find(|upload| upload.field == field)
    }
}

/// Why a multipart body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartError {
    /// One field went past its cap: the dialect answers in its own words ("头像不能大于3M").
    FieldTooLarge { field: String },
    /// The whole body, or something that is not multipart: a framework failure.
    Framework(FrameworkError),
}

impl From<FrameworkError> for MultipartError {
    fn from(err: FrameworkError) -> Self {
        MultipartError::Framework(err)
    }
}

fn malformed(detail: impl ToString) -> MultipartError {
    MultipartError::Framework(FrameworkError::Malformed {
        part: RequestPart::Multipart,
        detail: detail.to_string(),
    })
}

/// A multipart body that could not be read: a body that broke off is told in plain words
/// (never the framework's internal text); a malformed multipart by what is wrong with it.
fn broken(err: actix_multipart::MultipartError) -> MultipartError {
    match err {
        actix_multipart::MultipartError::Payload(payload) => payload_problem(&payload).into(),
        other => malformed(other),
    }
}

/// Whether the Content-Type names a boundary RFC 2046 allows and the parser survives: 4 to 70
/// characters of digits, letters and `'()+_,-./:=? `, not ending in a space.
fn has_valid_boundary(req: &HttpRequest) -> bool {
    let Some(content_type) = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let boundary = content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"'))
    });
    boundary.is_some_and(|b| {
        (4..=70).contains(&b.len())
            && !b.ends_with(' ')
            && b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&c))
    })
}

/// Reads a whole multipart body within `limits`. Text fields keep the first value of a
/// repeated name (Struts); files are kept in order.
pub async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    limits: MultipartLimits,
) -> Result<MultipartBody, MultipartError> {
    if declared_length(req).is_some_and(|len| len > limits.total) {
        return Err(FrameworkError::PayloadTooLarge.into());
    }
    // Checked here because the multipart parser (actix-multipart 0.7) panics on boundaries of
    // fewer than 4 characters when a body line is shorter than 4 bytes (found by the multipart
    // fuzz target): a boundary is 4 to 70 characters of RFC 2046's set. Real clients send 16
    // and more.
    if !has_valid_boundary(req) {
        return Err(malformed("the multipart boundary is missing or invalid"));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.into_inner());
    let (pairs, files) = within_body_timeout(req, async move {
        let mut pairs = Vec::new();
        let mut files = Vec::new();
        let mut total = 0usize;
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(broken)?;
            let disposition = field.content_disposition().cloned();
            let name = disposition
                .as_ref()
                .and_then(|d| d.get_name())
                .unwrap_or_default()
                .to_owned();
            let filename = disposition
                .as_ref()
                .and_then(|d| d.get_filename())
                .map(str::to_owned);
            let cap = if filename.is_some() {
                limits.file
            } else {
                limits.text_field
            };
            let mut bytes = BytesMut::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(broken)?;
                total += chunk.len();
                if total > limits.total {
                    return Err(FrameworkError::PayloadTooLarge.into());
                }
                if bytes.len() + chunk.len() > cap {
                    return Err(MultipartError::FieldTooLarge { field: name });
                }
                bytes.extend_from_slice(&chunk);
            }
            match filename {
                Some(filename) => files.push(Upload {
                    field: name,
                    filename: Some(filename),
                    content_type: field.content_type().map(|mime| mime.to_string()),
                    bytes: bytes.freeze(),
                }),
                None => {
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| malformed(format!("field `{name}` is not UTF-8 text")))?;
                    pairs.push((name, text));
                }
            }
        }
        Ok::<_, MultipartError>((pairs, files))
    })
    .await?;
    Ok(MultipartBody {
        params: Params::from_pairs(pairs, Pick::First),
        files,
    })
}
