-- Every table of the account core (SQLite). Times are epoch milliseconds.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    nickname TEXT NOT NULL DEFAULT '',
    real_name TEXT,
    avatar_url TEXT,
    gender INTEGER NOT NULL DEFAULT 0,
    age TEXT,
    birth_decade TEXT,
    signature TEXT,
    contact_phone TEXT,
    country TEXT,
    province TEXT,
    city TEXT,
    district TEXT,
    street TEXT,
    company TEXT,
    company_logo TEXT,
    company_address TEXT,
    industry TEXT,
    job_title TEXT,
    education TEXT,
    school TEXT,
    identity_card TEXT,
    qq_number TEXT,
    recommender_id BIGINT,
    recommender_raw TEXT,
    profile_completed BOOLEAN NOT NULL DEFAULT FALSE,
    role INTEGER NOT NULL DEFAULT 0,
    banned BOOLEAN NOT NULL DEFAULT FALSE,
    push_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    im_token TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE phone_identities (
    region TEXT NOT NULL,
    number TEXT NOT NULL,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (region, number)
);

CREATE TABLE username_identities (
    username_key TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    user_id BIGINT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE
);

CREATE TABLE credentials (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_login_at BIGINT,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dialect TEXT NOT NULL,
    client_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, dialect);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE sms_codes (
    region TEXT NOT NULL,
    phone TEXT NOT NULL,
    purpose TEXT NOT NULL,
    code TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    consumed BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (region, phone, purpose)
);

CREATE TABLE verification_tickets (
    ticket TEXT NOT NULL PRIMARY KEY,
    region TEXT NOT NULL,
    phone TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX verification_tickets_by_phone ON verification_tickets (region, phone, purpose);

CREATE TABLE throttle_counters (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (scope, subject, window_start)
);

CREATE TABLE sms_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    region TEXT NOT NULL,
    phone TEXT NOT NULL,
    code TEXT NOT NULL,
    purpose TEXT NOT NULL,
    dialect TEXT NOT NULL,
    message TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX sms_outbox_by_phone ON sms_outbox (phone, sent_at);

CREATE TABLE blacklist (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    active BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, target_id)
);

CREATE TABLE friendships (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    friend_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, friend_id)
);

CREATE TABLE chat_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    portrait_uri TEXT NOT NULL DEFAULT '',
    creator_id BIGINT NOT NULL REFERENCES users (id),
    bulletin TEXT,
    max_member_count INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    role INTEGER NOT NULL,
    notify_mode INTEGER NOT NULL DEFAULT 1,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

CREATE TABLE data_versions (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    user_version BIGINT NOT NULL DEFAULT 0,
    blacklist_version BIGINT NOT NULL DEFAULT 0,
    friendship_version BIGINT NOT NULL DEFAULT 0,
    group_version BIGINT NOT NULL DEFAULT 0,
    group_member_version BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE avatars (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    format TEXT NOT NULL,
    bytes BLOB NOT NULL,
    updated_at BIGINT NOT NULL
);

-- User and group ids start at 100000 (the ids in the documents' samples are of that size).
INSERT INTO sqlite_sequence (name, seq) VALUES ('users', 99999);
INSERT INTO sqlite_sequence (name, seq) VALUES ('chat_groups', 99999);
