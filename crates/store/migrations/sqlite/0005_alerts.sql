-- Ongoing device problems as the notifier told them (R-33), so that what was told,
-- re-notifying until someone acknowledges, and acknowledgements survive restarts and
-- are shared by every node; and the kind and acknowledgement of each notification.

CREATE TABLE device_alerts (
    device_id        TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    site_id          TEXT NOT NULL,
    name             TEXT NOT NULL,
    level            TEXT NOT NULL,
    reasons          TEXT NOT NULL,
    opened_at        BIGINT NOT NULL,
    last_told_at     BIGINT NOT NULL,
    reminders        INTEGER NOT NULL,
    acknowledged_at  BIGINT,
    acknowledged_by  TEXT,
    version          BIGINT NOT NULL
);
CREATE INDEX device_alerts_open ON device_alerts (acknowledged_at, last_told_at);

ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'exception';
ALTER TABLE notifications ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE notifications ADD COLUMN acknowledged_by TEXT;
CREATE INDEX notifications_device ON notifications (device_id, acknowledged_at);
