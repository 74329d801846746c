//! The Aliyun and Tencent Cloud SMS senders against their local doubles (which check every
//! signature from the wire): the happy path with its exact request fields and receipt, each
//! error class and the core's answer to it, no retry after a timeout, the one safe retry, clock
//! skew and replayed signatures, a fallback provider, what the outbox keeps, and each dialect's
//! own answer to each class.

mod support;

#[path = "support/dialect_clients.rs"]
mod dialect_clients;
#[path = "support/sms_doubles.rs"]
mod sms_doubles;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rosetta::domain::CoreError;
use rosetta::domain::phone::Phone;
use rosetta::providers::aliyun_sms::{self, AliyunSignature, AliyunSms};
use rosetta::providers::sms::{self as wire, Verdict};
use rosetta::providers::tencent_sms::{self, TencentSms};
use rosetta::service::sms::OutboxMessage;
use rosetta::service::{ManualClock, Service};
use serde_json::json;
use sms_doubles::*;
use support::{TestApp, TestDb, code_request, test_service};

/// The SMS adapters under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adapter {
    AliyunV3,
    AliyunV2,
    Tencent,
}

impl Adapter {
    const ALL: [Adapter; 3] = [Adapter::AliyunV3, Adapter::AliyunV2, Adapter::Tencent];

    async fn double(self) -> SmsDouble {
        match self {
            Adapter::Tencent => SmsDouble::tencent().await,
            _ => SmsDouble::aliyun().await,
        }
    }

    fn provider(self) -> &'static str {
        match self {
            Adapter::Tencent => "tencent",
            _ => "aliyun",
        }
    }

    /// `[sms]` and the provider's own section for a gateway sending to `double`.
    fn settings(self, double: &SmsDouble) -> String {
        let section = match self {
            Adapter::AliyunV3 => aliyun_settings(double, "v3"),
            Adapter::AliyunV2 => aliyun_settings(double, "v2"),
            Adapter::Tencent => tencent_settings(double),
        };
        format!("[sms]\nprovider = \"{}\"\n{section}", self.provider())
    }

    /// The number as the provider receives it.
    fn wire_number(self, national: &str) -> String {
        match self {
            Adapter::Tencent => format!("+86{national}"),
            _ => national.to_owned(),
        }
    }
}

async fn core_for(adapter: Adapter) -> (Service, Arc<ManualClock>, SmsDouble, TestDb) {
    let double = adapter.double().await;
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, &adapter.settings(&double)).await;
    double.follow(clock.clone());
    (service, clock, double, db)
}

async fn send(service: &Service, number: &str) -> Result<i64, CoreError> {
    let phone = Phone::mainland(number).unwrap();
    service
        .send_code(code_request(&phone, "register", None))
        .await
}

async fn outbox(service: &Service, number: &str) -> Vec<OutboxMessage> {
    service.sms_outbox(Some(number.to_owned())).await.unwrap()
}

/// Requests the double received for a number (its national digits appear in each).
fn requests_for(double: &SmsDouble, national: &str) -> usize {
    double
        .requests()
        .iter()
        .filter(|r| {
            r.query.contains(national) || String::from_utf8_lossy(&r.body).contains(national)
        })
        .count()
}

#[actix_web::test]
async fn each_adapter_sends_with_exact_fields_and_keeps_the_receipt() {
    for adapter in Adapter::ALL {
        let (service, _clock, double, _db) = core_for(adapter).await;
        send(&service, "13912340000").await.unwrap();
        let delivered = double.outbox();
        assert_eq!(delivered.len(), 1, "{adapter:?}");
        let code = outbox(&service, "13912340000").await[0].code.clone();
        let params = match adapter {
            Adapter::Tencent => json!([code]),
            _ => json!({ "code": code }),
        };
        let template = match adapter {
            Adapter::Tencent => TENCENT_TEMPLATE,
            _ => ALIYUN_TEMPLATE,
        };
        assert_eq!(
            delivered[0],
            Delivered {
                phone: adapter.wire_number("13912340000"),
                sign_name: SIGN_NAME.to_owned(),
                template: template.to_owned(),
                params,
                receipt: delivered[0].receipt.clone(),
            },
            "{adapter:?}"
        );
        let kept = outbox(&service, "13912340000").await;
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].provider, adapter.provider());
        assert_eq!(kept[0].outcome, "sent");
        assert_eq!(
            kept[0].message_id.as_deref(),
            Some(delivered[0].receipt.as_str())
        );
        assert!(kept[0].request_id.is_some(), "{adapter:?}");
        // The wire as each provider documents it.
        let request = &double.requests()[0];
        assert_eq!(request.method, "POST");
        match adapter {
            Adapter::AliyunV3 => {
                assert!(request.body.is_empty());
                assert_eq!(request.header("x-acs-action"), Some("SendSms"));
                assert!(
                    request
                        .query
                        .contains("SignName=%E7%BD%97%E5%A1%9E%E5%A1%94")
                );
            }
            Adapter::AliyunV2 => {
                assert_eq!(
                    request.header("content-type"),
                    Some("application/x-www-form-urlencoded")
                );
                let body = String::from_utf8_lossy(&request.body).into_owned();
                assert!(body.starts_with("Signature="), "{body}");
                assert!(body.contains("&Format=JSON&"), "{body}");
            }
            Adapter::Tencent => {
                assert_eq!(
                    request.header("content-type"),
                    Some("application/json; charset=utf-8")
                );
                assert_eq!(request.header("x-tc-version"), Some("2021-01-11"));
                assert_eq!(request.header("x-tc-region"), Some("ap-guangzhou"));
                // UTF-8 on the wire, not \u escapes.
                assert!(String::from_utf8_lossy(&request.body).contains(SIGN_NAME));
            }
        }
        double.stop().await;
    }
}

#[actix_web::test]
async fn each_class_of_answer_reaches_the_core_and_a_failure_withdraws_the_code() {
    for adapter in Adapter::ALL {
        let (service, _clock, double, _db) = core_for(adapter).await;
        let (account_error, internal_error) = match adapter {
            Adapter::Tencent => (
                "FailedOperation.InsufficientBalanceInSmsPackage",
                "InternalError.Timeout",
            ),
            _ => ("isv.AMOUNT_NOT_ENOUGH", "isp.SYSTEM_ERROR"),
        };
        for (number, expected, outcome, detail) in [
            ("13900000001", CoreError::SmsTooSoon, "rate_limited", ""),
            (
                "13900000002",
                CoreError::SmsRejectedPhone,
                "invalid_phone",
                "",
            ),
            (
                "13900000003",
                CoreError::SmsSendFailed,
                "failed",
                account_error,
            ),
            (
                "13900000004",
                CoreError::SmsSendFailed,
                "failed",
                internal_error,
            ),
            (
                "13900000006",
                CoreError::SmsSendFailed,
                "failed",
                "HTTP 502",
            ),
        ] {
            assert_eq!(
                send(&service, number).await,
                Err(expected.clone()),
                "{adapter:?} {number}"
            );
            let kept = outbox(&service, number).await;
            assert_eq!(kept.len(), 1, "{adapter:?} {number}: no retry");
            assert_eq!(kept[0].outcome, outcome, "{adapter:?} {number}");
            let text = kept[0].detail.clone().unwrap_or_default();
            assert!(text.contains(detail), "{adapter:?} {number}: {text}");
            // Withdrawn: nothing to verify, and asking again is not "too soon".
            assert_eq!(
                service
                    .verify_code(
                        &Phone::mainland(number).unwrap(),
                        "register",
                        "000000",
                        None
                    )
                    .await,
                Err(CoreError::CodeNotRequested)
            );
            assert_eq!(
                send(&service, number).await,
                Err(expected),
                "{adapter:?} {number}"
            );
        }
        double.stop().await;
    }
}

#[actix_web::test]
async fn a_call_without_an_answer_in_time_fails_once_and_is_not_repeated() {
    for adapter in [Adapter::AliyunV3, Adapter::Tencent] {
        let (service, _clock, double, _db) = core_for(adapter).await;
        let started = Instant::now();
        assert_eq!(
            send(&service, "13900000005").await,
            Err(CoreError::SmsSendFailed)
        );
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(2900) && took < SLOW_ANSWER,
            "{adapter:?}: the 3 s call timeout, took {took:?}"
        );
        // The message may have gone: never sent twice.
        assert_eq!(requests_for(&double, "13900000005"), 1, "{adapter:?}");
        let kept = outbox(&service, "13900000005").await;
        assert_eq!(kept.len(), 1);
        assert!(
            kept[0]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("no answer"),
            "{:?}",
            kept[0].detail
        );
        double.stop().await;
    }
}

#[actix_web::test]
async fn aliyun_repeats_only_a_call_refused_for_its_nonce() {
    let (service, _clock, double, _db) = core_for(Adapter::AliyunV3).await;
    send(&service, "13900000007").await.unwrap();
    let kept = outbox(&service, "13900000007").await;
    let outcomes: Vec<&str> = kept.iter().map(|m| m.outcome.as_str()).collect();
    assert_eq!(outcomes, ["sent", "failed"], "newest first");
    assert!(
        kept[1]
            .detail
            .as_deref()
            .unwrap()
            .starts_with("SignatureNonceUsed")
    );
    let nonces: Vec<String> = double
        .requests()
        .iter()
        .filter_map(|r| r.header("x-acs-signature-nonce").map(str::to_owned))
        .collect();
    assert_eq!(nonces.len(), 2);
    assert_ne!(nonces[0], nonces[1], "the repeat is signed anew");
    // Aliyun's ServiceUnavailable is a failure like any other, not repeated.
    assert_eq!(
        send(&service, "13900000008").await,
        Err(CoreError::SmsSendFailed)
    );
    assert_eq!(requests_for(&double, "13900000008"), 1);
    double.stop().await;

    // Tencent's account-wide call limit is not the number's: a failure, not repeated.
    let (service, _clock, double, _db) = core_for(Adapter::Tencent).await;
    assert_eq!(
        send(&service, "13900000007").await,
        Err(CoreError::SmsSendFailed)
    );
    assert_eq!(requests_for(&double, "13900000007"), 1);
    double.stop().await;
}

#[actix_web::test]
async fn the_doubles_refuse_skewed_clocks_and_replayed_signatures() {
    // Aliyun: 15 minutes either way.
    for adapter in [Adapter::AliyunV3, Adapter::AliyunV2] {
        let (service, _clock, double, _db) = core_for(adapter).await;
        double.set_skew_ms(16 * 60_000);
        assert_eq!(
            send(&service, "13912340010").await.err(),
            Some(CoreError::SmsSendFailed)
        );
        let detail = outbox(&service, "13912340010").await[0].detail.clone();
        assert!(
            detail
                .as_deref()
                .unwrap()
                .starts_with("InvalidTimeStamp.Expired"),
            "{adapter:?}: {detail:?}"
        );
        double.set_skew_ms(-14 * 60_000);
        let again = send(&service, "13912340010").await;
        assert!(
            again.is_ok(),
            "{adapter:?}: {again:?} {:?}",
            outbox(&service, "13912340010").await
        );
        double.stop().await;
    }
    // A replayed Aliyun request (same nonce) is refused before anything is sent.
    let double = SmsDouble::aliyun().await;
    for signature in [AliyunSignature::V3, AliyunSignature::V2] {
        let account = AliyunSms {
            access_key_id: ALIYUN_KEY_ID.into(),
            access_key_secret: ALIYUN_SECRET.into(),
            sign_name: SIGN_NAME.into(),
            template_code: ALIYUN_TEMPLATE.into(),
            endpoint: double.url.clone(),
            signature,
        };
        let nonce = format!("replayed-{signature:?}");
        let call = account.request("13912340020", "123456", &nonce, START_MS);
        let (status, body) = wire::send(&call, Duration::from_secs(3)).await.unwrap();
        assert_eq!(
            aliyun_sms::read_answer(status, &body).verdict,
            Verdict::Sent
        );
        let (status, body) = wire::send(&call, Duration::from_secs(3)).await.unwrap();
        let replayed = aliyun_sms::read_answer(status, &body);
        assert_eq!(status, 400);
        assert!(
            replayed.detail.starts_with("SignatureNonceUsed"),
            "{replayed:?}"
        );
        assert!(replayed.retry_with_new_signature);
    }
    double.stop().await;

    // Tencent: 5 minutes, and the same signed call six minutes later is expired.
    let (service, clock, double, _db) = core_for(Adapter::Tencent).await;
    double.set_skew_ms(-301_000);
    assert_eq!(
        send(&service, "13912340030").await.err(),
        Some(CoreError::SmsSendFailed)
    );
    let detail = outbox(&service, "13912340030").await[0].detail.clone();
    assert!(
        detail
            .as_deref()
            .unwrap()
            .starts_with("AuthFailure.SignatureExpire")
    );
    double.set_skew_ms(299_000);
    assert!(send(&service, "13912340030").await.is_ok());
    double.set_skew_ms(0);
    let app = TencentSms {
        secret_id: TENCENT_SECRET_ID.into(),
        secret_key: TENCENT_SECRET_KEY.into(),
        sdk_app_id: TENCENT_APP_ID.into(),
        sign_name: SIGN_NAME.into(),
        template_id: TENCENT_TEMPLATE.into(),
        region: "ap-guangzhou".into(),
        endpoint: double.url.clone(),
    };
    let call = app.request("+8613912340040", "123456", START_MS);
    let read =
        |(status, body): (u16, Vec<u8>)| tencent_sms::read_answer(status, &body, "+8613912340040");
    let first = read(wire::send(&call, Duration::from_secs(3)).await.unwrap());
    assert_eq!(first.verdict, Verdict::Sent);
    clock.advance_ms(6 * 60_000);
    let replayed = read(wire::send(&call, Duration::from_secs(3)).await.unwrap());
    assert!(replayed.detail.starts_with("AuthFailure.SignatureExpire"));
    double.stop().await;
}

#[actix_web::test]
async fn wrong_credentials_fail_every_send_with_the_providers_own_code() {
    for (adapter, key, code) in [
        (
            Adapter::AliyunV3,
            "access_key_secret",
            "SignatureDoesNotMatch",
        ),
        (
            Adapter::AliyunV2,
            "access_key_secret",
            "SignatureDoesNotMatch",
        ),
        (
            Adapter::AliyunV3,
            "access_key_id",
            "InvalidAccessKeyId.NotFound",
        ),
        (
            Adapter::Tencent,
            "secret_key",
            "AuthFailure.SignatureFailure",
        ),
        (
            Adapter::Tencent,
            "secret_id",
            "AuthFailure.SecretIdNotFound",
        ),
    ] {
        let double = adapter.double().await;
        let db = TestDb::fresh();
        let settings: String = adapter
            .settings(&double)
            .lines()
            .map(|line| {
                if line.starts_with(&format!("{key} = ")) {
                    format!("{key} = \"AKIDwrong0000\"\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        let (service, _clock) = test_service(&db, &settings).await;
        assert_eq!(
            send(&service, "13912340000").await,
            Err(CoreError::SmsSendFailed),
            "{adapter:?} {key}"
        );
        let kept = outbox(&service, "13912340000").await;
        assert_eq!(kept.len(), 1, "{adapter:?} {key}: not repeated");
        let detail = kept[0].detail.clone().unwrap_or_default();
        assert!(detail.starts_with(code), "{adapter:?} {key}: {detail}");
        assert!(double.outbox().is_empty());
        double.stop().await;
    }
}

#[actix_web::test]
async fn a_failed_send_falls_back_to_the_second_provider_a_refused_number_does_not() {
    let aliyun = SmsDouble::aliyun().await;
    let tencent = SmsDouble::tencent().await;
    let db = TestDb::fresh();
    // The primary's secret is wrong: every call it takes fails.
    let settings = format!(
        "[sms]\nprovider = \"aliyun\"\nfallback = \"tencent\"\n{}{}",
        aliyun_settings(&aliyun, "v3").replace(ALIYUN_SECRET, "wrongSecret"),
        tencent_settings(&tencent)
    );
    let (service, clock) = test_service(&db, &settings).await;
    aliyun.follow(clock.clone());
    tencent.follow(clock.clone());
    send(&service, "13912340000").await.unwrap();
    let kept = outbox(&service, "13912340000").await;
    let seen: Vec<(&str, &str)> = kept
        .iter()
        .map(|m| (m.provider.as_str(), m.outcome.as_str()))
        .collect();
    assert_eq!(seen, [("tencent", "sent"), ("aliyun", "failed")]);
    assert_eq!(tencent.outbox().len(), 1);
    assert_eq!(
        kept[0].message_id.as_deref(),
        Some(tencent.outbox()[0].receipt.as_str())
    );
    // The code the user verifies is the one the fallback delivered.
    let delivered = tencent.outbox()[0].params[0].as_str().unwrap().to_owned();
    assert!(
        service
            .verify_code(
                &Phone::mainland("13912340000").unwrap(),
                "register",
                &delivered,
                None
            )
            .await
            .is_ok()
    );
    // Past a failed primary, the fallback's answer is the answer: here it refuses the number.
    assert_eq!(
        send(&service, "13900000001").await,
        Err(CoreError::SmsTooSoon)
    );
    aliyun.stop().await;
    tencent.stop().await;

    let aliyun = SmsDouble::aliyun().await;
    let tencent = SmsDouble::tencent().await;
    let db = TestDb::fresh();
    let settings = format!(
        "[sms]\nprovider = \"aliyun\"\nfallback = \"tencent\"\n{}{}",
        aliyun_settings(&aliyun, "v3"),
        tencent_settings(&tencent)
    );
    let (service, _clock) = test_service(&db, &settings).await;
    assert_eq!(
        send(&service, "13900000001").await,
        Err(CoreError::SmsTooSoon)
    );
    assert_eq!(
        send(&service, "13900000002").await,
        Err(CoreError::SmsRejectedPhone)
    );
    assert!(
        tencent.requests().is_empty(),
        "no fallback for a refused number"
    );
    aliyun.stop().await;
    tencent.stop().await;

    // A primary that cannot be reached is tried twice (nothing left), then the fallback.
    let tencent = SmsDouble::tencent().await;
    let db = TestDb::fresh();
    let settings = format!(
        "[sms]\nprovider = \"webhook\"\nfallback = \"tencent\"\nwebhook_url = \"http://127.0.0.1:9/sms\"\n{}",
        tencent_settings(&tencent)
    );
    let (service, _clock) = test_service(&db, &settings).await;
    send(&service, "13912340000").await.unwrap();
    let seen: Vec<(String, String)> = outbox(&service, "13912340000")
        .await
        .into_iter()
        .map(|m| (m.provider, m.outcome))
        .collect();
    let seen: Vec<(&str, &str)> = seen.iter().map(|(p, o)| (p.as_str(), o.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("tencent", "sent"),
            ("webhook", "failed"),
            ("webhook", "failed")
        ]
    );
    tencent.stop().await;
}

/// What a dialect answers when the provider sent the code, refused the number for its
/// frequency, refused the number itself, or failed: `(status, a part of the body)`.
struct DialectAnswers {
    id: &'static str,
    sent: (u16, &'static str),
    rate_limited: (u16, &'static str),
    invalid_phone: (u16, &'static str),
    failed: (u16, &'static str),
}

const ANSWERS: &[DialectAnswers] = &[
    DialectAnswers {
        id: "code_sec",
        sent: (200, r#"{"code":"200"}"#),
        rate_limited: (200, r#"{"code":"4021"}"#),
        invalid_phone: (200, r#"{"code":"4021"}"#),
        failed: (200, r#"{"code":"4021"}"#),
    },
    DialectAnswers {
        id: "code_result",
        sent: (200, r#"{"code":200}"#),
        rate_limited: (200, r#"{"code":5000,"message":"Throttle limit exceeded."}"#),
        invalid_phone: (400, "Invalid region and phone number."),
        failed: (500, "Send SMS failed."),
    },
    DialectAnswers {
        id: "rest",
        sent: (200, r#""action":"signup""#),
        rate_limited: (403, "验证码发送过于频繁，请稍后再试。"),
        invalid_phone: (403, "手机号码格式不正确。"),
        failed: (500, "验证码发送失败。"),
    },
    DialectAnswers {
        id: "struts",
        sent: (200, r#"{"success":true,"info":"验证码已发送到手机"}"#),
        rate_limited: (
            200,
            r#"{"success":false,"info":"验证码发送过于频繁，请稍后再试"}"#,
        ),
        invalid_phone: (200, r#"{"success":false,"info":"手机号格式不正确"}"#),
        failed: (
            200,
            r#"{"success":false,"info":"验证码发送失败，请稍后再试"}"#,
        ),
    },
];

#[actix_web::test]
async fn every_dialect_answers_each_class_in_its_own_words() {
    for adapter in [Adapter::AliyunV3, Adapter::Tencent] {
        let double = adapter.double().await;
        let app = TestApp::spawn(&adapter.settings(&double)).await;
        double.follow(app.clock.clone());
        for (index, client) in dialect_clients::DIALECTS.iter().enumerate() {
            let Some(request_code) = client.request_code else {
                continue;
            };
            let answers = ANSWERS
                .iter()
                .find(|a| a.id == client.id)
                .unwrap_or_else(|| panic!("no expected answers for {}", client.id));
            for (cue, (status, body)) in [
                ("0000", answers.sent),
                ("0001", answers.rate_limited),
                ("0002", answers.invalid_phone),
                ("0003", answers.failed),
            ] {
                let phone = format!("13{}0000{cue}", index + 3);
                let reply = request_code(&app, &phone).await;
                assert_eq!(
                    reply.status,
                    status,
                    "{adapter:?} {} {cue}: {}",
                    client.id,
                    reply.text()
                );
                assert!(
                    reply.text().contains(body),
                    "{adapter:?} {} {cue}: {}",
                    client.id,
                    reply.text()
                );
            }
        }
        // Per dialect: one sent, one rate limited, one invalid number, one account error.
        let metrics = app.send("ops", "GET", "/metrics", &[], b"").await.text();
        let provider = adapter.provider();
        for (outcome, calls) in [
            ("sent", 4),
            ("rate_limited", 4),
            ("invalid_phone", 4),
            ("failed", 4),
        ] {
            let line = format!(
                "rosetta_sms_calls_total{{provider=\"{provider}\",outcome=\"{outcome}\"}} {calls}\n"
            );
            assert!(metrics.contains(&line), "{adapter:?}: {line} in\n{metrics}");
        }
        let alerts = format!("rosetta_sms_alerts_total{{provider=\"{provider}\"}} 4\n");
        assert!(metrics.contains(&alerts), "{adapter:?}: {alerts}");
        drop(app);
        double.stop().await;
    }
}
