//! Sessions for every dialect: random tokens, stored only as their SHA-256, with an expiry.

use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Service;
use super::guesses::Guesser;
use crate::domain::token::TokenShape;
use crate::domain::{CoreError, Guessed, UserId, credential::to_hex};
use crate::storage::models::{FoundSession, SessionRow};
use crate::storage::sessions::CounterKey;
use crate::storage::{self, DbConnection};

/// How a dialect wants its sessions.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub dialect: &'static str,
    pub shape: TokenShape,
    pub ttl: Duration,
    /// The client or device id the session is bound to (`client` header, `xid`).
    pub client_id: Option<String>,
    /// One current session per user in this dialect: a new one revokes the older ones.
    pub single_per_user: bool,
}

/// What a dialect's request claims beside its token, checked against the session.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expect<'a> {
    /// The user id sent with the token (`code_sec`'s `uid` beside `sec`).
    pub user_id: Option<UserId>,
    /// The client or device id sent with the token (`struts`'s `client` header).
    pub client_id: Option<&'a str>,
    /// The client's address: wrong tokens are counted per address (and per claimed user), and
    /// past the limit every attempt is refused with `GuessingThrottled`.
    pub from: Option<&'a str>,
}

impl Expect<'_> {
    /// The token alone.
    pub const NOTHING: Expect<'static> = Expect {
        user_id: None,
        client_id: None,
        from: None,
    };
}

/// Whether a stored session (and whether its user is banned) answers a request that claims
/// `claimed` and `client_id`.
fn judge(
    row: FoundSession,
    banned: bool,
    claimed: Option<UserId>,
    client_id: Option<&str>,
    now: i64,
) -> Result<SessionInfo, CoreError> {
    if banned || claimed.is_some_and(|claimed| claimed != row.user_id) {
        return Err(CoreError::SessionNotFound);
    }
    // A session bound to a client refuses another client; a request that names none, or a
    // session bound to none, is accepted (the `struts` document's leniency).
    if let (Some(sent), Some(bound)) = (client_id, row.client_id.as_deref())
        && sent != bound
    {
        return Err(CoreError::SessionNotFound);
    }
    if now >= row.expires_at {
        return Err(CoreError::SessionExpired);
    }
    Ok(SessionInfo {
        user_id: row.user_id,
        client_id: row.client_id,
        expires_at: row.expires_at,
    })
}

/// A stored session as a lookup finds it: the row, whether its user is banned, this minute's
/// wrong guesses from the client's address (`None`: none, or not read), and what else the
/// lookup read with it.
pub(crate) type Found<X> = (FoundSession, bool, Option<i32>, X);

/// A freshly issued session; `token` is shown to the client once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: String,
    pub user_id: UserId,
    pub expires_at: i64,
}

/// An authenticated request's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub user_id: UserId,
    pub client_id: Option<String>,
    pub expires_at: i64,
}

/// A session as an operator sees it: where and when, never its token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionSummary {
    pub dialect: String,
    pub client_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// The most sessions of one user an operator is shown.
const LISTED_SESSIONS: i64 = 100;

pub fn token_hash(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

impl Service {
    pub async fn create_session(
        &self,
        user_id: UserId,
        spec: SessionSpec,
    ) -> Result<IssuedSession, CoreError> {
        let mut bytes = vec![0u8; spec.shape.random_bytes()];
        rand::rng().fill_bytes(&mut bytes);
        let token = spec.shape.render(&bytes);
        let now = self.now_ms();
        let ttl_ms = i64::try_from(spec.ttl.as_millis()).unwrap_or(i64::MAX);
        let row = SessionRow {
            token_hash: token_hash(&token),
            user_id,
            dialect: spec.dialect.to_owned(),
            client_id: spec.client_id,
            created_at: now,
            expires_at: now.saturating_add(ttl_ms),
        };
        let expires_at = row.expires_at;
        let single = spec.single_per_user;
        self.write(move |conn| {
            if single {
                storage::sessions::delete_of_user_in_dialect(conn, user_id, &row.dialect)?;
            }
            storage::sessions::insert(conn, &row).map_err(CoreError::from)
        })
        .await?;
        Ok(IssuedSession {
            token,
            user_id,
            expires_at,
        })
    }

    /// A user's valid sessions, newest first (`UserNotFound` for nobody).
    pub async fn live_sessions(&self, user_id: UserId) -> Result<Vec<SessionSummary>, CoreError> {
        let now = self.now_ms();
        let rows = self
            .db(move |conn| {
                if !storage::users::exists(conn, user_id)? {
                    return Err(CoreError::UserNotFound);
                }
                storage::sessions::live_of_user(conn, user_id, now, LISTED_SESSIONS)
                    .map_err(CoreError::from)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(dialect, client_id, created_at, expires_at)| SessionSummary {
                    dialect,
                    client_id,
                    created_at,
                    expires_at,
                },
            )
            .collect())
    }

    /// The session a token names in a dialect: `SessionNotFound` for unknown, revoked or banned,
    /// or when it does not meet `expect` (another user than the one claimed, another client
    /// than the one it is bound to); `SessionExpired` past its expiry.
    pub async fn authenticate(
        &self,
        dialect: &'static str,
        token: &str,
        expect: Expect<'_>,
    ) -> Result<SessionInfo, CoreError> {
        self.authenticated(dialect, token, expect, |_, _| Ok(()))
            .await
            .map(|(session, ())| session)
    }

    /// Checks the session as [`Service::authenticate`] does and, when it holds, runs the read
    /// `then` for it on the same connection: the check and the read cost one round trip. A
    /// refused session answers its refusal and reads nothing.
    pub(crate) async fn authenticated<T, F>(
        &self,
        dialect: &'static str,
        token: &str,
        expect: Expect<'_>,
        then: F,
    ) -> Result<(SessionInfo, T), CoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection, &SessionInfo) -> Result<T, CoreError> + Send + 'static,
    {
        self.authenticated_by(
            token,
            expect,
            move |conn, hash, counter| {
                Ok(match counter {
                    None => storage::sessions::find(conn, hash, dialect)?
                        .map(|(row, banned)| (row, banned, None, ())),
                    Some(counter) => {
                        storage::sessions::find_counting(conn, hash, dialect, counter)?
                            .map(|(row, banned, hits)| (row, banned, hits, ()))
                    }
                })
            },
            move |conn, session, ()| then(conn, session),
        )
        .await
    }

    /// The session check of [`Service::authenticated`] with the session found by `lookup` (in
    /// its dialect, by the token's hash, reading along the guessing counter it is given, if any),
    /// which may read more in the same statement (`X`, handed to `then` once the session holds).
    pub(crate) async fn authenticated_by<X, T, L, F>(
        &self,
        token: &str,
        expect: Expect<'_>,
        lookup: L,
        then: F,
    ) -> Result<(SessionInfo, T), CoreError>
    where
        T: Send + 'static,
        L: FnOnce(
                &mut DbConnection,
                &str,
                Option<CounterKey<'_>>,
            ) -> Result<Option<Found<X>>, CoreError>
            + Send
            + 'static,
        F: FnOnce(&mut DbConnection, &SessionInfo, X) -> Result<T, CoreError> + Send + 'static,
    {
        if token.is_empty() {
            return Err(CoreError::SessionNotFound);
        }
        let hash = token_hash(token);
        let now = self.now_ms();
        let guesser = Guesser::new(
            &self.config().login,
            expect.from,
            expect.user_id,
            now,
            Guessed::Token,
        );
        let claimed = expect.user_id;
        let client_id = expect.client_id.map(str::to_owned);
        let (verdict, guesser) = self
            .db(move |conn| {
                let found = lookup(conn, &hash, guesser.as_ref().map(Guesser::address_counter))?;
                if let Some(guesser) = &guesser {
                    // The guessing check reads its counter with the session; without a
                    // session it reads it alone. Either way before the session is judged.
                    match &found {
                        Some((_, _, hits, _)) => guesser.check_counted(conn, hits.unwrap_or(0))?,
                        None => guesser.check(conn)?,
                    }
                }
                let verdict = match found {
                    None => Err(CoreError::SessionNotFound),
                    Some((row, banned, _, extra)) => {
                        match judge(row, banned, claimed, client_id.as_deref(), now) {
                            Ok(session) => {
                                let read = then(conn, &session, extra)?;
                                Ok((session, read))
                            }
                            Err(refusal) => Err(refusal),
                        }
                    }
                };
                Ok((verdict, guesser))
            })
            .await?;
        if verdict.is_err()
            && let Some(guesser) = guesser
        {
            // A wrong guess is counted before the refusal goes out.
            self.write(move |conn| guesser.failed(conn)).await?;
        }
        verdict
    }

    /// Revokes one session; false when there was none.
    pub async fn revoke_session(&self, token: &str) -> Result<bool, CoreError> {
        let hash = token_hash(token);
        self.write(move |conn| Ok(storage::sessions::delete(conn, &hash)? > 0))
            .await
    }

    /// Revokes every session of a user in every dialect.
    pub async fn revoke_all_sessions(&self, user_id: UserId) -> Result<usize, CoreError> {
        self.write(move |conn| {
            storage::sessions::delete_all_of_user(conn, user_id).map_err(CoreError::from)
        })
        .await
    }
}
