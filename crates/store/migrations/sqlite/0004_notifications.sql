-- Notifications (R-33): exception rules, the notifications people read in the portal,
-- the company's webhook, and the queue of outgoing deliveries (webhook, e-mail).

CREATE TABLE exception_rules (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    site_id     TEXT,
    device_id   TEXT,
    exceptions  TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    channels    TEXT NOT NULL,
    schedule    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX exception_rules_company ON exception_rules (company_id, id);

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site_id     TEXT,
    device_id   TEXT,
    level       TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, id);

CREATE TABLE webhooks (
    company_id  TEXT PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    company_id       TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    notification_id  TEXT,
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    target           TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
