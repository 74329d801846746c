-- Image codes (captchas) a client must copy before an SMS code is sent to it. Times are epoch
-- milliseconds; a code is deleted by its first check, right or wrong.
CREATE TABLE image_codes (
    verify_id TEXT NOT NULL PRIMARY KEY,
    code TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX image_codes_by_expiry ON image_codes (expires_at);
