-- Health monitoring (R-23 to R-33): the latest status of each device, its history,
-- the inspection schedule, and manual inspections with their progress.

CREATE TABLE device_health (
    device_id          TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    company_id         TEXT NOT NULL,
    site_id            TEXT NOT NULL,
    level              TEXT NOT NULL CHECK (level IN ('normal', 'unknown', 'warning', 'abnormal', 'offline')),
    level_rank         INTEGER NOT NULL,
    reasons            TEXT NOT NULL,
    observation        TEXT NOT NULL,
    last_inspected_at  BIGINT,
    next_due_at        BIGINT NOT NULL,
    offline_streak     INTEGER NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX device_health_due ON device_health (next_due_at);
CREATE INDEX device_health_company ON device_health (company_id, level_rank);

CREATE TABLE health_history (
    id         TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    at         BIGINT NOT NULL,
    level      TEXT NOT NULL,
    reasons    TEXT NOT NULL
);
CREATE INDEX health_history_device ON health_history (device_id, id);

CREATE TABLE inspections (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    requested_by  TEXT,
    scope         TEXT NOT NULL CHECK (scope IN ('device', 'site', 'all')),
    scope_id      TEXT,
    state         TEXT NOT NULL CHECK (state IN ('running', 'done')),
    total         BIGINT NOT NULL,
    done          BIGINT NOT NULL,
    failures      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    finished_at   BIGINT
);
