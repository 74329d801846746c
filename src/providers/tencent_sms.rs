//! Tencent Cloud SMS `SendSms` (API 3.0, version 2021-01-11): the JSON body, the
//! `TC3-HMAC-SHA256` signature over it, and the reading of answers (request-level `Error`, then
//! the number's entry in `SendStatusSet`; HTTP 200 either way).

use serde::{Deserialize, Serialize};

use super::signing::{hmac_sha256, sha256_hex};
use super::sms::{Coded, HttpCall, ProviderAnswer, Verdict, authority};
use crate::domain::credential::to_hex;

pub const ACTION: &str = "SendSms";
pub const VERSION: &str = "2021-01-11";
pub const SERVICE: &str = "sms";
/// The content type sent, exactly as signed.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// An application's sending settings.
#[derive(Clone, PartialEq, Eq)]
pub struct TencentSms {
    pub secret_id: String,
    pub secret_key: String,
    pub sdk_app_id: String,
    pub sign_name: String,
    pub template_id: String,
    /// `ap-guangzhou`, `ap-beijing`, `ap-nanjing`.
    pub region: String,
    /// `https://sms.tencentcloudapi.com`, or a stand-in.
    pub endpoint: String,
}

impl std::fmt::Debug for TencentSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentSms")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<secret>")
            .field("sdk_app_id", &self.sdk_app_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// A TC3 signature and what it was computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tc3Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub secret_signing: Vec<u8>,
    pub authorization: String,
}

/// Signs a `POST /` with `body` for `service` at `timestamp` (Unix seconds), over `content-type`,
/// `host` and `extra` headers (`(lower-case name, value)`).
pub fn sign_tc3(
    secret_id: &str,
    secret_key: &str,
    service: &str,
    host: &str,
    timestamp: i64,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Tc3Signed {
    let date = crate::domain::dates::civil_date(timestamp.saturating_mul(1000));
    let mut headers = vec![("content-type", CONTENT_TYPE), ("host", host)];
    headers.extend_from_slice(extra);
    headers.sort_by_key(|(name, _)| *name);
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim().to_lowercase()))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}",
        sha256_hex(body)
    );
    let scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let secret_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = to_hex(&hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    Tc3Signed {
        authorization: format!(
            "TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"
        ),
        canonical_request,
        string_to_sign,
        secret_signing,
    }
}

/// The request body, its fields in the order Tencent documents them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    phone_number_set: [&'a str; 1],
    sms_sdk_app_id: &'a str,
    sign_name: &'a str,
    template_id: &'a str,
    template_param_set: [&'a str; 1],
}

/// The number in E.164 (`+8613800138000`), as `PhoneNumberSet` takes it.
pub fn phone_number(region: &str, number: &str) -> String {
    format!("+{region}{number}")
}

impl TencentSms {
    /// The `SendSms` call for one code to one E.164 number, signed at `now_ms`.
    pub fn request(&self, phone_e164: &str, code: &str, now_ms: i64) -> HttpCall {
        let body = serde_json::to_vec(&Body {
            phone_number_set: [phone_e164],
            sms_sdk_app_id: &self.sdk_app_id,
            sign_name: &self.sign_name,
            template_id: &self.template_id,
            template_param_set: [code],
        })
        // A struct of strings always serialises.
        .unwrap_or_default();
        let timestamp = now_ms.div_euclid(1000);
        let base = self.endpoint.trim_end_matches('/');
        let signed = sign_tc3(
            &self.secret_id,
            &self.secret_key,
            SERVICE,
            authority(base),
            timestamp,
            &body,
            &[],
        );
        HttpCall {
            method: "POST",
            url: format!("{base}/"),
            headers: vec![
                ("Authorization".to_owned(), signed.authorization),
                ("Content-Type".to_owned(), CONTENT_TYPE.to_owned()),
                ("X-TC-Action".to_owned(), ACTION.to_owned()),
                ("X-TC-Version".to_owned(), VERSION.to_owned()),
                ("X-TC-Timestamp".to_owned(), timestamp.to_string()),
                ("X-TC-Region".to_owned(), self.region.clone()),
            ],
            body,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Response,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(default)]
    error: Option<ErrorBody>,
    #[serde(default)]
    send_status_set: Vec<SendStatus>,
    #[serde(default)]
    request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendStatus {
    #[serde(default)]
    serial_no: Option<String>,
    #[serde(default)]
    phone_number: String,
    code: String,
    #[serde(default)]
    message: String,
}

/// Reads a `SendSms` answer for `phone_e164`: a body that is not Tencent's JSON fails (whatever
/// the status), then `Response.Error` decides, then the number's entry.
pub fn read_answer(status: u16, body: &[u8], phone_e164: &str) -> ProviderAnswer {
    let Ok(Envelope { response }) = serde_json::from_slice::<Envelope>(body) else {
        return ProviderAnswer::failed(
            format!("HTTP {status} without Tencent Cloud's JSON answer"),
            false,
        );
    };
    let request_id = response.request_id;
    let (code, message, serial_no) = if let Some(error) = response.error {
        (error.code, error.message, None)
    } else if let Some(entry) = response
        .send_status_set
        .into_iter()
        .find(|entry| entry.phone_number == phone_e164 || entry.phone_number.is_empty())
    {
        (entry.code, entry.message, entry.serial_no)
    } else {
        let mut missing = ProviderAnswer::failed(
            format!("no SendStatusSet entry for the number (HTTP {status})"),
            false,
        );
        missing.request_id = request_id;
        return missing;
    };
    let coded = Coded {
        code,
        message,
        receipt: serial_no,
        request_id,
    };
    ProviderAnswer::from_code(coded, classify)
}

/// `(verdict, alert)` of a `Code`; codes not listed are failures that need an operator.
fn classify(code: &str) -> (Verdict, bool) {
    match code {
        "Ok" => (Verdict::Sent, false),
        "LimitExceeded.PhoneNumberThirtySecondLimit"
        | "LimitExceeded.PhoneNumberOneHourLimit"
        | "LimitExceeded.PhoneNumberDailyLimit"
        | "LimitExceeded.PhoneNumberSameContentDailyLimit"
        | "LimitExceeded.DeliveryFrequencyLimit" => (Verdict::RateLimited, false),
        "InvalidParameterValue.IncorrectPhoneNumber" => (Verdict::InvalidPhone, false),
        // Provider-side trouble, the account's call rate, or one number's carrier state.
        "InternalError.Timeout"
        | "InternalError.OtherError"
        | "InternalError.SendAndRecvFail"
        | "RequestLimitExceeded"
        | "FailedOperation.PhoneNumberInBlacklist" => (Verdict::Failed, false),
        // Credentials, clock, account, template, signature, caps, and whatever is new.
        _ => (Verdict::Failed, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tc3_matches_the_official_vector_t1() {
        let body = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        assert_eq!(
            sha256_hex(body.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let signed = sign_tc3(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "cvm",
            "cvm.tencentcloudapi.com",
            1_551_113_065,
            body.as_bytes(),
            &[],
        );
        assert_eq!(
            sha256_hex(signed.canonical_request.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        // The UTC date, not Beijing's (which is already the 26th).
        assert!(
            signed
                .string_to_sign
                .starts_with("TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n")
        );
        assert!(signed.authorization.ends_with(
            "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        ));
    }

    fn app() -> TencentSms {
        TencentSms {
            secret_id: "AKIDrosettaTEST0000000000000000000000".into(),
            secret_key: "rosettaTencentSecretKey000000000".into(),
            sdk_app_id: "1400000000".into(),
            sign_name: "罗塞塔".into(),
            template_id: "1234567".into(),
            region: "ap-guangzhou".into(),
            endpoint: "https://sms.tencentcloudapi.com".into(),
        }
    }

    #[test]
    fn tc3_matches_the_made_up_send_sms_vector_t2() {
        let body = r#"{"PhoneNumberSet":["+8613800138000"],"SmsSdkAppId":"1400000000","SignName":"罗塞塔","TemplateId":"1234567","TemplateParamSet":["123456","5"]}"#;
        assert_eq!(body.len(), 144);
        let sign = |extra: &[(&str, &str)]| {
            sign_tc3(
                "AKIDrosettaTEST0000000000000000000000",
                "rosettaTencentSecretKey000000000",
                "sms",
                "sms.tencentcloudapi.com",
                1_700_000_000,
                body.as_bytes(),
                extra,
            )
        };
        let signed = sign(&[]);
        assert_eq!(
            sha256_hex(signed.canonical_request.as_bytes()),
            "1298e59e775596edc013debb61949a6ca443c87914ce080163cb700b0ca6d847"
        );
        assert_eq!(
            to_hex(&signed.secret_signing),
            "09bbd4b7003383b7b69b77ea8e80f08078ce69103cc920a99b3b779131dc9148"
        );
        assert_eq!(
            signed.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDrosettaTEST0000000000000000000000/2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, Signature=cbd864bfd27f739ec106586f319d80f7c880ab25bf22025e393b71ab9742ab95"
        );
        let with_action = sign(&[("x-tc-action", "SendSms")]);
        assert!(
            with_action
                .canonical_request
                .contains("\nx-tc-action:sendsms\n")
        );
        assert!(with_action.authorization.ends_with(
            "SignedHeaders=content-type;host;x-tc-action, Signature=c00d4afd515cce5fbe63cbcc719982ff828915ad84f7bd8b4f00d6683dd9dc41"
        ));
    }

    #[test]
    fn the_request_carries_the_code_as_the_only_template_parameter() {
        let call = app().request("+8613800138000", "123456", 1_700_000_000_123);
        assert_eq!(
            String::from_utf8(call.body.clone()).unwrap(),
            r#"{"PhoneNumberSet":["+8613800138000"],"SmsSdkAppId":"1400000000","SignName":"罗塞塔","TemplateId":"1234567","TemplateParamSet":["123456"]}"#
        );
        assert_eq!(call.url, "https://sms.tencentcloudapi.com/");
        let header = |name: &str| {
            call.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("X-TC-Timestamp"), Some("1700000000"));
        assert_eq!(header("X-TC-Region"), Some("ap-guangzhou"));
        assert_eq!(header("Content-Type"), Some(CONTENT_TYPE));
        let expected = sign_tc3(
            &app().secret_id,
            &app().secret_key,
            "sms",
            "sms.tencentcloudapi.com",
            1_700_000_000,
            &call.body,
            &[],
        );
        assert_eq!(
            header("Authorization"),
            Some(expected.authorization.as_str())
        );
    }

    #[test]
    fn answers_are_read_error_first_then_the_numbers_entry() {
        let phone = "+8613800138000";
        let sent = read_answer(
            200,
            br#"{"Response":{"SendStatusSet":[{"SerialNo":"5000:1045710669157053657849499619","PhoneNumber":"+8613800138000","Fee":1,"SessionContext":"","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"a0aabda6-cf91-4f3e-a81f-9198114a2279"}}"#,
            phone,
        );
        assert_eq!(sent.verdict, Verdict::Sent);
        assert_eq!(
            sent.message_id.as_deref(),
            Some("5000:1045710669157053657849499619")
        );
        assert_eq!(
            sent.request_id.as_deref(),
            Some("a0aabda6-cf91-4f3e-a81f-9198114a2279")
        );
        let limited = read_answer(
            200,
            br#"{"Response":{"SendStatusSet":[{"PhoneNumber":"+8613800138000","Code":"LimitExceeded.PhoneNumberThirtySecondLimit","Message":"x"}],"RequestId":"r"}}"#,
            phone,
        );
        assert_eq!(limited.verdict, Verdict::RateLimited);
        assert_eq!(limited.message_id, None);
        let invalid = read_answer(
            200,
            br#"{"Response":{"SendStatusSet":[{"PhoneNumber":"+8613800138000","Code":"InvalidParameterValue.IncorrectPhoneNumber"}],"RequestId":"r"}}"#,
            phone,
        );
        assert_eq!(invalid.verdict, Verdict::InvalidPhone);
        let auth = read_answer(
            200,
            br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"bad"},"RequestId":"r"}}"#,
            phone,
        );
        assert_eq!((auth.verdict, auth.alert), (Verdict::Failed, true));
        assert_eq!(auth.detail, "AuthFailure.SignatureFailure: bad");
        let busy = read_answer(
            200,
            br#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"x"},"RequestId":"r"}}"#,
            phone,
        );
        assert_eq!((busy.verdict, busy.alert), (Verdict::Failed, false));
        let missing = read_answer(
            200,
            br#"{"Response":{"SendStatusSet":[],"RequestId":"r"}}"#,
            phone,
        );
        assert_eq!(missing.verdict, Verdict::Failed);
        assert_eq!(missing.request_id.as_deref(), Some("r"));
        assert_eq!(
            read_answer(502, b"<html>bad gateway</html>", phone).verdict,
            Verdict::Failed
        );
        assert_eq!(phone_number("86", "13800138000"), "+8613800138000");
    }
}
