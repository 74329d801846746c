//! The storage story, one test per part: every table written and read through the storage
//! functions, on SQLite always and on PostgreSQL when `ROSETTA_TEST_DATABASE_URL` is set, each
//! part in a fresh database.

mod support;

use std::time::Duration;

use rosetta::domain::CoreError;
use rosetta::storage::models::{
    BlacklistRow, CredentialRow, FriendshipRow, MemberRow, SessionRow, SmsCodeRow, UserChanges,
};
use rosetta::storage::social::VersionKind;
use rosetta::storage::{self, DatabaseUrl, DbConnection, write_tx};
use support::TestDb;

fn connect(db: &TestDb) -> (storage::Pool, storage::PooledConnection) {
    let url = DatabaseUrl::parse(&db.url).expect("url");
    let pool =
        storage::build_pool(&url, 2, Duration::from_secs(10), Default::default()).expect("pool");
    let mut conn = pool.get().expect("connection");
    let applied = storage::run_migrations(&mut conn).expect("migrations");
    assert_eq!(
        applied,
        vec![
            "20261121000000".to_owned(),
            "20261201000000".to_owned(),
            "20261202000000".to_owned(),
            "20261203000000".to_owned(),
            "20261204000000".to_owned(),
            "20261205000000".to_owned(),
            "20261206000000".to_owned(),
        ]
    );
    assert!(
        storage::run_migrations(&mut conn)
            .expect("again")
            .is_empty(),
        "migrations are idempotent"
    );
    (pool, conn)
}

fn new_user(conn: &mut DbConnection, nickname: &str) -> i64 {
    storage::users::insert_user(
        conn,
        &UserChanges {
            nickname: Some(nickname.to_owned()),
            created_at: Some(1),
            updated_at: Some(1),
            ..UserChanges::default()
        },
    )
    .expect("insert user")
}

/// Runs `check` on a fresh, migrated database of every backend: each part of the story has
/// its own test, so the first failure does not hide the rest.
fn on_every_backend(check: impl Fn(&mut DbConnection)) {
    for db in TestDb::every_backend() {
        let (_pool, mut conn) = connect(&db);
        check(&mut conn);
    }
}

/// Users: ids start at 100000; identities are unique.
#[test]
fn users_and_identities() {
    on_every_backend(|conn| {
        let alice = new_user(conn, "alice");
        let bob = new_user(conn, "bob");
        assert_eq!((alice, bob), (100_000, 100_001));
        assert_eq!(
            storage::users::claim_phone(conn, alice, "86", "13912345678").unwrap(),
            Some(())
        );
        assert_eq!(
            storage::users::claim_phone(conn, bob, "86", "13912345678").unwrap(),
            None
        );
        assert_eq!(
            storage::users::claim_username(conn, alice, "alice@x.cn", "Alice@X.cn").unwrap(),
            Some(())
        );
        assert_eq!(
            storage::users::claim_username(conn, bob, "alice@x.cn", "alice@x.cn").unwrap(),
            None
        );
        assert_eq!(
            storage::users::find_by_phone(conn, "86", "13912345678").unwrap(),
            Some(alice)
        );
        assert_eq!(
            storage::users::find_by_username(conn, "alice@x.cn").unwrap(),
            Some(alice)
        );
        assert_eq!(
            storage::users::find_by_phone(conn, "86", "13900000000").unwrap(),
            None
        );

        let record = storage::users::load(conn, alice).unwrap().expect("alice");
        assert_eq!(record.row.nickname, "alice");
        assert_eq!(
            record.phone,
            Some(("86".to_owned(), "13912345678".to_owned()))
        );
        assert_eq!(record.username.as_deref(), Some("Alice@X.cn"));
        assert!(!record.has_avatar);
        assert!(record.row.push_enabled);
        assert!(storage::users::load(conn, 1).unwrap().is_none());

        let changes = UserChanges {
            city: Some("4103".into()),
            gender: Some(2),
            recommender_id: Some(Some(bob)),
            updated_at: Some(5),
            ..UserChanges::default()
        };
        assert_eq!(storage::users::update(conn, alice, &changes).unwrap(), 1);
        let row = storage::users::load(conn, alice).unwrap().unwrap().row;
        assert_eq!(
            (
                row.city.as_deref(),
                row.gender,
                row.recommender_id,
                row.nickname.as_str()
            ),
            (Some("4103"), 2, Some(bob), "alice")
        );
        let (card, phone) = storage::users::load_card(conn, alice)
            .unwrap()
            .expect("card");
        assert_eq!(
            (card.0, card.1.as_str(), card.3, card.7),
            (alice, "alice", 2, true)
        );
        assert_eq!(phone, Some(("86".to_owned(), "13912345678".to_owned())));
        assert_eq!(
            storage::users::load_card(conn, bob)
                .unwrap()
                .expect("card")
                .1,
            None
        );
        assert!(storage::users::load_card(conn, 7).unwrap().is_none());
        let cards: Vec<i64> = storage::users::load_cards(conn, &[bob, 7, alice])
            .unwrap()
            .iter()
            .map(|(card, _)| card.0)
            .collect();
        assert_eq!(
            cards,
            vec![alice, bob],
            "one query, ascending, unknown left out"
        );
    });
}

/// Credentials and lockout counters.
#[test]
fn credentials_and_lockout_counters() {
    on_every_backend(|conn| {
        let alice = new_user(conn, "alice");
        new_user(conn, "bob");
        storage::users::insert_credential(
            conn,
            &CredentialRow {
                user_id: alice,
                password_hash: "h1".into(),
                failed_attempts: 0,
                locked_until: 0,
                last_login_at: None,
                updated_at: 1,
            },
        )
        .unwrap();
        assert_eq!(storage::users::count_failed_login(conn, alice).unwrap(), 1);
        assert_eq!(storage::users::count_failed_login(conn, alice).unwrap(), 2);
        storage::users::lock_until(conn, alice, 99).unwrap();
        storage::users::record_login(conn, alice, 50).unwrap();
        let credential = storage::users::load_credential(conn, alice)
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                credential.failed_attempts,
                credential.locked_until,
                credential.last_login_at
            ),
            (0, 0, Some(50))
        );
        assert_eq!(
            storage::users::set_password(conn, alice, "h2", 60).unwrap(),
            1
        );
        assert_eq!(
            storage::users::load_credential(conn, alice)
                .unwrap()
                .unwrap()
                .password_hash,
            "h2"
        );
    });
}

/// Sessions, found only by hash and dialect.
#[test]
fn sessions_are_found_by_hash_and_dialect() {
    on_every_backend(|conn| {
        let alice = new_user(conn, "alice");
        new_user(conn, "bob");
        let session = SessionRow {
            token_hash: "abc".into(),
            user_id: alice,
            dialect: "error_code".into(),
            client_id: Some("F9FQXGP8FCM5".into()),
            created_at: 1,
            expires_at: 10,
        };
        storage::sessions::insert(conn, &session).unwrap();
        storage::sessions::insert(
            conn,
            &SessionRow {
                token_hash: "def".into(),
                dialect: "struts".into(),
                ..session.clone()
            },
        )
        .unwrap();
        let (found, banned) = storage::sessions::find(conn, "abc", "error_code")
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.user_id, found.client_id.as_deref(), banned),
            (alice, Some("F9FQXGP8FCM5"), false)
        );
        assert!(
            storage::sessions::find(conn, "abc", "struts")
                .unwrap()
                .is_none()
        );
        assert_eq!(
            storage::sessions::delete_of_user_in_dialect(conn, alice, "struts").unwrap(),
            1
        );
        assert_eq!(storage::sessions::purge_expired(conn, 5, 100).unwrap(), 0);
        assert_eq!(storage::sessions::purge_expired(conn, 11, 100).unwrap(), 1);
        storage::sessions::insert(conn, &session).unwrap();
        assert_eq!(
            storage::sessions::delete_all_of_user(conn, alice).unwrap(),
            1
        );
        // Purges go a bounded batch at a time, and only take what expired.
        for n in 0..25 {
            let expired = SessionRow {
                token_hash: format!("expired-{n}"),
                expires_at: 10,
                ..session.clone()
            };
            storage::sessions::insert(conn, &expired).unwrap();
        }
        let alive = SessionRow {
            token_hash: "alive".into(),
            expires_at: 1_000,
            ..session.clone()
        };
        storage::sessions::insert(conn, &alive).unwrap();
        let batches: Vec<usize> = (0..4)
            .map(|_| storage::sessions::purge_expired(conn, 11, 10).unwrap())
            .collect();
        assert_eq!(batches, [10, 10, 5, 0]);
        assert!(
            storage::sessions::find(conn, "alive", "error_code")
                .unwrap()
                .is_some()
        );
        assert_eq!(storage::sessions::delete(conn, "alive").unwrap(), 1);
        for hash in ["keep", "drop1", "drop2"] {
            let row = SessionRow {
                token_hash: hash.into(),
                ..session.clone()
            };
            storage::sessions::insert(conn, &row).unwrap();
        }
        assert_eq!(
            storage::sessions::delete_all_of_user_except(conn, alice, Some("keep")).unwrap(),
            2
        );
        assert!(
            storage::sessions::find(conn, "keep", "error_code")
                .unwrap()
                .is_some()
        );
        assert_eq!(
            storage::sessions::delete_all_of_user_except(conn, alice, None).unwrap(),
            1
        );
    });
}

/// SMS codes: the resend interval is enforced by a conditional write.
#[test]
fn sms_codes_respect_the_resend_interval() {
    on_every_backend(|conn| {
        let code = SmsCodeRow {
            region: "86".into(),
            phone: "13912345678".into(),
            purpose: "register".into(),
            code: "123456".into(),
            sent_at: 1_000,
            expires_at: 301_000,
            failed_attempts: 0,
            consumed: false,
        };
        assert!(
            storage::sms::put_code_if_idle(conn, &code, 0).unwrap(),
            "first code"
        );
        let again = SmsCodeRow {
            code: "654321".into(),
            sent_at: 2_000,
            ..code.clone()
        };
        assert!(
            !storage::sms::put_code_if_idle(conn, &again, 500).unwrap(),
            "too soon"
        );
        assert!(
            storage::sms::put_code_if_idle(conn, &again, 1_000).unwrap(),
            "interval passed"
        );
        let stored = storage::sms::find_code(conn, "86", "13912345678", "register")
            .unwrap()
            .unwrap();
        assert_eq!((stored.code.as_str(), stored.sent_at), ("654321", 2_000));
        assert_eq!(storage::sms::count_wrong_code(conn, &stored).unwrap(), 1);
        storage::sms::consume_code(conn, &stored).unwrap();
        assert!(
            storage::sms::find_code(conn, "86", "13912345678", "register")
                .unwrap()
                .unwrap()
                .consumed
        );
        storage::sms::withdraw_code(conn, "86", "13912345678", "register").unwrap();
        assert!(
            storage::sms::find_code(conn, "86", "13912345678", "register")
                .unwrap()
                .is_none()
        );
    });
}

/// Throttle counters and the outbox.
#[test]
fn throttle_counters_and_the_outbox() {
    on_every_backend(|conn| {
        assert_eq!(storage::sms::hit_counter(conn, "s", "k", 0).unwrap(), 1);
        assert_eq!(storage::sms::hit_counter(conn, "s", "k", 0).unwrap(), 2);
        assert_eq!(storage::sms::hit_counter(conn, "s", "k", 60).unwrap(), 1);
        assert_eq!(storage::sms::counter_value(conn, "s", "k", 0).unwrap(), 2);
        assert_eq!(
            storage::sms::counter_value(conn, "s", "other", 0).unwrap(),
            0
        );
        assert_eq!(storage::sms::purge_counters(conn, 30, 100).unwrap(), 1);
        let row = |sent_at, code| storage::models::NewOutboxRow {
            region: "86",
            phone: "13912345678",
            code,
            purpose: "register",
            dialect: "struts",
            message: "m",
            sent_at,
            provider: "log",
            outcome: "sent",
            message_id: None,
            request_id: None,
            detail: None,
        };
        storage::sms::push_outbox(conn, &[row(1, "111111"), row(3, "333333")]).unwrap();
        let failed = storage::models::NewOutboxRow {
            provider: "aliyun",
            outcome: "failed",
            request_id: Some("r-1"),
            detail: Some("isv.AMOUNT_NOT_ENOUGH: 账户余额不足"),
            ..row(2, "222222")
        };
        let sent = storage::models::NewOutboxRow {
            provider: "tencent",
            message_id: Some("5000:1"),
            ..row(2, "222222")
        };
        storage::sms::push_outbox(conn, &[failed, sent]).unwrap();
        let newest_first: Vec<String> = storage::sms::outbox(conn, Some("13912345678"), 10)
            .unwrap()
            .into_iter()
            .map(|r| {
                format!(
                    "{} {} {} {:?} {:?}",
                    r.code, r.provider, r.outcome, r.message_id, r.detail
                )
            })
            .collect();
        assert_eq!(
            newest_first,
            [
                "333333 log sent None None",
                "222222 tencent sent Some(\"5000:1\") None",
                "222222 aliyun failed None Some(\"isv.AMOUNT_NOT_ENOUGH: 账户余额不足\")",
                "111111 log sent None None",
            ]
        );
        assert!(
            storage::sms::outbox(conn, Some("13800000000"), 10)
                .unwrap()
                .is_empty()
        );
    });
}

/// Blacklist, friendships, versions.
#[test]
fn blacklist_friendships_and_versions() {
    on_every_backend(|conn| {
        let alice = new_user(conn, "alice");
        let bob = new_user(conn, "bob");
        storage::social::put_blacklist(
            conn,
            &BlacklistRow {
                user_id: alice,
                target_id: bob,
                active: true,
                updated_at: 10,
            },
        )
        .unwrap();
        assert!(storage::social::is_blacklisted(conn, alice, bob).unwrap());
        storage::social::put_blacklist(
            conn,
            &BlacklistRow {
                user_id: alice,
                target_id: bob,
                active: false,
                updated_at: 20,
            },
        )
        .unwrap();
        assert!(!storage::social::is_blacklisted(conn, alice, bob).unwrap());
        assert_eq!(
            storage::social::blacklist_since(conn, alice, 15)
                .unwrap()
                .len(),
            1,
            "removals stay visible to sync"
        );
        assert!(
            storage::social::active_blacklist(conn, alice)
                .unwrap()
                .is_empty()
        );
        storage::social::put_friendship(
            conn,
            &FriendshipRow {
                user_id: bob,
                friend_id: alice,
                display_name: "A".into(),
                message: String::new(),
                status: 20,
                updated_at: 30,
            },
        )
        .unwrap();
        assert_eq!(
            storage::social::agreed_friends_of(conn, alice, 20).unwrap(),
            vec![bob]
        );
        assert_eq!(
            storage::social::friendships_since(conn, bob, 29)
                .unwrap()
                .len(),
            1
        );
        assert!(
            storage::social::friendships_since(conn, bob, 30)
                .unwrap()
                .is_empty()
        );
        storage::social::bump_versions(conn, &[alice, bob], VersionKind::Friendship, 40).unwrap();
        storage::social::bump_versions(conn, &[alice], VersionKind::GroupMember, 41).unwrap();
        let versions = storage::social::versions(conn, alice).unwrap().unwrap();
        assert_eq!(
            (
                versions.friendship_version,
                versions.group_version,
                versions.group_member_version
            ),
            (40, 41, 41)
        );
    });
}

/// Groups and members.
#[test]
fn groups_and_members() {
    on_every_backend(|conn| {
        let alice = new_user(conn, "alice");
        let bob = new_user(conn, "bob");
        let group = storage::groups::insert_group(conn, "Team 1", "", alice, 500, 50).unwrap();
        assert_eq!(group, 100_000);
        let member = MemberRow {
            group_id: group,
            user_id: alice,
            display_name: String::new(),
            role: 0,
            notify_mode: 1,
            deleted: false,
            updated_at: 50,
        };
        assert!(storage::groups::put_member(conn, &member).unwrap());
        assert!(
            !storage::groups::put_member(conn, &member).unwrap(),
            "already a member"
        );
        assert!(
            storage::groups::put_member(
                conn,
                &MemberRow {
                    user_id: bob,
                    role: 1,
                    ..member.clone()
                }
            )
            .unwrap()
        );
        assert_eq!(storage::groups::member_count(conn, group).unwrap(), 2);
        storage::groups::update_member_settings(conn, group, bob, Some("B"), Some(2), 60).unwrap();
        let bob_member = storage::groups::member(conn, group, bob).unwrap().unwrap();
        assert_eq!(
            (
                bob_member.display_name.as_str(),
                bob_member.notify_mode,
                bob_member.updated_at
            ),
            ("B", 2, 60)
        );
        assert_eq!(storage::groups::memberships_of(conn, bob).unwrap().len(), 1);
        assert_eq!(storage::groups::members_of(conn, group).unwrap().len(), 2);
        let other = storage::groups::insert_group(conn, "Team 2", "", bob, 500, 51).unwrap();
        assert_eq!(
            storage::groups::member_counts(conn, &[group, other, 7]).unwrap(),
            vec![(group, 2)],
            "a group without members has no row"
        );
        let members: Vec<(i64, i64)> = storage::groups::members_of_groups(conn, &[other, group])
            .unwrap()
            .iter()
            .map(|m| (m.group_id, m.user_id))
            .collect();
        assert_eq!(members, vec![(group, alice), (group, bob)]);
    });
}

/// Avatars are bytes in the database, up to the 3 MiB limit.
#[test]
fn avatars_are_bytes_in_the_database() {
    on_every_backend(|conn| {
        let alice = new_user(conn, "alice");
        new_user(conn, "bob");
        let image: Vec<u8> = (0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        storage::avatars::put(conn, alice, "png", &image, 70).unwrap();
        storage::avatars::put(conn, alice, "png", &image, 71).unwrap();
        let (format, bytes, updated_at) = storage::avatars::get(conn, alice).unwrap().unwrap();
        assert_eq!(
            (format.as_str(), bytes.len(), updated_at),
            ("png", image.len(), 71)
        );
        assert_eq!(bytes, image);
        assert!(
            storage::users::load(conn, alice)
                .unwrap()
                .unwrap()
                .has_avatar
        );
    });
}

/// A failed write transaction leaves nothing behind.
#[test]
fn a_failed_write_transaction_leaves_nothing() {
    on_every_backend(|conn| {
        // Two users first, so the rolled-back one would have been 100002.
        new_user(conn, "alice");
        new_user(conn, "bob");
        let failed: Result<(), CoreError> = write_tx(conn, |conn| {
            new_user(conn, "ghost");
            Err(CoreError::Forbidden)
        });
        assert_eq!(failed, Err(CoreError::Forbidden));
        assert!(storage::users::load(conn, 100_002).unwrap().is_none());
        let committed: Result<i64, CoreError> = write_tx(conn, |conn| Ok(new_user(conn, "carol")));
        // Reads in one transaction see one state (and PostgreSQL refuses writes in it).
        let read: Result<bool, CoreError> =
            storage::read_tx(conn, |conn| Ok(storage::users::exists(conn, 100_000)?));
        assert_eq!(read, Ok(true));
        assert!(storage::users::exists(conn, committed.unwrap()).unwrap());
    });
}

#[test]
fn concurrent_counters_lose_no_hit() {
    for db in TestDb::every_backend() {
        let (pool, _conn) = connect(&db);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let mut conn = pool.get().expect("connection");
                    for _ in 0..10 {
                        write_tx(&mut conn, |c| {
                            storage::sms::hit_counter(c, "race", "k", 0).map_err(CoreError::from)
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let mut conn = pool.get().unwrap();
        assert_eq!(
            storage::sms::counter_value(&mut conn, "race", "k", 0).unwrap(),
            80,
            "postgres={}",
            db.is_postgres()
        );
    }
}

#[test]
fn a_bad_url_is_refused_with_its_reason() {
    assert!(DatabaseUrl::parse("mysql://x").is_err());
    let missing_dir = DatabaseUrl::parse("sqlite:///nonexistent-dir/x/y.db").unwrap();
    let Err(err) = storage::build_pool(&missing_dir, 1, Duration::from_secs(1), Default::default())
    else {
        panic!("a database in a missing directory was opened");
    };
    assert!(
        err.to_string().contains("cannot open the database"),
        "{err}"
    );
}

#[test]
fn connections_opened_together_on_a_fresh_file_all_succeed() {
    use diesel::r2d2::ManageConnection;
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(&format!(
            "sqlite://{}",
            dir.path().join("fresh.db").display()
        ))
        .unwrap();
        let manager = std::sync::Arc::new(storage::DbManager::new(url));
        let openers: Vec<_> = (0..8)
            .map(|_| {
                let manager = manager.clone();
                std::thread::spawn(move || manager.connect().map(|_| ()).map_err(|e| e.to_string()))
            })
            .collect();
        for opener in openers {
            assert_eq!(opener.join().unwrap(), Ok(()));
        }
    }
}
