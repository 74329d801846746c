ALTER TABLE sms_outbox DROP COLUMN detail;
ALTER TABLE sms_outbox DROP COLUMN request_id;
ALTER TABLE sms_outbox DROP COLUMN message_id;
ALTER TABLE sms_outbox DROP COLUMN outcome;
ALTER TABLE sms_outbox DROP COLUMN provider;
