-- Expired throttle windows are purged by age a batch at a time: without this index every
-- batch would read the whole table.
CREATE INDEX throttle_counters_by_window ON throttle_counters (window_start);
