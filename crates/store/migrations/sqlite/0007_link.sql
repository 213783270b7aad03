-- The device link (R-14, R-19): devices added by serial number and verification
-- code that have not connected yet, and per linked device the event counter the
-- server has stored up to, so a resent event is stored once.

CREATE TABLE pending_links (
    serial      TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    site_id     TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name        TEXT,
    secret      TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('waiting', 'refused')),
    reason      TEXT,
    added_by    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX pending_links_site ON pending_links (site_id);

ALTER TABLE devices ADD COLUMN link_epoch TEXT;
ALTER TABLE devices ADD COLUMN link_seq BIGINT NOT NULL DEFAULT 0;
-- The serial number a linked device proves itself with (as on its label; the
-- device's own deviceInfo may report a longer form).
ALTER TABLE devices ADD COLUMN link_serial TEXT;
CREATE UNIQUE INDEX devices_link_serial ON devices (link_serial);
