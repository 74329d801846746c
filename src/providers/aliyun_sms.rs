//! Aliyun (阿里云) SMS `SendSms` (version 2017-05-25): the request with its signature, V3
//! `ACS3-HMAC-SHA256` (the default) or the older HMAC-SHA1 `SignatureVersion=1.0` ("V2"), and
//! the reading of answers by their `Code`, whatever the HTTP status.

use serde::Deserialize;

use super::signing::{canonical_query, hmac_sha1, hmac_sha256, pct, sha256_hex, utc_seconds};
use super::sms::{Coded, HttpCall, ProviderAnswer, Verdict, authority, base_path};
use crate::domain::credential::to_hex;

pub const ACTION: &str = "SendSms";
pub const VERSION: &str = "2017-05-25";
/// hex(SHA-256) of an empty body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Which signature the requests carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliyunSignature {
    V3,
    V2,
}

/// An account's sending settings.
#[derive(Clone, PartialEq, Eq)]
pub struct AliyunSms {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sign_name: String,
    pub template_code: String,
    /// `https://dysmsapi.aliyuncs.com`, or a stand-in.
    pub endpoint: String,
    pub signature: AliyunSignature,
}

impl std::fmt::Debug for AliyunSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AliyunSms")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<secret>")
            .field("endpoint", &self.endpoint)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// The parts of a V3 request its signature covers.
#[derive(Debug, Clone, Copy)]
pub struct V3Request<'a> {
    pub method: &'a str,
    /// The canonical URI (`/` for these RPC-style APIs).
    pub path: &'a str,
    pub host: &'a str,
    pub action: &'a str,
    pub version: &'a str,
    /// `yyyy-MM-ddTHH:mm:ssZ`.
    pub date: &'a str,
    pub nonce: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// A V3 signature and what it was computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Signed {
    pub canonical_query: String,
    pub canonical_request: String,
    /// `(name, value)` of every signed header but `host` (the transport sets it from the URL).
    pub headers: Vec<(String, String)>,
    pub authorization: String,
}

/// Signs a request with `ACS3-HMAC-SHA256` over `host` and the `x-acs-*` headers.
pub fn sign_v3(request: &V3Request<'_>, access_key_id: &str, secret: &str) -> V3Signed {
    let content_sha256 = sha256_hex(request.body);
    let mut headers = [
        ("host", request.host),
        ("x-acs-action", request.action),
        ("x-acs-content-sha256", content_sha256.as_str()),
        ("x-acs-date", request.date),
        ("x-acs-signature-nonce", request.nonce),
        ("x-acs-version", request.version),
    ];
    headers.sort_by_key(|(name, _)| *name);
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim()))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let query = canonical_query(request.query);
    let canonical_request = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed_headers}\n{content_sha256}",
        request.method, request.path
    );
    let string_to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let signature = to_hex(&hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    V3Signed {
        canonical_query: query,
        headers: headers
            .iter()
            .filter(|(name, _)| *name != "host")
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        authorization: format!(
            "ACS3-HMAC-SHA256 Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
        ),
        canonical_request,
    }
}

/// A V2 (HMAC-SHA1) signature and what it was computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Signed {
    pub canonical_query: String,
    pub string_to_sign: String,
    /// Standard Base64, before percent-encoding.
    pub signature: String,
}

/// Signs every parameter but `Signature` with HMAC-SHA1 under `secret&`.
pub fn sign_v2(method: &str, params: &[(&str, &str)], secret: &str) -> V2Signed {
    use base64::Engine;
    let query = canonical_query(params);
    let string_to_sign = format!("{method}&{}&{}", pct("/"), pct(&query));
    let mac = hmac_sha1(format!("{secret}&").as_bytes(), string_to_sign.as_bytes());
    V2Signed {
        canonical_query: query,
        string_to_sign,
        signature: base64::engine::general_purpose::STANDARD.encode(mac),
    }
}

/// The number as `PhoneNumbers` takes it: 11 digits for the mainland, else the country code
/// and the number without a `+`.
pub fn phone_number(region: &str, number: &str) -> String {
    if region == "86" {
        number.to_owned()
    } else {
        format!("{region}{number}")
    }
}

impl AliyunSms {
    /// The `SendSms` call for one code to one number, signed at `now_ms` with `nonce` (unique
    /// per request).
    pub fn request(&self, phone_numbers: &str, code: &str, nonce: &str, now_ms: i64) -> HttpCall {
        let template_param = serde_json::json!({ "code": code }).to_string();
        let date = utc_seconds(now_ms);
        let base = self.endpoint.trim_end_matches('/');
        let path = base_path(base);
        match self.signature {
            AliyunSignature::V3 => {
                let query = [
                    ("PhoneNumbers", phone_numbers),
                    ("SignName", self.sign_name.as_str()),
                    ("TemplateCode", self.template_code.as_str()),
                    ("TemplateParam", template_param.as_str()),
                ];
                let signed = sign_v3(
                    &V3Request {
                        method: "POST",
                        path: &path,
                        host: authority(base),
                        action: ACTION,
                        version: VERSION,
                        date: &date,
                        nonce,
                        query: &query,
                        body: b"",
                    },
                    &self.access_key_id,
                    &self.access_key_secret,
                );
                let mut headers = signed.headers;
                headers.push(("Authorization".to_owned(), signed.authorization));
                HttpCall {
                    method: "POST",
                    url: format!("{base}/?{}", signed.canonical_query),
                    headers,
                    body: Vec::new(),
                }
            }
            AliyunSignature::V2 => {
                let params = [
                    ("AccessKeyId", self.access_key_id.as_str()),
                    ("Action", ACTION),
                    ("Format", "JSON"),
                    ("PhoneNumbers", phone_numbers),
                    ("RegionId", "cn-hangzhou"),
                    ("SignName", self.sign_name.as_str()),
                    ("SignatureMethod", "HMAC-SHA1"),
                    ("SignatureNonce", nonce),
                    ("SignatureVersion", "1.0"),
                    ("TemplateCode", self.template_code.as_str()),
                    ("TemplateParam", template_param.as_str()),
                    ("Timestamp", date.as_str()),
                    ("Version", VERSION),
                ];
                let signed = sign_v2("POST", &params, &self.access_key_secret);
                HttpCall {
                    method: "POST",
                    url: format!("{base}/"),
                    headers: vec![(
                        "Content-Type".to_owned(),
                        "application/x-www-form-urlencoded".to_owned(),
                    )],
                    body: format!(
                        "Signature={}&{}",
                        pct(&signed.signature),
                        signed.canonical_query
                    )
                    .into_bytes(),
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    biz_id: Option<String>,
}

/// Reads a `SendSms` answer: classified by its `Code` (business results come with HTTP 200,
/// gateway errors with 4xx/5xx and the same fields), by the status only when the body is not
/// Aliyun's JSON.
pub fn read_answer(status: u16, body: &[u8]) -> ProviderAnswer {
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        return ProviderAnswer::failed(
            format!("HTTP {status} without Aliyun's JSON answer"),
            false,
        );
    };
    let nonce_refused = answer.code == "SignatureNonceUsed";
    let coded = Coded {
        code: answer.code,
        message: answer.message,
        receipt: answer.biz_id,
        request_id: answer.request_id,
    };
    ProviderAnswer {
        retry_with_new_signature: nonce_refused,
        ..ProviderAnswer::from_code(coded, classify)
    }
}

/// `(verdict, alert)` of a `Code`; codes not listed are failures.
fn classify(code: &str) -> (Verdict, bool) {
    match code {
        "OK" => (Verdict::Sent, false),
        "isv.BUSINESS_LIMIT_CONTROL" => (Verdict::RateLimited, false),
        "isv.MOBILE_NUMBER_ILLEGAL" => (Verdict::InvalidPhone, false),
        // Provider-side trouble, a caller bug, or a nonce a new signature cures: one user's
        // attempt failed, nothing an operator must fix.
        "isp.SYSTEM_ERROR"
        | "isv.MOBILE_COUNT_OVER_LIMIT"
        | "SignatureNonceUsed"
        | "Throttling.User"
        | "ServiceUnavailable" => (Verdict::Failed, false),
        // Account, template, signature, credentials, clock, permissions, and whatever is new.
        _ => (Verdict::Failed, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a2_params() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AccessKeyId", "LTAIrosettaTestKey"),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", "13800138000"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "罗塞塔"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_123456789"),
            ("TemplateParam", r#"{"code":"123456"}"#),
            ("Timestamp", "2024-01-02T03:04:05Z"),
            ("Version", "2017-05-25"),
        ]
    }

    fn account(signature: AliyunSignature) -> AliyunSms {
        AliyunSms {
            access_key_id: "LTAIrosettaTestKey".into(),
            access_key_secret: "rosettaTestSecret".into(),
            sign_name: "罗塞塔".into(),
            template_code: "SMS_123456789".into(),
            endpoint: "https://dysmsapi.aliyuncs.com".into(),
            signature,
        }
    }

    /// 2024-01-02T03:04:05Z.
    const A_TIME: i64 = 1_704_164_645_000;

    #[test]
    fn v2_matches_the_official_vector_a1() {
        let params = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", r#"{"customer":"test"}"#),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ];
        let signed = sign_v2("GET", &params, "testSecret");
        assert_eq!(
            signed.canonical_query,
            "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"
        );
        assert!(signed.string_to_sign.starts_with(
            "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26"
        ));
        assert!(
            signed
                .string_to_sign
                .ends_with("%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25")
        );
        assert_eq!(signed.signature, "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        assert_eq!(pct(&signed.signature), "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D");
    }

    #[test]
    fn v2_matches_the_made_up_vector_a2_for_get_and_post() {
        let get = sign_v2("GET", &a2_params(), "rosettaTestSecret");
        assert_eq!(get.signature, "AHNm5eWvbq9Z1B5tLM44jCgRJkE=");
        let post = sign_v2("POST", &a2_params(), "rosettaTestSecret");
        assert_eq!(post.signature, "ven8SWpAakTC//NOCH5hN8TWBg0=");
        assert_eq!(
            post.string_to_sign,
            get.string_to_sign.replacen("GET", "POST", 1)
        );
        // The POST body the adapter sends for the same inputs (411 bytes).
        let call = account(AliyunSignature::V2).request(
            "13800138000",
            "123456",
            "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            A_TIME,
        );
        let body = String::from_utf8(call.body).unwrap();
        assert_eq!(
            body,
            format!(
                "Signature=ven8SWpAakTC%2F%2FNOCH5hN8TWBg0%3D&{}",
                post.canonical_query
            )
        );
        assert_eq!(body.len(), 411);
        assert_eq!(call.url, "https://dysmsapi.aliyuncs.com/");
        assert_eq!(
            call.headers,
            vec![(
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned()
            )]
        );
    }

    #[test]
    fn v3_matches_the_official_vector_a3() {
        let signed = sign_v3(
            &V3Request {
                method: "POST",
                path: "/",
                host: "ecs.cn-shanghai.aliyuncs.com",
                action: "RunInstances",
                version: "2014-05-26",
                date: "2023-10-26T10:22:32Z",
                nonce: "3156853299f313e23d1673dc12e1703d",
                query: &[
                    (
                        "ImageId",
                        "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
                    ),
                    ("RegionId", "cn-shanghai"),
                ],
                body: b"",
            },
            "YourAccessKeyId",
            "YourAccessKeySecret",
        );
        assert_eq!(
            sha256_hex(signed.canonical_request.as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signed.authorization,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn v3_matches_the_made_up_send_sms_vector_a4() {
        let call = account(AliyunSignature::V3).request(
            "13800138000",
            "123456",
            "6a1f0c3e9b7d4e2a8c5b0d1e2f3a4b5c",
            A_TIME,
        );
        assert_eq!(
            call.url,
            "https://dysmsapi.aliyuncs.com/?PhoneNumbers=13800138000&SignName=%E7%BD%97%E5%A1%9E%E5%A1%94&TemplateCode=SMS_123456789&TemplateParam=%7B%22code%22%3A%22123456%22%7D"
        );
        assert!(call.body.is_empty());
        let header = |name: &str| {
            call.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("x-acs-action"), Some("SendSms"));
        assert_eq!(header("x-acs-version"), Some("2017-05-25"));
        assert_eq!(header("x-acs-date"), Some("2024-01-02T03:04:05Z"));
        assert_eq!(header("x-acs-content-sha256"), Some(EMPTY_BODY_SHA256));
        assert_eq!(
            header("Authorization"),
            Some(
                "ACS3-HMAC-SHA256 Credential=LTAIrosettaTestKey,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=1d63399322773b7d43ab62c42e4e476b85c914febf3cb79b77bf5ac29e2bf173"
            )
        );
        assert_eq!(header("host"), None, "the transport sets Host from the URL");
    }

    #[test]
    fn answers_are_classified_by_code_whatever_the_status() {
        let sent = read_answer(
            200,
            br#"{"RequestId":"r-1","Message":"OK","BizId":"900619746936498440^0","Code":"OK"}"#,
        );
        assert_eq!(sent.verdict, Verdict::Sent);
        assert_eq!(sent.message_id.as_deref(), Some("900619746936498440^0"));
        assert_eq!(sent.request_id.as_deref(), Some("r-1"));
        let limited = read_answer(
            200,
            r#"{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控Permits:1"}"#
                .as_bytes(),
        );
        assert_eq!(limited.verdict, Verdict::RateLimited);
        assert_eq!(
            limited.detail,
            "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1"
        );
        assert_eq!(
            read_answer(200, br#"{"Code":"isv.MOBILE_NUMBER_ILLEGAL"}"#).verdict,
            Verdict::InvalidPhone
        );
        let account = read_answer(200, br#"{"Code":"isv.AMOUNT_NOT_ENOUGH","Message":"x"}"#);
        assert_eq!((account.verdict, account.alert), (Verdict::Failed, true));
        let signature = read_answer(400, br#"{"Code":"SignatureDoesNotMatch","Message":"x"}"#);
        assert_eq!(
            (signature.verdict, signature.alert),
            (Verdict::Failed, true)
        );
        let nonce = read_answer(400, br#"{"Code":"SignatureNonceUsed"}"#);
        assert!(nonce.retry_with_new_signature && !nonce.alert);
        let unknown = read_answer(200, br#"{"Code":"isv.SOMETHING_NEW"}"#);
        assert_eq!(unknown.verdict, Verdict::Failed);
        let html = read_answer(502, b"<html>bad gateway</html>");
        assert_eq!(html.verdict, Verdict::Failed);
        assert_eq!(html.detail, "HTTP 502 without Aliyun's JSON answer");
        assert_eq!(phone_number("86", "13800138000"), "13800138000");
        assert_eq!(phone_number("852", "61234567"), "85261234567");
    }
}
