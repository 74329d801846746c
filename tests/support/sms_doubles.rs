//! Local stand-ins for Aliyun SMS and Tencent Cloud SMS `SendSms`. Each checks a request's
//! signature from what it received, as the provider does (its own canonicalisation, not the
//! gateway's code), with fixed test credentials and a clock the test controls; remembers nonces;
//! answers every error class on cue, by the number's last four digits; and keeps the requests and
//! the messages it accepted.
//!
//! Cues: `0001` rate limited, `0002` invalid number, `0003` account error (balance), `0004`
//! provider internal error, `0005` no answer within the gateway's timeout, `0006` an HTML 502,
//! `0007` Aliyun `SignatureNonceUsed` on the number's first call / Tencent `RequestLimitExceeded`,
//! `0008` Aliyun `ServiceUnavailable` (503) / Tencent an unapproved template.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the doubles"
)]
#![expect(
    clippy::result_large_err,
    reason = "a refusal is the double's whole answer, built once per request"
)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{Hmac, Mac};
use rosetta::service::{Clock, ManualClock};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const ALIYUN_KEY_ID: &str = "LTAIrosettaTestKey";
pub const ALIYUN_SECRET: &str = "rosettaTestSecret";
pub const ALIYUN_TEMPLATE: &str = "SMS_123456789";
pub const TENCENT_SECRET_ID: &str = "AKIDrosettaTEST0000000000000000000000";
pub const TENCENT_SECRET_KEY: &str = "rosettaTencentSecretKey000000000";
pub const TENCENT_APP_ID: &str = "1400000000";
pub const TENCENT_TEMPLATE: &str = "1234567";
/// Both accounts' approved signature: not ASCII, so encodings are exercised.
pub const SIGN_NAME: &str = "罗塞塔";
/// The start of the test gateways' clock.
pub const START_MS: i64 = 1_795_190_400_000;
/// How long the `0005` cue keeps the gateway waiting: past its 3 s call timeout.
pub const SLOW_ANSWER: Duration = Duration::from_secs(4);

/// `[sms.aliyun]` for a gateway sending to `double` (`signature` is `v3` or `v2`).
pub fn aliyun_settings(double: &SmsDouble, signature: &str) -> String {
    format!(
        "[sms.aliyun]\naccess_key_id = \"{ALIYUN_KEY_ID}\"\naccess_key_secret = \"{ALIYUN_SECRET}\"\n\
         sign_name = \"{SIGN_NAME}\"\ntemplate_code = \"{ALIYUN_TEMPLATE}\"\nendpoint = \"{}\"\n\
         signature = \"{signature}\"\n",
        double.url
    )
}

/// `[sms.tencent]` for a gateway sending to `double`.
pub fn tencent_settings(double: &SmsDouble) -> String {
    format!(
        "[sms.tencent]\nsecret_id = \"{TENCENT_SECRET_ID}\"\nsecret_key = \"{TENCENT_SECRET_KEY}\"\n\
         sdk_app_id = \"{TENCENT_APP_ID}\"\nsign_name = \"{SIGN_NAME}\"\n\
         template_id = \"{TENCENT_TEMPLATE}\"\nregion = \"ap-guangzhou\"\nendpoint = \"{}\"\n",
        double.url
    )
}

/// A request as the double received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A message the double accepted for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub phone: String,
    pub sign_name: String,
    pub template: String,
    /// Aliyun's `TemplateParam` object, or Tencent's `TemplateParamSet` array.
    pub params: Value,
    /// The receipt it answered with.
    pub receipt: String,
}

#[derive(Default)]
struct Memory {
    requests: Vec<Received>,
    outbox: Vec<Delivered>,
    /// Nonce → when it was seen (ms).
    nonces: HashMap<String, i64>,
    /// Accepted messages per number.
    per_number: HashMap<String, u32>,
    /// Numbers whose first call was refused for its nonce (cue `0007`).
    nonce_refused: HashSet<String>,
}

struct State {
    clock: Mutex<Arc<ManualClock>>,
    /// Added to the clock: the provider's time differs from the gateway's by this much.
    skew_ms: Mutex<i64>,
    /// Accepted messages per number before the provider's frequency policy refuses.
    per_number_limit: Mutex<u32>,
    memory: Mutex<Memory>,
}

impl State {
    fn now_ms(&self) -> i64 {
        let clock = self.clock.lock().unwrap().clone();
        clock.now_ms() + *self.skew_ms.lock().unwrap()
    }
}

pub struct SmsDouble {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    state: Arc<State>,
    handle: ServerHandle,
}

#[derive(Clone, Copy)]
enum Provider {
    Aliyun,
    Tencent,
}

impl SmsDouble {
    pub async fn aliyun() -> SmsDouble {
        SmsDouble::start(Provider::Aliyun).await
    }

    pub async fn tencent() -> SmsDouble {
        SmsDouble::start(Provider::Tencent).await
    }

    async fn start(provider: Provider) -> SmsDouble {
        let state = Arc::new(State {
            clock: Mutex::new(Arc::new(ManualClock::new(START_MS))),
            skew_ms: Mutex::new(0),
            per_number_limit: Mutex::new(u32::MAX),
            memory: Mutex::new(Memory::default()),
        });
        let shared = state.clone();
        let server = HttpServer::new(move || {
            let state = shared.clone();
            App::new().default_service(web::to(move |request: HttpRequest, body: web::Bytes| {
                let state = state.clone();
                async move {
                    let received = Received {
                        method: request.method().to_string(),
                        path: request.path().to_owned(),
                        query: request.query_string().to_owned(),
                        headers: request
                            .headers()
                            .iter()
                            .map(|(n, v)| {
                                (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect(),
                        body: body.to_vec(),
                    };
                    state.memory.lock().unwrap().requests.push(received.clone());
                    match provider {
                        Provider::Aliyun => aliyun::answer(&state, &received).await,
                        Provider::Tencent => tencent::answer(&state, &received).await,
                    }
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let url = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        SmsDouble { url, state, handle }
    }

    /// Follows the gateway's clock from now on.
    pub fn follow(&self, clock: Arc<ManualClock>) {
        *self.state.clock.lock().unwrap() = clock;
    }

    /// The provider's clock runs this far ahead of the gateway's (behind when negative).
    pub fn set_skew_ms(&self, skew_ms: i64) {
        *self.state.skew_ms.lock().unwrap() = skew_ms;
    }

    /// Refuses a number's messages past this many.
    pub fn set_per_number_limit(&self, limit: u32) {
        *self.state.per_number_limit.lock().unwrap() = limit;
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.memory.lock().unwrap().requests.clone()
    }

    pub fn outbox(&self) -> Vec<Delivered> {
        self.state.memory.lock().unwrap().outbox.clone()
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The cue of a number: its last four digits.
fn cue(phone: &str) -> &str {
    phone.get(phone.len().saturating_sub(4)..).unwrap_or("")
}

/// RFC 3986 encoding with upper-case hex, written apart from the gateway's own.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(if plus_is_space && bytes[i] == b'+' {
            b' '
        } else {
            bytes[i]
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=b&c=d` into decoded pairs.
fn pairs(text: &str, plus_is_space: bool) -> Vec<(String, String)> {
    text.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            (decode(name, plus_is_space), decode(value, plus_is_space))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hmac256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Epoch ms of `yyyy-MM-ddTHH:mm:ssZ`.
fn parse_utc(text: &str) -> Option<i64> {
    rosetta::domain::dates::parse_rfc3339_millis(text).filter(|_| text.len() == 20)
}

fn receipt() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

mod aliyun {
    use super::*;

    fn refuse(status: u16, code: &str, message: &str) -> HttpResponse {
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(json!({
            "RequestId": receipt(),
            "HostId": "dysmsapi.aliyuncs.com",
            "Code": code,
            "Message": message,
            "Recommend": "https://api.aliyun.com/troubleshoot",
        }))
    }

    fn business(code: &str, message: &str) -> HttpResponse {
        HttpResponse::Ok().json(json!({"RequestId": receipt(), "Message": message, "Code": code}))
    }

    /// Checks the signature; the request's parameters, or the refusal.
    fn verify(state: &State, r: &Received) -> Result<HashMap<String, String>, HttpResponse> {
        let authorization = r.header("authorization").unwrap_or("");
        if let Some(parts) = authorization.strip_prefix("ACS3-HMAC-SHA256 ") {
            verify_v3(state, r, parts)
        } else {
            verify_v2(state, r)
        }
    }

    fn verify_v3(
        state: &State,
        r: &Received,
        parts: &str,
    ) -> Result<HashMap<String, String>, HttpResponse> {
        let field = |name: &str| {
            parts
                .split(',')
                .find_map(|part| part.trim().strip_prefix(name))
                .unwrap_or("")
                .to_owned()
        };
        let (key_id, signed, signature) = (
            field("Credential="),
            field("SignedHeaders="),
            field("Signature="),
        );
        if key_id != ALIYUN_KEY_ID {
            return Err(refuse(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            ));
        }
        let signed: Vec<&str> = signed.split(';').collect();
        // host, content-type (when sent) and every x-acs-* header must be signed.
        let must: Vec<String> = r
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .filter(|n| n == "host" || n == "content-type" || n.starts_with("x-acs-"))
            .collect();
        if must.iter().any(|n| !signed.contains(&n.as_str())) {
            return Err(refuse(
                400,
                "SignatureDoesNotMatch",
                "a header is not signed",
            ));
        }
        let content_sha256 = r.header("x-acs-content-sha256").unwrap_or("");
        if content_sha256 != sha256(&r.body) {
            return Err(refuse(
                400,
                "SignatureDoesNotMatch",
                "x-acs-content-sha256 differs",
            ));
        }
        let mut sorted = signed.clone();
        sorted.sort_unstable();
        let headers: String = sorted
            .iter()
            .map(|n| format!("{n}:{}\n", r.header(n).unwrap_or("").trim()))
            .collect();
        let mut query = pairs(&r.query, false);
        query.sort();
        let query = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let canonical = format!(
            "{}\n{}\n{query}\n{headers}\n{}\n{content_sha256}",
            r.method,
            r.path,
            sorted.join(";")
        );
        let to_sign = format!("ACS3-HMAC-SHA256\n{}", sha256(canonical.as_bytes()));
        if hex(&hmac256(ALIYUN_SECRET.as_bytes(), to_sign.as_bytes())) != signature {
            return Err(refuse(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            ));
        }
        fresh(
            state,
            r.header("x-acs-date"),
            r.header("x-acs-signature-nonce"),
        )?;
        if r.header("x-acs-action") != Some("SendSms") {
            return Err(refuse(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found",
            ));
        }
        if r.header("x-acs-version") != Some("2017-05-25") {
            return Err(refuse(
                400,
                "InvalidVersion",
                "Specified parameter Version is not valid.",
            ));
        }
        Ok(pairs(&r.query, false).into_iter().collect())
    }

    fn verify_v2(state: &State, r: &Received) -> Result<HashMap<String, String>, HttpResponse> {
        let mut all = pairs(&r.query, false);
        if r.header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        {
            all.extend(pairs(&String::from_utf8_lossy(&r.body), true));
        }
        let params: HashMap<String, String> = all.iter().cloned().collect();
        let get = |name: &str| params.get(name).map(String::as_str).unwrap_or("");
        if get("AccessKeyId") != ALIYUN_KEY_ID {
            return Err(refuse(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            ));
        }
        if get("SignatureMethod") != "HMAC-SHA1" || get("SignatureVersion") != "1.0" {
            return Err(refuse(
                400,
                "SignatureDoesNotMatch",
                "unsupported signature method",
            ));
        }
        let mut signed: Vec<(String, String)> = all
            .iter()
            .filter(|(k, _)| k != "Signature")
            .cloned()
            .collect();
        signed.sort();
        let canonical = signed
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let to_sign = format!("{}&{}&{}", r.method, encode("/"), encode(&canonical));
        let mut mac =
            Hmac::<sha1::Sha1>::new_from_slice(format!("{ALIYUN_SECRET}&").as_bytes()).unwrap();
        mac.update(to_sign.as_bytes());
        use base64::Engine;
        let expected =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if get("Signature") != expected {
            return Err(refuse(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            ));
        }
        fresh(
            state,
            params.get("Timestamp").map(String::as_str),
            params.get("SignatureNonce").map(String::as_str),
        )?;
        if get("Format") != "JSON" {
            // The legacy default: a client that forgot Format gets XML it cannot read.
            return Err(HttpResponse::Ok()
                .content_type("text/xml")
                .body("<?xml version='1.0' encoding='UTF-8'?><SendSmsResponse><Code>OK</Code></SendSmsResponse>"));
        }
        if get("Action") != "SendSms" {
            return Err(refuse(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found",
            ));
        }
        if get("Version") != "2017-05-25" {
            return Err(refuse(
                400,
                "InvalidVersion",
                "Specified parameter Version is not valid.",
            ));
        }
        Ok(params)
    }

    /// The signed time within 15 minutes of the provider's; the nonce new.
    fn fresh(state: &State, date: Option<&str>, nonce: Option<&str>) -> Result<(), HttpResponse> {
        let now = state.now_ms();
        let Some(signed_at) = date.and_then(parse_utc) else {
            return Err(refuse(
                400,
                "MissingParameter",
                "The input parameter Timestamp that is mandatory for processing this request is not supplied.",
            ));
        };
        if (now - signed_at).abs() > 15 * 60_000 {
            return Err(refuse(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        let Some(nonce) = nonce.filter(|n| !n.is_empty()) else {
            return Err(refuse(
                400,
                "MissingParameter",
                "SignatureNonce is mandatory.",
            ));
        };
        let mut memory = state.memory.lock().unwrap();
        memory.nonces.retain(|_, seen| now - *seen <= 15 * 60_000);
        if memory.nonces.insert(nonce.to_owned(), now).is_some() {
            return Err(refuse(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        Ok(())
    }

    pub async fn answer(state: &State, r: &Received) -> HttpResponse {
        if r.path != "/" || !matches!(r.method.as_str(), "GET" | "POST") {
            return refuse(404, "InvalidAction.NotFound", "Specified api is not found");
        }
        let params = match verify(state, r) {
            Ok(params) => params,
            Err(refusal) => return refusal,
        };
        let get = |name: &str| params.get(name).cloned().unwrap_or_default();
        let (phone, sign, template) = (get("PhoneNumbers"), get("SignName"), get("TemplateCode"));
        if phone.is_empty() || sign.is_empty() || template.is_empty() {
            return refuse(400, "MissingParameter", "a required parameter is missing");
        }
        let params_value: Value = match serde_json::from_str(&get("TemplateParam")) {
            Ok(Value::Object(map)) if map.values().all(Value::is_string) => Value::Object(map),
            _ => return business("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值"),
        };
        if sign != SIGN_NAME {
            return business("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法");
        }
        if template != ALIYUN_TEMPLATE {
            return business("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法");
        }
        let national = phone
            .strip_prefix("+86")
            .or_else(|| phone.strip_prefix("0086"))
            .or_else(|| phone.strip_prefix("86").filter(|rest| rest.len() == 11))
            .unwrap_or(&phone);
        let mainland = national.len() == 11
            && national.starts_with('1')
            && national.bytes().all(|b| b.is_ascii_digit());
        match cue(&phone) {
            "0001" => return business("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
            "0002" => return business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
            "0003" => return business("isv.AMOUNT_NOT_ENOUGH", "账户余额不足"),
            "0004" => return business("isp.SYSTEM_ERROR", "系统错误"),
            "0005" => actix_web::rt::time::sleep(SLOW_ANSWER).await,
            "0006" => {
                return HttpResponse::BadGateway()
                    .content_type("text/html")
                    .body("<html><body>502 Bad Gateway</body></html>");
            }
            "0007"
                if state
                    .memory
                    .lock()
                    .unwrap()
                    .nonce_refused
                    .insert(phone.clone()) =>
            {
                return refuse(
                    400,
                    "SignatureNonceUsed",
                    "Specified signature nonce was used already.",
                );
            }
            "0008" => {
                return refuse(
                    503,
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                );
            }
            _ => {}
        }
        if !mainland {
            return business("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
        }
        let limit = *state.per_number_limit.lock().unwrap();
        let mut memory = state.memory.lock().unwrap();
        let count = memory.per_number.entry(national.to_owned()).or_default();
        if *count >= limit {
            return business("isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5");
        }
        *count += 1;
        let biz_id = format!("{}^0", receipt());
        memory.outbox.push(Delivered {
            phone: phone.clone(),
            sign_name: sign,
            template,
            params: params_value,
            receipt: biz_id.clone(),
        });
        HttpResponse::Ok().json(json!({
            "RequestId": receipt(), "Message": "OK", "BizId": biz_id, "Code": "OK"
        }))
    }
}

mod tencent {
    use super::*;

    fn error(code: &str, message: &str) -> HttpResponse {
        HttpResponse::Ok().json(json!({
            "Response": {"Error": {"Code": code, "Message": message}, "RequestId": receipt()}
        }))
    }

    fn entry(phone: &str, code: &str, message: &str) -> HttpResponse {
        HttpResponse::Ok().json(json!({"Response": {"SendStatusSet": [{
            "SerialNo": "", "PhoneNumber": phone, "Fee": 0, "SessionContext": "",
            "Code": code, "Message": message, "IsoCode": "CN"
        }], "RequestId": receipt()}}))
    }

    /// Checks the TC3 signature and the common headers; a refusal on failure.
    fn verify(state: &State, r: &Received) -> Result<(), HttpResponse> {
        let authorization = r.header("authorization").unwrap_or("");
        let Some(parts) = authorization.strip_prefix("TC3-HMAC-SHA256 ") else {
            return Err(error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated.",
            ));
        };
        let field = |name: &str| {
            parts
                .split(", ")
                .find_map(|part| part.strip_prefix(name))
                .unwrap_or("")
                .to_owned()
        };
        let credential = field("Credential=");
        let scope: Vec<&str> = credential.split('/').collect();
        let [secret_id, date, service, "tc3_request"] = scope[..] else {
            return Err(error(
                "AuthFailure.SignatureFailure",
                "Credential is malformed.",
            ));
        };
        if secret_id != TENCENT_SECRET_ID {
            return Err(error(
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found.",
            ));
        }
        let signed_headers = field("SignedHeaders=");
        let signed: Vec<&str> = signed_headers.split(';').collect();
        if !signed.contains(&"content-type") || !signed.contains(&"host") {
            return Err(error(
                "AuthFailure.SignatureFailure",
                "content-type and host must be signed.",
            ));
        }
        let Some(timestamp) = r
            .header("x-tc-timestamp")
            .and_then(|t| t.parse::<i64>().ok())
        else {
            return Err(error("MissingParameter", "X-TC-Timestamp is missing."));
        };
        if (state.now_ms() / 1000 - timestamp).abs() > 300 {
            return Err(error("AuthFailure.SignatureExpire", "Signature expired."));
        }
        let utc_date = rosetta::domain::dates::civil_date(timestamp * 1000);
        if date != utc_date || service != "sms" {
            return Err(error(
                "AuthFailure.SignatureFailure",
                "The credential scope is wrong.",
            ));
        }
        let headers: String = signed
            .iter()
            .map(|n| format!("{n}:{}\n", r.header(n).unwrap_or("").trim().to_lowercase()))
            .collect();
        let canonical = format!(
            "{}\n{}\n{}\n{headers}\n{signed_headers}\n{}",
            r.method,
            r.path,
            r.query,
            sha256(&r.body)
        );
        let to_sign = format!(
            "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
            sha256(canonical.as_bytes())
        );
        let mut key = hmac256(
            format!("TC3{TENCENT_SECRET_KEY}").as_bytes(),
            date.as_bytes(),
        );
        key = hmac256(&key, service.as_bytes());
        key = hmac256(&key, b"tc3_request");
        if hex(&hmac256(&key, to_sign.as_bytes())) != field("Signature=") {
            return Err(error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated.",
            ));
        }
        if r.header("x-tc-action") != Some("SendSms") {
            return Err(error("InvalidAction", "The action is not valid."));
        }
        if r.header("x-tc-version") != Some("2021-01-11") {
            return Err(error("InvalidParameterValue", "The version is not valid."));
        }
        if r.header("x-tc-region").is_none_or(str::is_empty) {
            return Err(error("MissingParameter", "X-TC-Region is missing."));
        }
        Ok(())
    }

    pub async fn answer(state: &State, r: &Received) -> HttpResponse {
        if r.method != "POST" || r.path != "/" {
            return error("InvalidAction", "POST / only.");
        }
        if let Err(refusal) = verify(state, r) {
            return refusal;
        }
        let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
            return error("FailedOperation.JsonParseFail", "The body is not JSON.");
        };
        for old in ["SmsSdkAppid", "TemplateID", "Sign"] {
            if body.get(old).is_some() {
                return error(
                    "MissingParameter",
                    &format!("{old} belongs to version 2019-07-11."),
                );
            }
        }
        let phones: Vec<String> = body["PhoneNumberSet"]
            .as_array()
            .map(|set| {
                set.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let [phone] = &phones[..] else {
            return error(
                "MissingParameter.EmptyPhoneNumberSet",
                "One number per call, please.",
            );
        };
        if body["SmsSdkAppId"] != json!(TENCENT_APP_ID) {
            return error(
                "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
                "SmsSdkAppId is not yours.",
            );
        }
        if body["SignName"] != json!(SIGN_NAME) {
            return error(
                "FailedOperation.SignatureIncorrectOrUnapproved",
                "The signature is not approved.",
            );
        }
        if body["TemplateId"] != json!(TENCENT_TEMPLATE) {
            return error(
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "The template is not approved.",
            );
        }
        let params = body["TemplateParamSet"].clone();
        let digits = |p: &Value| {
            p.as_str()
                .is_some_and(|s| s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()))
        };
        if !params.as_array().is_some_and(|set| set.iter().all(digits)) {
            return error(
                "InvalidParameterValue.TemplateParameterFormatError",
                "Verification codes are 0 to 6 digits.",
            );
        }
        match cue(phone) {
            "0001" => {
                return entry(
                    phone,
                    "LimitExceeded.PhoneNumberThirtySecondLimit",
                    "30 second limit",
                );
            }
            "0002" => {
                return entry(
                    phone,
                    "InvalidParameterValue.IncorrectPhoneNumber",
                    "incorrect number",
                );
            }
            "0003" => {
                return error(
                    "FailedOperation.InsufficientBalanceInSmsPackage",
                    "The package is used up.",
                );
            }
            "0004" => return error("InternalError.Timeout", "Internal timeout."),
            "0005" => actix_web::rt::time::sleep(SLOW_ANSWER).await,
            "0006" => {
                return HttpResponse::BadGateway()
                    .content_type("text/html")
                    .body("<html><body>502 Bad Gateway</body></html>");
            }
            "0007" => return error("RequestLimitExceeded", "Too many requests."),
            "0008" => {
                return error(
                    "FailedOperation.TemplateIncorrectOrUnapproved",
                    "The template is not approved.",
                );
            }
            _ => {}
        }
        let e164 = phone.len() > 7
            && phone.starts_with('+')
            && phone[1..].bytes().all(|b| b.is_ascii_digit());
        if !e164 {
            return entry(
                phone,
                "InvalidParameterValue.IncorrectPhoneNumber",
                "incorrect number",
            );
        }
        let limit = *state.per_number_limit.lock().unwrap();
        let mut memory = state.memory.lock().unwrap();
        let count = memory.per_number.entry(phone.clone()).or_default();
        if *count >= limit {
            return entry(
                phone,
                "LimitExceeded.PhoneNumberOneHourLimit",
                "one hour limit",
            );
        }
        *count += 1;
        let serial = format!("2433:{}", receipt());
        memory.outbox.push(Delivered {
            phone: phone.clone(),
            sign_name: SIGN_NAME.to_owned(),
            template: TENCENT_TEMPLATE.to_owned(),
            params,
            receipt: serial.clone(),
        });
        HttpResponse::Ok().json(json!({"Response": {"SendStatusSet": [{
            "SerialNo": serial, "PhoneNumber": phone, "Fee": 1, "SessionContext": "",
            "Code": "Ok", "Message": "send success", "IsoCode": "CN"
        }], "RequestId": receipt()}}))
    }
}
