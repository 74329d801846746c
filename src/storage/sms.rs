//! SMS codes, verification tickets, throttle counters and the outbox (every delivery attempt).

use diesel::prelude::*;

use super::models::{NewOutboxRow, OutboxRow, SmsCodeRow, TicketRow};
use super::schema::{sms_codes, sms_outbox, throttle_counters, verification_tickets};
use super::{DbConnection, insert_or_conflict};

pub fn find_code(
    conn: &mut DbConnection,
    region: &str,
    phone: &str,
    purpose: &str,
) -> QueryResult<Option<SmsCodeRow>> {
    sms_codes::table
        .filter(sms_codes::region.eq(region))
        .filter(sms_codes::phone.eq(phone))
        .filter(sms_codes::purpose.eq(purpose))
        .select(SmsCodeRow::as_select())
        .first(conn)
        .optional()
}

/// Stores a fresh code for `(phone, purpose)` unless the previous one was sent after
/// `idle_since` (the resend interval). The conditional update is atomic, so two concurrent
/// requests cannot both send. Returns false when the interval has not passed.
pub fn put_code_if_idle(
    conn: &mut DbConnection,
    row: &SmsCodeRow,
    idle_since: i64,
) -> QueryResult<bool> {
    loop {
        let updated = diesel::update(
            sms_codes::table
                .filter(sms_codes::region.eq(&row.region))
                .filter(sms_codes::phone.eq(&row.phone))
                .filter(sms_codes::purpose.eq(&row.purpose))
                .filter(sms_codes::sent_at.le(idle_since)),
        )
        .set((
            sms_codes::code.eq(&row.code),
            sms_codes::sent_at.eq(row.sent_at),
            sms_codes::expires_at.eq(row.expires_at),
            sms_codes::failed_attempts.eq(0),
            sms_codes::consumed.eq(false),
        ))
        .execute(conn)?;
        if updated > 0 {
            return Ok(true);
        }
        if find_code(conn, &row.region, &row.phone, &row.purpose)?.is_some() {
            return Ok(false);
        }
        let inserted = insert_or_conflict(conn, |c| {
            diesel::insert_into(sms_codes::table).values(row).execute(c)
        })?;
        if inserted.is_some() {
            return Ok(true);
        }
    }
}

pub fn count_wrong_code(conn: &mut DbConnection, row: &SmsCodeRow) -> QueryResult<i32> {
    diesel::update(
        sms_codes::table
            .filter(sms_codes::region.eq(&row.region))
            .filter(sms_codes::phone.eq(&row.phone))
            .filter(sms_codes::purpose.eq(&row.purpose)),
    )
    .set(sms_codes::failed_attempts.eq(sms_codes::failed_attempts + 1))
    .returning(sms_codes::failed_attempts)
    .get_result(conn)
}

pub fn consume_code(conn: &mut DbConnection, row: &SmsCodeRow) -> QueryResult<()> {
    diesel::update(
        sms_codes::table
            .filter(sms_codes::region.eq(&row.region))
            .filter(sms_codes::phone.eq(&row.phone))
            .filter(sms_codes::purpose.eq(&row.purpose)),
    )
    .set(sms_codes::consumed.eq(true))
    .execute(conn)
    .map(|_| ())
}

/// Withdraws a code whose SMS never left, so the user may ask again at once.
pub fn withdraw_code(
    conn: &mut DbConnection,
    region: &str,
    phone: &str,
    purpose: &str,
) -> QueryResult<()> {
    diesel::delete(
        sms_codes::table
            .filter(sms_codes::region.eq(region))
            .filter(sms_codes::phone.eq(phone))
            .filter(sms_codes::purpose.eq(purpose)),
    )
    .execute(conn)
    .map(|_| ())
}

pub fn insert_ticket(conn: &mut DbConnection, row: &TicketRow) -> QueryResult<()> {
    diesel::insert_into(verification_tickets::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_ticket(conn: &mut DbConnection, ticket: &str) -> QueryResult<Option<TicketRow>> {
    verification_tickets::table
        .filter(verification_tickets::ticket.eq(ticket))
        .select(TicketRow::as_select())
        .first(conn)
        .optional()
}

/// The newest unexpired ticket of `(phone, purpose)`, so a phone keeps one stable ticket.
pub fn live_ticket(
    conn: &mut DbConnection,
    region: &str,
    phone: &str,
    purpose: &str,
    now: i64,
) -> QueryResult<Option<TicketRow>> {
    verification_tickets::table
        .filter(verification_tickets::region.eq(region))
        .filter(verification_tickets::phone.eq(phone))
        .filter(verification_tickets::purpose.eq(purpose))
        .filter(verification_tickets::expires_at.gt(now))
        .order(verification_tickets::created_at.desc())
        .select(TicketRow::as_select())
        .first(conn)
        .optional()
}

/// Adds one hit to a fixed-window counter and returns the new count. Works under concurrency:
/// the update takes a row lock, and a lost insert race falls back to the update.
pub fn hit_counter(
    conn: &mut DbConnection,
    scope: &str,
    subject: &str,
    window_start: i64,
) -> QueryResult<i32> {
    loop {
        let updated: Option<i32> = diesel::update(
            throttle_counters::table
                .filter(throttle_counters::scope.eq(scope))
                .filter(throttle_counters::subject.eq(subject))
                .filter(throttle_counters::window_start.eq(window_start)),
        )
        .set(throttle_counters::hits.eq(throttle_counters::hits + 1))
        .returning(throttle_counters::hits)
        .get_result(conn)
        .optional()?;
        if let Some(hits) = updated {
            return Ok(hits);
        }
        let inserted = insert_or_conflict(conn, |c| {
            diesel::insert_into(throttle_counters::table)
                .values((
                    throttle_counters::scope.eq(scope),
                    throttle_counters::subject.eq(subject),
                    throttle_counters::window_start.eq(window_start),
                    throttle_counters::hits.eq(1),
                ))
                .execute(c)
        })?;
        if inserted.is_some() {
            return Ok(1);
        }
    }
}

/// Takes one hit back (an attempt counted up front that turned out not to count).
pub fn refund_counter(
    conn: &mut DbConnection,
    scope: &str,
    subject: &str,
    window_start: i64,
) -> QueryResult<()> {
    diesel::update(
        throttle_counters::table
            .filter(throttle_counters::scope.eq(scope))
            .filter(throttle_counters::subject.eq(subject))
            .filter(throttle_counters::window_start.eq(window_start))
            .filter(throttle_counters::hits.gt(0)),
    )
    .set(throttle_counters::hits.eq(throttle_counters::hits - 1))
    .execute(conn)
    .map(|_| ())
}

/// Forgets counters of windows that started before `cutoff`.
pub fn purge_counters(conn: &mut DbConnection, cutoff: i64, limit: u32) -> QueryResult<usize> {
    super::delete_some(
        conn,
        "throttle_counters",
        "window_start < $1",
        &[cutoff],
        limit,
    )
}

/// Adds a delivery's attempts (a few at most: a retry, a fallback).
pub fn push_outbox(conn: &mut DbConnection, rows: &[NewOutboxRow<'_>]) -> QueryResult<()> {
    for row in rows {
        diesel::insert_into(sms_outbox::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// The outbox, newest first, optionally for one national number.
pub fn outbox(
    conn: &mut DbConnection,
    phone: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let mut query = sms_outbox::table
        .select(OutboxRow::as_select())
        .order((sms_outbox::sent_at.desc(), sms_outbox::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(phone) = phone {
        query = query.filter(sms_outbox::phone.eq(phone));
    }
    query.load(conn)
}

/// The hits of a fixed-window counter so far (0 when it has none).
pub fn counter_value(
    conn: &mut DbConnection,
    scope: &str,
    subject: &str,
    window_start: i64,
) -> QueryResult<i32> {
    on_backend!(conn, |conn| throttle_counters::table
        .filter(throttle_counters::scope.eq(scope))
        .filter(throttle_counters::subject.eq(subject))
        .filter(throttle_counters::window_start.eq(window_start))
        .select(throttle_counters::hits)
        .first(conn)
        .optional())
    .map(|hits| hits.unwrap_or(0))
}
