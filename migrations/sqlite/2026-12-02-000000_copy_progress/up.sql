-- Where an unfinished `rosetta copy` into this database stands, so that running it again goes
-- on from there: the source it copies from, and per table the key of the last row copied. Empty
-- except while a copy is under way (a verified copy clears it).
CREATE TABLE copy_progress (
    item TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
