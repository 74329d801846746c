//! The account core's use cases, tested without HTTP on a manual clock: accounts, passwords,
//! sessions, SMS codes and tickets, throttles, profiles, bans, avatars and the social graph.

mod support;

use std::time::Duration;

use rosetta::domain::credential::{PasswordInput, md5_hex};
use rosetta::domain::identity::{LoginName, Username};
use rosetta::domain::phone::Phone;
use rosetta::domain::profile::{Gender, ProfilePatch, Recommender, Role, TextField};
use rosetta::domain::social::{FriendshipStatus, GroupRole, MemberSettings, NotifyMode};
use rosetta::domain::token::TokenShape;
use rosetta::domain::{CoreError, Field, FieldReason, Guessed};
use rosetta::service::accounts::{CallerSession, NewAccount, NewPhone};
use rosetta::service::sessions::{Expect, SessionSpec};
use rosetta::service::sms::{CodeRequest, PhoneMust, SmsRules, UniversalCode};
use rosetta::service::{PasswordHasher, Service};
use support::{TestDb, code_request, test_service};

fn phone(n: &str) -> Phone {
    Phone::mainland(n).expect("phone")
}

fn plain(p: &str) -> PasswordInput {
    PasswordInput::Plain(p.to_owned())
}

async fn register(service: &Service, number: &str, password: &str) -> i64 {
    service
        .register(NewAccount::new(
            NewPhone::Unverified(phone(number)),
            plain(password),
            ProfilePatch::default().set(TextField::Nickname, format!("user {number}")),
        ))
        .await
        .expect("register")
}

fn session_spec(dialect: &'static str) -> SessionSpec {
    SessionSpec {
        dialect,
        shape: TokenShape::Opaque,
        ttl: Duration::from_secs(3600),
        client_id: None,
        single_per_user: false,
    }
}

async fn newest_code(service: &Service, number: &str) -> String {
    service.sms_outbox(Some(number.to_owned())).await.unwrap()[0]
        .code
        .clone()
}

#[actix_web::test]
async fn one_password_works_in_every_form() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "123456").await;
    assert_eq!(id, 100_000);
    for name in ["13912345678", "+86 139 1234 5678", "8613912345678"] {
        let login = LoginName::parse_phone_or_username(name).unwrap();
        assert_eq!(
            service.login(&login, &plain("123456"), None).await,
            Ok(id),
            "{name}"
        );
    }
    let by_phone = LoginName::Phone(phone("13912345678"));
    let md5_upper = PasswordInput::ClientMd5(md5_hex(b"123456").to_uppercase());
    assert_eq!(service.login(&by_phone, &md5_upper, None).await, Ok(id));
    assert_eq!(
        service
            .login(&by_phone, &PasswordInput::md5_or_plain("123456"), None)
            .await,
        Ok(id)
    );
    assert_eq!(
        service.login(&by_phone, &plain("1234567"), None).await,
        Err(CoreError::WrongPassword)
    );
    let nobody = LoginName::Phone(phone("13800000000"));
    assert_eq!(
        service.login(&nobody, &plain("123456"), None).await,
        Err(CoreError::UserNotFound)
    );
}

#[actix_web::test]
async fn identities_are_unique_across_dialects() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    register(&service, "13912345678", "pw").await;
    let again = service
        .register(NewAccount::new(
            NewPhone::Unverified(phone("+8613912345678")),
            plain("x"),
            ProfilePatch::default(),
        ))
        .await;
    assert_eq!(again, Err(CoreError::PhoneAlreadyRegistered));
    let named = |name: &str| NewAccount {
        username: Some(Username::parse(name).unwrap()),
        ..NewAccount::new(
            NewPhone::None,
            plain("pw"),
            ProfilePatch::default().set(TextField::Nickname, "z"),
        )
    };
    let zhang = service.register(named("Zhang@Test.com")).await.unwrap();
    assert_eq!(
        service.register(named("zhang@test.com")).await,
        Err(CoreError::UsernameTaken)
    );
    let login = LoginName::Username(Username::parse("ZHANG@test.com").unwrap());
    assert_eq!(service.login(&login, &plain("pw"), None).await, Ok(zhang));
    assert_eq!(
        service.profile(zhang).await.unwrap().username.as_deref(),
        Some("Zhang@Test.com")
    );
}

#[actix_web::test]
async fn simultaneous_registrations_of_one_phone_create_one_account() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let attempts: Vec<_> = (0..6)
        .map(|i| {
            let service = service.clone();
            actix_web::rt::spawn(async move {
                service
                    .register(NewAccount::new(
                        NewPhone::Unverified(phone("13912345678")),
                        plain(&format!("pw{i}")),
                        ProfilePatch::default(),
                    ))
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(err) => assert_eq!(err, CoreError::PhoneAlreadyRegistered),
        }
    }
    assert_eq!(created, 1);
}

#[actix_web::test]
async fn sessions_expire_are_scoped_and_revoked() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "pw").await;
    let issued = service
        .create_session(id, session_spec("error_code"))
        .await
        .unwrap();
    assert_eq!(issued.token.len(), 64);
    let info = service
        .authenticate("error_code", &issued.token, Expect::NOTHING)
        .await
        .unwrap();
    assert_eq!(info.user_id, id);
    assert_eq!(
        service
            .authenticate("struts", &issued.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );
    assert_eq!(
        service
            .authenticate("error_code", "nope", Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );
    assert_eq!(
        service
            .authenticate("error_code", "", Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );
    clock.advance_ms(3_600_000);
    assert_eq!(
        service
            .authenticate("error_code", &issued.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionExpired)
    );

    let uuid_shaped = service
        .create_session(
            id,
            SessionSpec {
                shape: TokenShape::UuidShaped,
                ..session_spec("error_code")
            },
        )
        .await
        .unwrap();
    assert_eq!(uuid_shaped.token.len(), 36);
    assert!(service.revoke_session(&uuid_shaped.token).await.unwrap());
    assert!(!service.revoke_session(&uuid_shaped.token).await.unwrap());
    assert_eq!(
        service
            .authenticate("error_code", &uuid_shaped.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );

    // One current session per user where the dialect says so.
    let single = SessionSpec {
        shape: TokenShape::Hex16,
        single_per_user: true,
        ..session_spec("code_sec")
    };
    let first = service.create_session(id, single.clone()).await.unwrap();
    let second = service.create_session(id, single).await.unwrap();
    assert_eq!(second.token.len(), 16);
    assert_eq!(
        service
            .authenticate("code_sec", &first.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );
    assert!(
        service
            .authenticate("code_sec", &second.token, Expect::NOTHING)
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn a_password_change_ends_every_other_session_and_the_callers_as_asked() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "old-pw").await;
    let session = |dialect: &'static str| service.create_session(id, session_spec(dialect));
    let caller = session("error_code").await.unwrap();
    let same_dialect = session("error_code").await.unwrap();
    let other_dialect = session("struts").await.unwrap();
    let alive = |token: String, dialect: &'static str| {
        let service = service.clone();
        async move {
            service
                .authenticate(dialect, &token, Expect::NOTHING)
                .await
                .is_ok()
        }
    };
    assert_eq!(
        service
            .change_password(
                id,
                &plain("wrong"),
                &plain("new-pw"),
                CallerSession::Keep(&caller.token)
            )
            .await,
        Err(CoreError::WrongPassword)
    );
    assert!(alive(same_dialect.token.clone(), "error_code").await);

    service
        .change_password(
            id,
            &plain("old-pw"),
            &plain("new-pw"),
            CallerSession::Keep(&caller.token),
        )
        .await
        .unwrap();
    assert!(alive(caller.token.clone(), "error_code").await, "kept");
    assert!(!alive(same_dialect.token, "error_code").await);
    assert!(!alive(other_dialect.token, "struts").await);
    let login = LoginName::Phone(phone("13912345678"));
    assert_eq!(service.login(&login, &plain("new-pw"), None).await, Ok(id));

    // A dialect whose backend logs the user out ends the caller's session too.
    let struts = session("struts").await.unwrap();
    service
        .change_password(id, &plain("new-pw"), &plain("newer-pw"), CallerSession::End)
        .await
        .unwrap();
    assert!(!alive(struts.token, "struts").await);
    assert!(!alive(caller.token, "error_code").await);
}

#[actix_web::test]
async fn a_reset_needs_a_verified_phone_and_ends_every_session() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "old-pw").await;
    let p = phone("13912345678");
    let login = LoginName::Phone(p.clone());
    service
        .send_code(code_request(&p, "reset", None))
        .await
        .unwrap();
    let code = newest_code(&service, "13912345678").await;
    let live = service
        .create_session(id, session_spec("code_sec"))
        .await
        .unwrap();
    let proof = service.verify_code(&p, "reset", &code, None).await.unwrap();
    assert_eq!(proof.phone(), &p);
    assert_eq!(proof.purpose(), "reset");
    assert_eq!(
        service.reset_password(&proof, &plain("old-pw"), true).await,
        Err(CoreError::SamePassword)
    );
    assert_eq!(
        service
            .reset_password(&proof, &plain("third-pw"), true)
            .await,
        Ok(id)
    );
    assert_eq!(
        service
            .authenticate("code_sec", &live.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );
    assert_eq!(
        service.login(&login, &plain("third-pw"), None).await,
        Ok(id)
    );

    // A verified phone without an account.
    let stranger = phone("13800000000");
    service
        .send_code(code_request(&stranger, "reset", None))
        .await
        .unwrap();
    let code = newest_code(&service, "13800000000").await;
    let proof = service
        .verify_code(&stranger, "reset", &code, None)
        .await
        .unwrap();
    assert_eq!(
        service.reset_password(&proof, &plain("x"), false).await,
        Err(CoreError::UserNotFound)
    );
}

#[actix_web::test]
async fn sms_codes_are_throttled_checked_and_consumed() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(
        &db,
        "[sms]\ndaily_limit_per_phone = 3\nhourly_limit_per_ip = 4\n",
    )
    .await;
    let p = phone("13912345678");
    let expires = service
        .send_code(code_request(&p, "register", Some("10.0.0.1")))
        .await
        .unwrap();
    assert_eq!(expires, service.now_ms() + 300_000);
    let outbox = service
        .sms_outbox(Some("13912345678".into()))
        .await
        .unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        (
            outbox[0].region.as_str(),
            outbox[0].purpose.as_str(),
            outbox[0].dialect.as_str()
        ),
        ("86", "register", "test")
    );
    assert_eq!(outbox[0].code.len(), 6);
    assert!(outbox[0].code.bytes().all(|b| b.is_ascii_digit()));

    assert_eq!(
        service
            .send_code(code_request(&p, "register", Some("10.0.0.1")))
            .await,
        Err(CoreError::SmsTooSoon)
    );
    clock.advance_ms(60_000);
    service
        .send_code(code_request(&p, "register", Some("10.0.0.1")))
        .await
        .unwrap();
    clock.advance_ms(60_000);
    service
        .send_code(code_request(&p, "register", Some("10.0.0.1")))
        .await
        .unwrap();
    clock.advance_ms(60_000);
    assert_eq!(
        service
            .send_code(code_request(&p, "register", Some("10.0.0.1")))
            .await,
        Err(CoreError::SmsDailyLimit)
    );
    // Another phone from the same address hits the hourly cap per address.
    let other = phone("13800000001");
    service
        .send_code(code_request(&other, "register", Some("10.0.0.1")))
        .await
        .unwrap();
    let third = phone("13800000002");
    assert_eq!(
        service
            .send_code(code_request(&third, "register", Some("10.0.0.1")))
            .await,
        Err(CoreError::SmsIpLimit)
    );
    assert!(
        service
            .send_code(code_request(&third, "register", Some("10.0.0.2")))
            .await
            .is_ok()
    );

    // Verification: wrong, right, consumed.
    let code = newest_code(&service, "13912345678").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        service.verify_code(&p, "register", wrong, None).await,
        Err(CoreError::CodeWrong)
    );
    assert_eq!(
        service.verify_code(&p, "other-purpose", &code, None).await,
        Err(CoreError::CodeNotRequested)
    );
    assert_eq!(
        service
            .verify_code(&p, "register", &code, None)
            .await
            .map(|proof| proof.phone().clone()),
        Ok(p.clone())
    );
    assert_eq!(
        service.verify_code(&p, "register", &code, None).await,
        Err(CoreError::CodeWrong),
        "consumed"
    );
    assert_eq!(
        service
            .verify_code(&phone("13700000000"), "register", &code, None)
            .await,
        Err(CoreError::CodeNotRequested)
    );
}

#[actix_web::test]
async fn a_code_dies_after_five_wrong_guesses_and_expires() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "").await;
    let p = phone("13912345678");
    service
        .send_code(code_request(&p, "register", None))
        .await
        .unwrap();
    let code = newest_code(&service, "13912345678").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(
            service.verify_code(&p, "register", wrong, None).await,
            Err(CoreError::CodeWrong)
        );
    }
    assert_eq!(
        service.verify_code(&p, "register", &code, None).await,
        Err(CoreError::CodeWrong),
        "dead after 5"
    );
    clock.advance_ms(60_000);
    service
        .send_code(code_request(&p, "register", None))
        .await
        .unwrap();
    let fresh = newest_code(&service, "13912345678").await;
    clock.advance_ms(300_000);
    assert_eq!(
        service.verify_code(&p, "register", &fresh, None).await,
        Err(CoreError::CodeExpired)
    );
}

#[actix_web::test]
async fn fixed_and_universal_codes_are_test_hooks() {
    let db = TestDb::fresh();
    let (service, clock) =
        test_service(&db, "[testing]\nenabled = true\nfixed_code = \"0426\"\n").await;
    let p = phone("13912345678");
    let universal = Some(UniversalCode("9999"));
    // No code was sent: even the universal code is refused as "not requested".
    assert_eq!(
        service.verify_code(&p, "register", "9999", universal).await,
        Err(CoreError::CodeNotRequested)
    );
    service
        .send_code(code_request(&p, "register", None))
        .await
        .unwrap();
    assert_eq!(newest_code(&service, "13912345678").await, "0426");
    assert!(
        service
            .verify_code(&p, "register", "9999", universal)
            .await
            .is_ok()
    );
    // The sent code was consumed by it; the universal code still works while it lives…
    assert!(
        service
            .verify_code(&p, "register", "9999", universal)
            .await
            .is_ok()
    );
    // …and fails as expired once the code has expired (SealTalk's 2000 for `9999`).
    clock.advance_ms(300_000);
    assert_eq!(
        service.verify_code(&p, "register", "9999", universal).await,
        Err(CoreError::CodeExpired)
    );
}

#[actix_web::test]
async fn universal_codes_are_ignored_outside_test_mode() {
    let db = TestDb::fresh();
    let (service, _) = test_service(
        &db,
        "[testing]\nenabled = false\n[security]\nbcrypt_cost = 10\n",
    )
    .await;
    let p = phone("13912345678");
    service
        .send_code(code_request(&p, "signup", None))
        .await
        .unwrap();
    assert_eq!(
        service
            .verify_code(&p, "signup", "909", Some(UniversalCode("909")))
            .await,
        Err(CoreError::CodeWrong)
    );
}

#[actix_web::test]
async fn codes_follow_the_dialects_rules_and_preconditions() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(
        &db,
        "[sms]\ncode_ttl_seconds = 300\nresend_interval_seconds = 60\ndaily_limit_per_phone = 10\n",
    )
    .await;
    let sealtalk = SmsRules {
        code_length: 4,
        code_ttl: Some(Duration::from_secs(120)),
        resend_interval: Some(Duration::from_secs(5)),
        daily_limit_per_phone: None,
    };
    let rest = SmsRules {
        daily_limit_per_phone: Some(3),
        resend_interval: Some(Duration::from_secs(1)),
        ..SmsRules::global(6)
    };
    let p = phone("13912345678");
    let request = |rules, purpose| CodeRequest {
        rules,
        ..code_request(&p, purpose, None)
    };
    // SealTalk: 4 digits, 5 s between sends, dead after 2 minutes.
    let expires = service
        .send_code(request(sealtalk, "verify"))
        .await
        .unwrap();
    assert_eq!(expires, service.now_ms() + 120_000);
    assert_eq!(newest_code(&service, "13912345678").await.len(), 4);
    clock.advance_ms(4_000);
    assert_eq!(
        service.send_code(request(sealtalk, "verify")).await,
        Err(CoreError::SmsTooSoon)
    );
    clock.advance_ms(1_000);
    service
        .send_code(request(sealtalk, "verify"))
        .await
        .unwrap();
    let code = newest_code(&service, "13912345678").await;
    clock.advance_ms(120_000);
    assert_eq!(
        service.verify_code(&p, "verify", &code, None).await,
        Err(CoreError::CodeExpired)
    );
    // REST: three a day (the global cap is ten).
    for _ in 0..3 {
        clock.advance_ms(2_000);
        service.send_code(request(rest, "signup")).await.unwrap();
    }
    clock.advance_ms(2_000);
    assert_eq!(
        service.send_code(request(rest, "signup")).await,
        Err(CoreError::SmsDailyLimit)
    );

    // Preconditions come first: nothing is counted or sent when they fail.
    let new = phone("13800000000");
    let must = |phone_must| CodeRequest {
        phone_must,
        ..code_request(&new, "reset", None)
    };
    assert_eq!(
        service.send_code(must(PhoneMust::BeRegistered)).await,
        Err(CoreError::UserNotFound)
    );
    assert!(
        service
            .sms_outbox(Some("13800000000".into()))
            .await
            .unwrap()
            .is_empty()
    );
    register(&service, "13800000000", "pw").await;
    assert_eq!(
        service.send_code(must(PhoneMust::BeNew)).await,
        Err(CoreError::PhoneAlreadyRegistered)
    );
    assert!(
        service
            .send_code(must(PhoneMust::BeRegistered))
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn tickets_are_stable_reusable_bound_to_their_purpose_and_expire() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "").await;
    let p = phone("13912345678");
    service
        .send_code(code_request(&p, "verify", None))
        .await
        .unwrap();
    let code = newest_code(&service, "13912345678").await;
    let lifetime = Some(Duration::from_secs(600));
    let ticket = service
        .verify_code_for_ticket(&p, "verify", &code, None, lifetime, None)
        .await
        .unwrap();
    assert_eq!(ticket.ticket.len(), 36);
    clock.advance_ms(60_000);
    service
        .send_code(code_request(&p, "verify", None))
        .await
        .unwrap();
    let code = newest_code(&service, "13912345678").await;
    let again = service
        .verify_code_for_ticket(&p, "verify", &code, None, lifetime, None)
        .await
        .unwrap();
    assert_eq!(again.ticket, ticket.ticket, "one live ticket per phone");

    let proof = service
        .redeem_ticket(&ticket.ticket.to_uppercase(), "verify")
        .await
        .unwrap();
    let id = service
        .register(NewAccount::new(
            NewPhone::Verified(proof),
            plain("pw"),
            ProfilePatch::default().set(TextField::Nickname, "Tom"),
        ))
        .await
        .unwrap();
    assert_eq!(service.profile(id).await.unwrap().phone, Some(p.clone()));
    // Reusable: the same ticket resets the password later.
    let proof = service
        .redeem_ticket(&ticket.ticket, "verify")
        .await
        .unwrap();
    assert_eq!(
        service.reset_password(&proof, &plain("pw2"), false).await,
        Ok(id)
    );
    assert_eq!(
        service.redeem_ticket(&ticket.ticket, "reset").await,
        Err(CoreError::TicketUnknown),
        "bound to its purpose"
    );
    clock.advance_ms(600_000);
    assert_eq!(
        service.redeem_ticket(&ticket.ticket, "verify").await,
        Err(CoreError::TicketUnknown)
    );
    assert_eq!(
        service.redeem_ticket("not-a-ticket", "verify").await,
        Err(CoreError::TicketUnknown)
    );

    // Without a lifetime a ticket never expires (SealTalk's verification_token).
    clock.advance_ms(60_000);
    service
        .send_code(code_request(&p, "forever", None))
        .await
        .unwrap();
    let code = newest_code(&service, "13912345678").await;
    let forever = service
        .verify_code_for_ticket(&p, "forever", &code, None, None, None)
        .await
        .unwrap();
    clock.advance_ms(10 * 365 * 86_400_000);
    assert!(
        service
            .redeem_ticket(&forever.ticket, "forever")
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn repeated_wrong_passwords_lock_the_account_for_a_growing_time() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "[security]\nbcrypt_cost = 4\nlockout_threshold = 3\nlogin_attempts_per_ip_per_minute = 0\n").await;
    let id = register(&service, "13912345678", "right").await;
    let login = LoginName::Phone(phone("13912345678"));
    for _ in 0..3 {
        assert_eq!(
            service.login(&login, &plain("wrong"), None).await,
            Err(CoreError::WrongPassword)
        );
    }
    assert_eq!(
        service.login(&login, &plain("right"), None).await,
        Err(CoreError::WrongPassword),
        "locked: same answer"
    );
    clock.advance_ms(60_000);
    assert_eq!(
        service.login(&login, &plain("wrong"), None).await,
        Err(CoreError::WrongPassword)
    );
    clock.advance_ms(60_000);
    assert_eq!(
        service.login(&login, &plain("right"), None).await,
        Err(CoreError::WrongPassword),
        "second lock is longer"
    );
    clock.advance_ms(60_000);
    assert_eq!(service.login(&login, &plain("right"), None).await, Ok(id));
    assert_eq!(
        service.login(&login, &plain("wrong"), None).await,
        Err(CoreError::WrongPassword)
    );
    assert_eq!(
        service.login(&login, &plain("right"), None).await,
        Ok(id),
        "a success resets the count"
    );
}

#[actix_web::test]
async fn a_guesser_locks_out_its_own_address_not_the_owner() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "[security]\nbcrypt_cost = 4\nlockout_threshold = 3\nlogin_attempts_per_ip_per_minute = 0\n").await;
    let id = register(&service, "13912345678", "right").await;
    let login = LoginName::Phone(phone("13912345678"));
    let guesser = Some("198.51.100.9");
    for _ in 0..3 {
        assert_eq!(
            service.login(&login, &plain("wrong"), guesser).await,
            Err(CoreError::WrongPassword)
        );
    }
    assert_eq!(
        service.login(&login, &plain("right"), guesser).await,
        Err(CoreError::WrongPassword),
        "the guessing address is locked out"
    );
    assert_eq!(
        service
            .login(&login, &plain("right"), Some("203.0.113.1"))
            .await,
        Ok(id),
        "the owner elsewhere is not"
    );

    // Ten times the threshold from everywhere locks the account as a whole.
    for n in 0..30 {
        let address = format!("192.0.2.{n}");
        assert_eq!(
            service.login(&login, &plain("wrong"), Some(&address)).await,
            Err(CoreError::WrongPassword)
        );
    }
    assert_eq!(
        service
            .login(&login, &plain("right"), Some("203.0.113.1"))
            .await,
        Err(CoreError::WrongPassword),
        "past the account-wide ceiling"
    );
    clock.advance_ms(60_000);
    assert_eq!(
        service
            .login(&login, &plain("right"), Some("203.0.113.1"))
            .await,
        Ok(id),
        "for a minute"
    );
}

#[actix_web::test]
async fn simultaneous_guesses_from_one_address_are_counted_before_any_is_checked() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "[security]\nbcrypt_cost = 4\nlockout_threshold = 0\nlogin_attempts_per_ip_per_minute = 5\n").await;
    register(&service, "13912345678", "right").await;
    let login = LoginName::Phone(phone("13912345678"));
    let guesses = (0..40).map(|n| {
        let (service, login) = (service.clone(), login.clone());
        async move {
            service
                .login(&login, &plain(&format!("guess-{n}")), Some("192.0.2.7"))
                .await
        }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|a| **a == Err(CoreError::WrongPassword))
        .count();
    let throttled = answers
        .iter()
        .filter(|a| **a == Err(CoreError::LoginThrottled))
        .count();
    assert_eq!((checked, throttled), (5, 35), "{answers:?}");
}

#[actix_web::test]
async fn successful_logins_do_not_use_up_the_failure_limit() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "[security]\nbcrypt_cost = 4\nlockout_threshold = 0\nlogin_attempts_per_ip_per_minute = 2\n").await;
    let id = register(&service, "13912345678", "right").await;
    let login = LoginName::Phone(phone("13912345678"));
    let ip = Some("192.0.2.7");
    for _ in 0..5 {
        assert_eq!(service.login(&login, &plain("right"), ip).await, Ok(id));
    }
}

#[actix_web::test]
async fn guesses_at_one_account_from_many_addresses_are_bounded_but_not_the_owner() {
    let db = TestDb::fresh();
    let (service, _) = test_service(
        &db,
        "[security]\nbcrypt_cost = 4\nfailed_guesses_per_ip_per_minute = 3\n",
    )
    .await;
    let id = register(&service, "13912345678", "pw").await;
    let token = service
        .create_session(id, session_spec("code_sec"))
        .await
        .unwrap()
        .token;
    let at = |address: &'static str| Expect {
        user_id: Some(id),
        from: Some(address),
        ..Expect::NOTHING
    };
    // Ten times the per-address limit, each address staying under it.
    const ADDRESSES: [&str; 30] = [
        "192.0.2.0",
        "192.0.2.1",
        "192.0.2.2",
        "192.0.2.3",
        "192.0.2.4",
        "192.0.2.5",
        "192.0.2.6",
        "192.0.2.7",
        "192.0.2.8",
        "192.0.2.9",
        "192.0.2.10",
        "192.0.2.11",
        "192.0.2.12",
        "192.0.2.13",
        "192.0.2.14",
        "192.0.2.15",
        "192.0.2.16",
        "192.0.2.17",
        "192.0.2.18",
        "192.0.2.19",
        "192.0.2.20",
        "192.0.2.21",
        "192.0.2.22",
        "192.0.2.23",
        "192.0.2.24",
        "192.0.2.25",
        "192.0.2.26",
        "192.0.2.27",
        "192.0.2.28",
        "192.0.2.29",
    ];
    for address in ADDRESSES {
        assert_eq!(
            service.authenticate("code_sec", "wrong", at(address)).await,
            Err(CoreError::SessionNotFound)
        );
    }
    assert_eq!(
        service
            .authenticate("code_sec", &token, at("192.0.2.0"))
            .await
            .map(|s| s.user_id),
        Err(CoreError::GuessingThrottled(Guessed::Token)),
        "an address that guessed wrong is refused, the right token too"
    );
    assert_eq!(
        service
            .authenticate("code_sec", &token, at("203.0.113.1"))
            .await
            .map(|s| s.user_id),
        Ok(id),
        "the owner's address, which never failed, is not"
    );
}

#[actix_web::test]
async fn failed_logins_are_limited_per_address() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "[security]\nbcrypt_cost = 4\nlockout_threshold = 0\nlogin_attempts_per_ip_per_minute = 2\n").await;
    let id = register(&service, "13912345678", "right").await;
    let login = LoginName::Phone(phone("13912345678"));
    let ip = Some("192.0.2.7");
    assert_eq!(
        service.login(&login, &plain("x"), ip).await,
        Err(CoreError::WrongPassword)
    );
    let nobody = LoginName::Phone(phone("13800000000"));
    assert_eq!(
        service.login(&nobody, &plain("x"), ip).await,
        Err(CoreError::UserNotFound)
    );
    assert_eq!(
        service.login(&login, &plain("right"), ip).await,
        Err(CoreError::LoginThrottled)
    );
    assert_eq!(
        service
            .login(&login, &plain("right"), Some("192.0.2.8"))
            .await,
        Ok(id)
    );
    clock.advance_ms(60_000);
    assert_eq!(service.login(&login, &plain("right"), ip).await, Ok(id));
}

#[actix_web::test]
async fn bans_end_sessions_and_refuse_logins_after_the_password() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "pw").await;
    let session = service
        .create_session(id, session_spec("error_code"))
        .await
        .unwrap();
    service.set_banned(id, true).await.unwrap();
    assert_eq!(
        service
            .authenticate("error_code", &session.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );
    let login = LoginName::Phone(phone("13912345678"));
    assert_eq!(
        service.login(&login, &plain("bad"), None).await,
        Err(CoreError::WrongPassword)
    );
    assert_eq!(
        service.login(&login, &plain("pw"), None).await,
        Err(CoreError::AccountBanned)
    );
    assert!(service.profile(id).await.unwrap().banned);
    service.set_banned(id, false).await.unwrap();
    assert_eq!(service.login(&login, &plain("pw"), None).await, Ok(id));
    assert_eq!(
        service.set_banned(1, true).await,
        Err(CoreError::UserNotFound)
    );
    service.set_role(id, Role::SuperAdmin).await.unwrap();
    assert_eq!(service.profile(id).await.unwrap().role, Role::SuperAdmin);
}

#[actix_web::test]
async fn profiles_update_partially_and_move_versions() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "").await;
    let alice = register(&service, "13912345678", "pw").await;
    let bob = register(&service, "13812345678", "pw").await;
    service
        .make_friends(alice, bob, Some("Bobby".into()))
        .await
        .unwrap();
    let before_bob = service.data_versions(bob).await.unwrap();
    clock.advance_ms(10);
    let patch = ProfilePatch {
        gender: Some(Gender::Female),
        push_enabled: Some(false),
        ..ProfilePatch::default()
    }
    .set(TextField::Nickname, "Alice")
    .set(TextField::City, "4103")
    .set(TextField::BirthDecade, "80");
    service.update_profile(alice, patch).await.unwrap();
    let profile = service.profile(alice).await.unwrap();
    assert_eq!(profile.nickname, "Alice");
    assert_eq!(profile.gender, Gender::Female);
    assert_eq!(profile.city.as_deref(), Some("4103"));
    assert_eq!(profile.birth_decade.as_deref(), Some("80"));
    assert!(!profile.push_enabled);
    assert_eq!(profile.phone, Some(phone("13912345678")));
    assert_eq!(profile.updated_at, service.now_ms());
    assert_eq!(
        service.data_versions(alice).await.unwrap().user,
        service.now_ms()
    );
    assert!(
        service.data_versions(bob).await.unwrap().friendship > before_bob.friendship,
        "friends see the new nickname"
    );

    let card = service.profile_card(alice).await.unwrap();
    assert_eq!(
        (
            card.id,
            card.nickname.as_str(),
            card.gender,
            card.birth_decade.as_deref(),
            card.push_enabled,
            card.updated_at
        ),
        (
            profile.id,
            "Alice",
            Gender::Female,
            Some("80"),
            false,
            profile.updated_at
        )
    );
    assert_eq!(
        card.phone, profile.phone,
        "the card agrees with the full profile"
    );
    assert_eq!(service.profile_card(1).await, Err(CoreError::UserNotFound));

    let too_long = ProfilePatch::default().set(TextField::Nickname, "x".repeat(65));
    assert_eq!(
        service.update_profile(alice, too_long).await,
        Err(CoreError::InvalidField {
            field: Field::Profile(TextField::Nickname),
            reason: FieldReason::TooLong { max: 64 },
        })
    );
    assert_eq!(
        service.update_profile(1, ProfilePatch::default()).await,
        Err(CoreError::UserNotFound)
    );
    // Many cards in one query: ascending ids, unknown and repeated ids left out.
    let cards = service
        .profile_cards(vec![bob, 3, alice, bob])
        .await
        .unwrap();
    let listed: Vec<i64> = cards.iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![alice, bob]);
    assert_eq!(cards[0], card);
    assert_eq!(service.profile_cards(Vec::new()).await, Ok(Vec::new()));
}

#[actix_web::test]
async fn avatars_are_checked_by_content_and_size() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "pw").await;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0; 64]);
    assert_eq!(
        service
            .set_avatar(id, png.clone())
            .await
            .unwrap()
            .extension(),
        "png"
    );
    let stored = service.avatar(id).await.unwrap().unwrap();
    assert_eq!(stored.bytes, png);
    assert!(service.profile(id).await.unwrap().has_avatar_image);
    assert_eq!(
        service.set_avatar(id, b"GIF89a....".to_vec()).await,
        Err(CoreError::AvatarFormat)
    );
    let mut huge = vec![0xFF, 0xD8, 0xFF];
    huge.resize(3 * 1024 * 1024 + 1, 0);
    assert_eq!(
        service.set_avatar(id, huge).await,
        Err(CoreError::AvatarTooLarge)
    );
    assert_eq!(service.avatar(id + 1).await.unwrap(), None);
}

#[actix_web::test]
async fn the_social_graph_and_incremental_sync() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "").await;
    let me = register(&service, "13912345678", "pw").await;
    let friend = register(&service, "13812345678", "pw").await;
    let stranger = register(&service, "13712345678", "pw").await;
    let start = service.now_ms();

    // Blacklist: no friendship needed; unknown targets refused.
    clock.advance_ms(5);
    service.add_to_blacklist(me, stranger).await.unwrap();
    assert_eq!(
        service.add_to_blacklist(me, 1).await,
        Err(CoreError::UserNotFound)
    );
    assert!(service.is_blacklisted(me, stranger).await.unwrap());
    assert_eq!(service.blacklist(me).await.unwrap().len(), 1);

    clock.advance_ms(5);
    service
        .make_friends(me, friend, Some("Pal".into()))
        .await
        .unwrap();
    assert_eq!(
        service.make_friends(me, me, None).await.map_err(|_| ()),
        Err(())
    );
    let friends = service.friendships_since(me, 0).await.unwrap();
    assert_eq!(friends.len(), 1);
    assert_eq!(
        (friends[0].status, friends[0].display_name.as_str()),
        (FriendshipStatus::Agreed, "Pal")
    );

    clock.advance_ms(5);
    let group = service.create_group(me, "Team 1", None).await.unwrap();
    assert!(matches!(
        service.create_group(me, "x", None).await,
        Err(CoreError::InvalidField { .. })
    ));
    service
        .add_group_member(group, friend, GroupRole::Member, None)
        .await
        .unwrap();
    assert_eq!(
        service
            .add_group_member(group, friend, GroupRole::Member, None)
            .await,
        Err(CoreError::Forbidden)
    );
    assert_eq!(
        service
            .add_group_member(group + 1, friend, GroupRole::Member, None)
            .await,
        Err(CoreError::GroupNotFound)
    );
    let groups = service.groups_of(friend).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (
            groups[0].0.role,
            groups[0].1.member_count,
            groups[0].1.creator_id
        ),
        (GroupRole::Member, 2, me)
    );

    // Member settings: one's own freely; others' display names only as creator or manager.
    let rename = |name: &str| MemberSettings {
        display_name: Some(name.to_owned()),
        notify_mode: None,
    };
    service
        .update_member_settings(
            friend,
            group,
            friend,
            MemberSettings {
                display_name: Some("F".into()),
                notify_mode: Some(NotifyMode::Silent),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        service
            .update_member_settings(friend, group, me, rename("boss"))
            .await,
        Err(CoreError::Forbidden)
    );
    service
        .update_member_settings(me, group, friend, rename("Friend"))
        .await
        .unwrap();
    assert_eq!(
        service
            .update_member_settings(
                me,
                group,
                friend,
                MemberSettings {
                    display_name: None,
                    notify_mode: Some(NotifyMode::Notify)
                }
            )
            .await,
        Err(CoreError::Forbidden)
    );
    assert_eq!(
        service
            .update_member_settings(stranger, group, stranger, rename("s"))
            .await,
        Err(CoreError::NotGroupMember)
    );
    let members = service.group_members(group).await.unwrap();
    let friend_member = members.iter().find(|m| m.user_id == friend).unwrap();
    assert_eq!(
        (
            friend_member.display_name.as_str(),
            friend_member.notify_mode
        ),
        ("Friend", NotifyMode::Silent)
    );

    // Sync reports everything after the version, and nothing after the newest one.
    let all = service.sync_since(me, start).await.unwrap();
    assert_eq!(all.blacklist.len(), 1);
    assert_eq!(all.friends.len(), 1);
    assert_eq!(all.groups.len(), 1);
    assert_eq!(all.group_members.len(), 2);
    let latest = [
        all.versions.blacklist,
        all.versions.friendship,
        all.versions.group,
    ]
    .into_iter()
    .max()
    .unwrap();
    let nothing = service.sync_since(me, latest).await.unwrap();
    assert!(
        nothing.blacklist.is_empty()
            && nothing.friends.is_empty()
            && nothing.groups.is_empty()
            && nothing.group_members.is_empty()
    );

    clock.advance_ms(5);
    service.remove_from_blacklist(me, stranger).await.unwrap();
    assert!(service.blacklist(me).await.unwrap().is_empty());
    let removal = service.sync_since(me, latest).await.unwrap();
    assert_eq!(removal.blacklist.len(), 1);
    assert!(!removal.blacklist[0].active);
}

#[actix_web::test]
async fn a_full_hashing_queue_answers_busy() {
    let hasher = PasswordHasher::new(4, 1, Duration::from_millis(300)).unwrap();
    // The only thread is taken, whatever the machine's speed: the next hash waits out its
    // deadline and is refused.
    let held = hasher.occupy();
    let started = std::time::Instant::now();
    assert_eq!(hasher.hash("b".into()).await, Err(CoreError::Busy));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(
        hasher.verify_dummy("b".into()).await,
        Err(CoreError::Busy)
    ));
    drop(held);
    assert!(hasher.hash("b".into()).await.is_ok());
}

#[actix_web::test]
async fn webhook_failures_are_reported_and_withdraw_the_code() {
    use actix_web::{App, HttpResponse, HttpServer, web};
    // A relay that accepts one number, rate-limits another and fails for the rest.
    let relay = HttpServer::new(|| {
        App::new().route(
            "/sms",
            web::post().to(|body: web::Json<serde_json::Value>| async move {
                match body["phone"].as_str() {
                    Some("13912345678") => {
                        HttpResponse::Ok().json(serde_json::json!({"message_id": "relay-1"}))
                    }
                    Some("13812345678") => HttpResponse::TooManyRequests().finish(),
                    Some("13712345678") => HttpResponse::UnprocessableEntity().finish(),
                    _ => HttpResponse::InternalServerError().finish(),
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = relay.addrs()[0];
    let relay = relay.run();
    let relay_handle = relay.handle();
    actix_web::rt::spawn(relay);

    let db = TestDb::fresh();
    let extra = format!("[sms]\nprovider = \"webhook\"\nwebhook_url = \"http://{address}/sms\"\n");
    let (service, _) = test_service(&db, &extra).await;
    let send = |n: &'static str| {
        let service = service.clone();
        async move {
            service
                .send_code(code_request(&phone(n), "register", None))
                .await
        }
    };
    assert!(send("13912345678").await.is_ok());
    assert_eq!(send("13812345678").await, Err(CoreError::SmsTooSoon));
    assert_eq!(send("13712345678").await, Err(CoreError::SmsRejectedPhone));
    assert_eq!(send("13612345678").await, Err(CoreError::SmsSendFailed));
    // The failed code was withdrawn: asking again is not "too soon", it fails the same way.
    assert_eq!(send("13612345678").await, Err(CoreError::SmsSendFailed));
    assert_eq!(
        service
            .verify_code(&phone("13612345678"), "register", "000000", None)
            .await,
        Err(CoreError::CodeNotRequested)
    );
    // Every call is in the outbox with what came of it, the relay's receipt with the sent one.
    let outbox = service.sms_outbox(None).await.unwrap();
    let seen: Vec<(&str, &str, &str, Option<&str>)> = outbox
        .iter()
        .map(|m| {
            (
                m.phone.as_str(),
                m.provider.as_str(),
                m.outcome.as_str(),
                m.message_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("13612345678", "webhook", "failed", None),
            ("13612345678", "webhook", "failed", None),
            ("13712345678", "webhook", "invalid_phone", None),
            ("13812345678", "webhook", "rate_limited", None),
            ("13912345678", "webhook", "sent", Some("relay-1")),
        ]
    );
    assert_eq!(outbox[0].detail.as_deref(), Some("HTTP 500"));
    relay_handle.stop(false).await;

    // An unreachable relay is a failure too, never swallowed.
    let db = TestDb::fresh();
    let (service, _) = test_service(
        &db,
        "[sms]\nprovider = \"webhook\"\nwebhook_url = \"http://127.0.0.1:9/sms\"\n",
    )
    .await;
    assert_eq!(
        service
            .send_code(code_request(&phone("13912345678"), "register", None))
            .await,
        Err(CoreError::SmsSendFailed)
    );
}

#[actix_web::test]
async fn expired_sessions_are_purged_a_day_after_expiry() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "pw").await;
    let short = service
        .create_session(id, session_spec("error_code"))
        .await
        .unwrap();
    let long = service
        .create_session(
            id,
            SessionSpec {
                ttl: Duration::from_secs(7 * 86_400),
                ..session_spec("error_code")
            },
        )
        .await
        .unwrap();
    clock.advance_ms(3_600_000 + 86_400_000 - 1);
    assert_eq!(
        service.purge_expired().await.unwrap().0,
        0,
        "kept a day so clients still hear 'expired'"
    );
    assert_eq!(
        service
            .authenticate("error_code", &short.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionExpired)
    );
    clock.advance_ms(2);
    assert_eq!(service.purge_expired().await.unwrap().0, 1);
    assert_eq!(
        service
            .authenticate("error_code", &short.token, Expect::NOTHING)
            .await,
        Err(CoreError::SessionNotFound)
    );
    assert!(
        service
            .authenticate("error_code", &long.token, Expect::NOTHING)
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn code_length_is_the_dialects_choice_within_four_to_six() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let p = phone("13912345678");
    let short = CodeRequest {
        rules: SmsRules::global(4),
        ..code_request(&p, "verify", None)
    };
    service.send_code(short).await.unwrap();
    assert_eq!(newest_code(&service, "13912345678").await.len(), 4);
    for bad in [3, 7] {
        let q = phone("13812345678");
        let request = CodeRequest {
            rules: SmsRules::global(bad),
            ..code_request(&q, "verify", None)
        };
        assert!(
            matches!(
                service.send_code(request).await,
                Err(CoreError::Internal(_))
            ),
            "{bad}"
        );
    }
}

#[actix_web::test]
async fn concurrent_writes_all_land_and_a_refused_one_takes_none_along() {
    // On SQLite these share commits (one writer, a savepoint each): every acknowledged write is
    // there, and the refused ones — a profile edit of nobody, an invalid edit — change nothing.
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let mut ids = Vec::new();
    for n in 0..20 {
        ids.push(register(&service, &format!("139000000{n:02}"), "pw").await);
    }
    let writes: Vec<_> = ids
        .iter()
        .enumerate()
        .flat_map(|(n, &id)| {
            let edit = service.clone();
            let token = service.clone();
            let nobody = service.clone();
            let invalid = service.clone();
            [
                actix_web::rt::spawn(async move {
                    let patch = ProfilePatch::default().set(TextField::City, format!("city{n}"));
                    edit.update_profile(id, patch).await
                }),
                actix_web::rt::spawn(
                    async move { token.set_im_token(id, format!("token{n}")).await },
                ),
                actix_web::rt::spawn(async move { nobody.set_im_token(1, "x".into()).await }),
                actix_web::rt::spawn(async move {
                    let patch = ProfilePatch::default().set(TextField::Nickname, " ");
                    invalid.update_profile(id, patch).await
                }),
            ]
        })
        .collect();
    let outcomes = futures_util::future::join_all(writes).await;
    for (index, outcome) in outcomes.into_iter().enumerate() {
        let outcome = outcome.unwrap();
        match index % 4 {
            0 | 1 => assert_eq!(outcome, Ok(()), "write {index}"),
            2 => assert_eq!(outcome, Err(CoreError::UserNotFound)),
            _ => assert!(outcome.is_err(), "write {index}"),
        }
    }
    for (n, &id) in ids.iter().enumerate() {
        let profile = service.profile(id).await.unwrap();
        assert_eq!(profile.city.as_deref(), Some(format!("city{n}").as_str()));
        assert_eq!(profile.im_token, Some(format!("token{n}")));
        assert!(!profile.nickname.trim().is_empty());
    }
}

#[actix_web::test]
async fn the_im_token_is_kept_on_the_profile() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "pw").await;
    assert_eq!(service.profile(id).await.unwrap().im_token, None);
    service
        .set_im_token(id, "C4nEgo1TK0Ly6zUr".into())
        .await
        .unwrap();
    assert_eq!(
        service.profile(id).await.unwrap().im_token.as_deref(),
        Some("C4nEgo1TK0Ly6zUr")
    );
    assert_eq!(
        service.set_im_token(1, "x".into()).await,
        Err(CoreError::UserNotFound)
    );
}

#[actix_web::test]
async fn sessions_check_the_claimed_user_and_the_bound_client() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let id = register(&service, "13912345678", "pw").await;
    let other = register(&service, "13812345678", "pw").await;
    let bound = service
        .create_session(
            id,
            SessionSpec {
                client_id: Some("F9FQXGP8FCM5".into()),
                ..session_spec("struts")
            },
        )
        .await
        .unwrap();
    let check = |expect: Expect<'static>| {
        let service = service.clone();
        let token = bound.token.clone();
        async move { service.authenticate("struts", &token, expect).await }
    };
    assert_eq!(check(Expect::NOTHING).await.map(|s| s.user_id), Ok(id));
    let user = |user_id| Expect {
        user_id: Some(user_id),
        ..Expect::NOTHING
    };
    assert!(check(user(id)).await.is_ok());
    assert_eq!(check(user(other)).await, Err(CoreError::SessionNotFound));
    let client = |client_id| Expect {
        client_id: Some(client_id),
        ..Expect::NOTHING
    };
    assert!(check(client("F9FQXGP8FCM5")).await.is_ok());
    assert_eq!(
        check(client("ANOTHERPHONE")).await,
        Err(CoreError::SessionNotFound)
    );
    // A session bound to no client accepts any.
    let unbound = service
        .create_session(id, session_spec("struts"))
        .await
        .unwrap();
    assert!(
        service
            .authenticate("struts", &unbound.token, client("ANOTHERPHONE"))
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn a_nickname_can_be_made_from_the_new_id() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let account = NewAccount {
        nickname_from_id: Some(|id| format!("小时候用户{id}")),
        ..NewAccount::new(
            NewPhone::Unverified(phone("13912345678")),
            plain("pw"),
            ProfilePatch::default(),
        )
    };
    let id = service.register(account).await.unwrap();
    assert_eq!(
        service.profile(id).await.unwrap().nickname,
        format!("小时候用户{id}")
    );
    // A nickname the client gave wins.
    let named = NewAccount {
        nickname_from_id: Some(|id| format!("小时候用户{id}")),
        ..NewAccount::new(
            NewPhone::Unverified(phone("13812345678")),
            plain("pw"),
            ProfilePatch::default().set(TextField::Nickname, "Tom"),
        )
    };
    let tom = service.register(named).await.unwrap();
    assert_eq!(service.profile(tom).await.unwrap().nickname, "Tom");
}

#[actix_web::test]
async fn recommenders_resolve_by_id_or_phone_and_render_as_a_phone() {
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let recommender = register(&service, "13912345678", "pw").await;
    let user = register(&service, "13812345678", "pw").await;
    for sent in [recommender.to_string(), "13912345678".to_owned()] {
        let resolved = service.resolve_recommender(&sent).await.unwrap();
        assert_eq!(resolved, Recommender::User(recommender), "{sent}");
        service
            .update_profile(user, ProfilePatch::default().recommender(resolved))
            .await
            .unwrap();
        let profile = service.profile(user).await.unwrap();
        assert_eq!(profile.recommender_id, Some(recommender));
        assert_eq!(
            service.recommender_phone(&profile).await.unwrap(),
            Some(phone("13912345678"))
        );
    }
    let unknown = service.resolve_recommender(" 13700000000 ").await.unwrap();
    assert_eq!(unknown, Recommender::Unresolved("13700000000".into()));
    service
        .update_profile(user, ProfilePatch::default().recommender(unknown))
        .await
        .unwrap();
    let profile = service.profile(user).await.unwrap();
    assert_eq!(profile.recommender_id, None);
    assert_eq!(profile.recommender_raw.as_deref(), Some("13700000000"));
    assert_eq!(service.recommender_phone(&profile).await.unwrap(), None);
}

/// A buffer that a tracing subscriber writes into, for reading what was logged.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn internal_errors_are_logged_once_by_the_core_with_the_request_id() {
    use tracing::Instrument;
    let db = TestDb::fresh();
    let (service, _) = test_service(&db, "").await;
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let p = phone("13912345678");
    let bad = CodeRequest {
        rules: SmsRules::global(9),
        ..code_request(&p, "register", None)
    };
    let span = tracing::info_span!("request", id = "req-4711");
    let result = service.send_code(bad).instrument(span).await;
    assert!(matches!(result, Err(CoreError::Internal(_))));
    let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert_eq!(logged.matches("internal error").count(), 1, "{logged}");
    assert!(logged.contains("req-4711"), "{logged}");
    assert!(logged.contains("code length 9"), "{logged}");
}

#[actix_web::test]
async fn image_codes_are_drawn_checked_once_and_expire() {
    let db = TestDb::fresh();
    let (service, clock) = test_service(&db, "").await;
    let lifetime = Duration::from_secs(300);
    let issued = service.new_image_code(4, lifetime).await.unwrap();
    assert_eq!(issued.code.len(), 4);
    assert_eq!(issued.expires_at, service.now_ms() + 300_000);
    let picture = service
        .image_code_picture(&issued.verify_id)
        .await
        .unwrap()
        .expect("a picture");
    assert!(picture.starts_with(b"\x89PNG\r\n\x1a\n"));
    // A right code passes once; the picture is gone with it.
    assert_eq!(
        service
            .check_image_code(&issued.verify_id, &issued.code)
            .await,
        Ok(())
    );
    assert_eq!(
        service
            .check_image_code(&issued.verify_id, &issued.code)
            .await,
        Err(CoreError::CodeNotRequested)
    );
    assert_eq!(
        service.image_code_picture(&issued.verify_id).await,
        Ok(None)
    );
    // A wrong guess uses the code up too.
    let guessed = service.new_image_code(4, lifetime).await.unwrap();
    let wrong = if guessed.code == "0000" {
        "1111"
    } else {
        "0000"
    };
    assert_eq!(
        service.check_image_code(&guessed.verify_id, wrong).await,
        Err(CoreError::CodeWrong)
    );
    assert_eq!(
        service
            .check_image_code(&guessed.verify_id, &guessed.code)
            .await,
        Err(CoreError::CodeNotRequested)
    );
    // Expired codes neither draw nor pass, and the janitor forgets them.
    let late = service.new_image_code(6, lifetime).await.unwrap();
    assert_eq!(late.code.len(), 6);
    clock.advance_ms(300_000);
    assert_eq!(service.image_code_picture(&late.verify_id).await, Ok(None));
    let kept = service.new_image_code(5, lifetime).await.unwrap();
    assert_eq!(service.purge_expired().await.unwrap().1, 1);
    assert_eq!(
        service.check_image_code(&late.verify_id, &late.code).await,
        Err(CoreError::CodeNotRequested)
    );
    assert_eq!(
        service.check_image_code(&kept.verify_id, &kept.code).await,
        Ok(())
    );
    assert!(matches!(
        service.new_image_code(3, lifetime).await,
        Err(CoreError::Internal(_))
    ));
}

/// Imported legacy hashes: an md5 or a plain password becomes the canonical credential at once;
/// a SealTalk digest or a bcrypt of the plain password opens to the plain password only, and is
/// replaced by the canonical credential at that first login, after which the md5 form (struts,
/// code_sec) opens it too.
#[actix_web::test]
async fn legacy_hashes_open_to_the_plain_password_and_are_upgraded() {
    use rosetta::domain::credential::sealtalk_digest;
    use rosetta::service::accounts::LegacyPassword;
    let db = TestDb::fresh();
    let (service, _clock) = test_service(&db, "").await;
    let phone = Phone::mainland("13900000001").unwrap();
    let id = service
        .register(NewAccount::new(
            NewPhone::Unverified(phone.clone()),
            PasswordInput::Plain("initial".into()),
            ProfilePatch::default(),
        ))
        .await
        .unwrap();
    let name = LoginName::Phone(phone);
    let plain = |p: &str| PasswordInput::Plain(p.to_owned());
    let md5 = |p: &str| PasswordInput::ClientMd5(md5_hex(p.as_bytes()));

    for (legacy, password) in [
        (
            LegacyPassword::SealtalkSha1 {
                digest: sealtalk_digest("123456", "1234"),
                salt: "1234".into(),
            },
            "123456",
        ),
        (
            LegacyPassword::Bcrypt(bcrypt::hash("s3cret-pw", 4).unwrap()),
            "s3cret-pw",
        ),
    ] {
        service.set_legacy_password(id, legacy).await.unwrap();
        assert_eq!(
            service.login(&name, &md5(password), None).await,
            Err(CoreError::WrongPassword),
            "an md5 cannot open a legacy hash"
        );
        assert_eq!(
            service.login(&name, &plain("wrong"), None).await,
            Err(CoreError::WrongPassword)
        );
        assert!(service.check_password(id, &plain(password)).await.unwrap());
        assert_eq!(service.login(&name, &plain(password), None).await, Ok(id));
        assert_eq!(
            service.login(&name, &md5(password), None).await,
            Ok(id),
            "upgraded to the canonical credential"
        );
    }

    for (legacy, password) in [
        (
            LegacyPassword::Md5Hex(md5_hex(b"abc123").to_uppercase()),
            "abc123",
        ),
        (LegacyPassword::Plain("pl41n-text".into()), "pl41n-text"),
    ] {
        service.set_legacy_password(id, legacy).await.unwrap();
        assert_eq!(service.login(&name, &md5(password), None).await, Ok(id));
        assert_eq!(service.login(&name, &plain(password), None).await, Ok(id));
    }

    assert!(matches!(
        service
            .set_legacy_password(id, LegacyPassword::Bcrypt("not-bcrypt".into()))
            .await,
        Err(CoreError::InvalidField { .. })
    ));
    assert_eq!(
        service
            .set_legacy_password(999_999, LegacyPassword::Plain("x".into()))
            .await,
        Err(CoreError::UserNotFound)
    );
}

/// Importing legacy users keeps their ids, refuses what another account holds, changes nothing
/// the second time, and new accounts continue after the largest id on both backends.
#[actix_web::test]
async fn imported_users_keep_their_ids_and_import_twice_changes_nothing() {
    use rosetta::service::accounts::{Duplicate, ImportOutcome, ImportedUser, LegacyPassword};
    let db = TestDb::fresh();
    let (service, _clock) = test_service(&db, "").await;
    let user = |id: i64, phone: &str| ImportedUser {
        id,
        phone: Some(Phone::mainland(phone).unwrap()),
        username: None,
        profile: ProfilePatch::default().set(TextField::Nickname, "legacy"),
        role: Role::Service,
        banned: false,
        password: LegacyPassword::Md5Hex(md5_hex(b"123456")),
        created_at: Some(1_400_000_000_000),
    };
    assert_eq!(
        service.import_user(user(4, "13900000004")).await,
        Ok(ImportOutcome::Imported)
    );
    assert_eq!(
        service.import_user(user(250_000, "13900000005")).await,
        Ok(ImportOutcome::Imported)
    );
    assert_eq!(
        service.import_user(user(4, "13900000004")).await,
        Ok(ImportOutcome::AlreadyPresent)
    );
    assert_eq!(
        service.import_user(user(4, "13900000006")).await,
        Ok(ImportOutcome::Duplicate(Duplicate::Id))
    );
    assert_eq!(
        service.import_user(user(7, "13900000004")).await,
        Ok(ImportOutcome::Duplicate(Duplicate::Phone))
    );
    let named = ImportedUser {
        phone: None,
        username: Some(Username::parse("lisi").unwrap()),
        ..user(8, "13900000008")
    };
    assert_eq!(
        service.import_user(named.clone()).await,
        Ok(ImportOutcome::Imported)
    );
    assert_eq!(
        service.import_user(ImportedUser { id: 9, ..named }).await,
        Ok(ImportOutcome::Duplicate(Duplicate::Username))
    );
    assert!(
        !service.user_exists(7).await.unwrap(),
        "a duplicate writes nothing"
    );

    let login = LoginName::Phone(Phone::mainland("13900000004").unwrap());
    assert_eq!(
        service
            .login(&login, &PasswordInput::ClientMd5(md5_hex(b"123456")), None)
            .await,
        Ok(4)
    );
    let profile = service.profile(4).await.unwrap();
    assert_eq!(
        (profile.nickname.as_str(), profile.role, profile.created_at),
        ("legacy", Role::Service, 1_400_000_000_000)
    );

    let next = service
        .register(NewAccount::new(
            NewPhone::Unverified(Phone::mainland("13900000009").unwrap()),
            PasswordInput::Plain("pw".into()),
            ProfilePatch::default(),
        ))
        .await
        .unwrap();
    assert_eq!(
        next, 250_001,
        "the id sequence continues after the largest imported id"
    );
}

/// A read of the caller's own profile finds the session and the profile in one statement; it
/// refuses exactly as `authenticate` does, with the guessing bound on and off.
#[actix_web::test]
async fn the_callers_profile_comes_with_its_session_and_the_same_refusals() {
    use rosetta::service::profiles::Whose;
    for config in ["", "[security]\nfailed_guesses_per_ip_per_minute = 0\n"] {
        let db = TestDb::fresh();
        let (service, clock) = test_service(&db, config).await;
        let id = register(&service, "13912345678", "pw").await;
        let other = register(&service, "13912345679", "pw").await;
        let issued = service
            .create_session(id, session_spec("struts"))
            .await
            .unwrap();
        let from = Expect {
            from: Some("198.51.100.7"),
            ..Expect::NOTHING
        };
        let read = |token: String, expect: Expect<'static>, whose: Whose| {
            let service = service.clone();
            async move {
                service
                    .authenticated_profile("struts", &token, expect, whose)
                    .await
                    .map(|(session, profile)| (session.user_id, profile.map(|p| p.id)))
            }
        };
        assert_eq!(
            read(issued.token.clone(), from, Whose::Caller).await,
            Ok((id, Some(id))),
            "{config}"
        );
        assert_eq!(
            read(issued.token.clone(), from, Whose::User(other)).await,
            Ok((id, Some(other)))
        );
        let profile = service
            .authenticated_profile("struts", &issued.token, from, Whose::Caller)
            .await
            .unwrap()
            .1
            .unwrap();
        assert_eq!(profile.nickname, "user 13912345678");
        assert_eq!(profile.phone, Some(phone("13912345678")));
        for (token, expect, refusal) in [
            ("wrong".to_owned(), from, CoreError::SessionNotFound),
            (
                issued.token.clone(),
                Expect {
                    user_id: Some(other),
                    ..from
                },
                CoreError::SessionNotFound,
            ),
            (String::new(), from, CoreError::SessionNotFound),
        ] {
            assert_eq!(read(token, expect, Whose::Caller).await, Err(refusal));
        }
        // In another dialect the token names nothing.
        assert_eq!(
            service
                .authenticated_profile("code_sec", &issued.token, from, Whose::Caller)
                .await
                .map(|_| ()),
            Err(CoreError::SessionNotFound)
        );
        // A banned user's session is refused even where one was opened after the ban.
        service.set_banned(other, true).await.unwrap();
        let banned = service
            .create_session(other, session_spec("struts"))
            .await
            .unwrap();
        assert_eq!(
            read(banned.token, from, Whose::Caller).await,
            Err(CoreError::SessionNotFound)
        );
        clock.advance_ms(3_600_000);
        assert_eq!(
            read(issued.token.clone(), from, Whose::Caller).await,
            Err(CoreError::SessionExpired)
        );
    }
}
