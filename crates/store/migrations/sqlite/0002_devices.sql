-- Devices in sites (R-6, R-14, R-18). The password or verification code is stored
-- sealed (AES-256-GCM under the master key), never in clear.

CREATE TABLE devices (
    id                    TEXT PRIMARY KEY,
    company_id            TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    site_id               TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    serial                TEXT NOT NULL UNIQUE,
    name                  TEXT NOT NULL,
    brand                 TEXT NOT NULL,
    model                 TEXT NOT NULL,
    device_type           TEXT NOT NULL CHECK (device_type IN ('ipc', 'nvr', 'dvr', 'control_panel', 'access_control', 'video_intercom', 'doorbell')),
    firmware              TEXT,
    mac                   TEXT,
    connection            TEXT NOT NULL CHECK (connection IN ('ip', 'link')),
    host                  TEXT,
    port                  INTEGER,
    https                 BOOLEAN NOT NULL,
    accept_invalid_certs  BOOLEAN NOT NULL,
    username              TEXT,
    secret                TEXT NOT NULL,
    online                BOOLEAN NOT NULL,
    last_seen_at          BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX devices_site ON devices (site_id, id);
CREATE INDEX devices_company ON devices (company_id, id);
