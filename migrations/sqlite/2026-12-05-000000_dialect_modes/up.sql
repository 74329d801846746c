-- A dialect's mode as the admin API last set it (serve, shadow or proxy, with the legacy
-- backend's URL). Every gateway process on the database follows it over its settings file, so
-- one call switches them all; deleting the row hands the dialect back to the file.
CREATE TABLE dialect_modes (
    dialect TEXT NOT NULL PRIMARY KEY,
    mode TEXT NOT NULL,
    legacy_url TEXT,
    changed_at BIGINT NOT NULL
);
