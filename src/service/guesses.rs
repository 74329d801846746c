//! Guessing bounds for what a stranger might try to guess — session tokens and SMS codes: the
//! wrong ones are counted per client address (and per account, when the request names one),
//! and past the limit every attempt is refused for the rest of the minute, a right guess too.
//! Both the check and the count run inside the caller's database work, so a bounded guess
//! costs no extra round trip.

use super::LoginPolicy;
use crate::domain::{CoreError, Guessed, UserId};
use crate::storage::sessions::CounterKey;
use crate::storage::{self, DbConnection};

const MINUTE_MS: i64 = 60_000;
const PER_ADDRESS: &str = "guess_ip";
const PER_ACCOUNT: &str = "guess_user";
/// Failures against one account, from all addresses together, before the addresses that keep
/// failing are refused: this many times the per-address limit.
const ACCOUNT_FACTOR: i64 = 10;

/// Who is guessing, and at what.
pub(crate) struct Guesser {
    address: String,
    account: Option<UserId>,
    limit: i64,
    minute: i64,
    what: Guessed,
}

impl Guesser {
    /// `None` when there is nothing to bound: no client address, or no limit configured.
    pub(crate) fn new(
        policy: &LoginPolicy,
        address: Option<&str>,
        account: Option<UserId>,
        now_ms: i64,
        what: Guessed,
    ) -> Option<Guesser> {
        let limit = i64::from(policy.guesses_per_ip_per_minute);
        let address = address.filter(|_| limit > 0)?;
        Some(Guesser {
            address: address.to_owned(),
            account,
            limit,
            minute: now_ms.div_euclid(MINUTE_MS) * MINUTE_MS,
            what,
        })
    }

    /// Refuses the attempt when the address has guessed wrong too often this minute, or when
    /// the account it names has been guessed at too often and this address is among those
    /// failing (an owner whose attempts succeed is never refused for others' guesses).
    pub(crate) fn check(&self, conn: &mut DbConnection) -> Result<(), CoreError> {
        let from_here = storage::sms::counter_value(conn, PER_ADDRESS, &self.address, self.minute)?;
        self.check_counted(conn, from_here)
    }

    /// The counter of this address's wrong guesses this minute, for a caller that reads it
    /// along with something else (then [`Guesser::check_counted`]).
    pub(crate) fn address_counter(&self) -> CounterKey<'_> {
        (PER_ADDRESS, &self.address, self.minute)
    }

    /// [`Guesser::check`], the address's count already read.
    pub(crate) fn check_counted(
        &self,
        conn: &mut DbConnection,
        from_here: i32,
    ) -> Result<(), CoreError> {
        let from_here = i64::from(from_here);
        if from_here >= self.limit {
            return Err(CoreError::GuessingThrottled(self.what));
        }
        if let Some(account) = self.account
            && from_here > 0
        {
            let against = i64::from(storage::sms::counter_value(
                conn,
                PER_ACCOUNT,
                &account.to_string(),
                self.minute,
            )?);
            if against >= self.limit.saturating_mul(ACCOUNT_FACTOR) {
                return Err(CoreError::GuessingThrottled(self.what));
            }
        }
        Ok(())
    }

    /// Counts a wrong guess.
    pub(crate) fn failed(&self, conn: &mut DbConnection) -> Result<(), CoreError> {
        storage::sms::hit_counter(conn, PER_ADDRESS, &self.address, self.minute)?;
        if let Some(account) = self.account {
            storage::sms::hit_counter(conn, PER_ACCOUNT, &account.to_string(), self.minute)?;
        }
        Ok(())
    }
}
