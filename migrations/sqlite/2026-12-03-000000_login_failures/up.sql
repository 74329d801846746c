-- Wrong passwords per (account, client address): an address that keeps guessing locks itself
-- out of the account, not the account's owner elsewhere. The account-wide counter in
-- `credentials` only locks everyone at a much higher ceiling.
CREATE TABLE login_failures (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, address)
);
CREATE INDEX login_failures_by_age ON login_failures (updated_at);
