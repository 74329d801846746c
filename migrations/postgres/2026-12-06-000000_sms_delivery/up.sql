-- Every provider's deliveries go to the outbox, each attempt with what became of it: the
-- provider that took it, the outcome (sent, rate_limited, invalid_phone, failed), the provider's
-- receipt and request ids, and its own code and message. Rows written before are the `log`
-- provider's, all sent.
ALTER TABLE sms_outbox ADD COLUMN provider TEXT NOT NULL DEFAULT 'log';
ALTER TABLE sms_outbox ADD COLUMN outcome TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE sms_outbox ADD COLUMN message_id TEXT;
ALTER TABLE sms_outbox ADD COLUMN request_id TEXT;
ALTER TABLE sms_outbox ADD COLUMN detail TEXT;
