-- Hand-over and the end user (R-3, R-8 to R-12, R-16, R-34 to R-37): end users'
-- region and app version, site owners, invitations, site authorizations, changes of
-- installation company, and the alarms kept for the owner.

-- End users choose a region at sign-up (installers take their company's); the app
-- version is the newest a person signed in with (R-8).
ALTER TABLE users ADD COLUMN region TEXT;
ALTER TABLE users ADD COLUMN app_version TEXT;
ALTER TABLE sessions ADD COLUMN app_version TEXT;

-- The site's owner once handed over; released_at: the managing company removed the
-- handed-over site from its list (R-11) — the site, its owner and devices stay, and
-- no company manages it until a claim is confirmed.
ALTER TABLE sites ADD COLUMN owner_id TEXT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE sites ADD COLUMN released_at BIGINT;
CREATE INDEX sites_owner ON sites (owner_id, id);

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    company_id      TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    invited_by      TEXT NOT NULL,
    end_user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    end_user_email  TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined', 'withdrawn', 'expired')),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    closed_at       BIGINT,
    -- The authorization request carried in the invitation (JSON), if any.
    -- AUTHORIZATION is a reserved word in PostgreSQL: always write it quoted.
    "authorization" TEXT
);
CREATE INDEX invitations_site ON invitations (site_id, id);
CREATE INDEX invitations_end_user ON invitations (end_user_id, id);

CREATE TABLE authorizations (
    id                  TEXT PRIMARY KEY,
    site_id             TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    company_id          TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    requested_by        TEXT NOT NULL,
    -- Comma-separated permission names (core::handover::PermissionSet as text).
    permissions         TEXT NOT NULL,
    -- JSON list of device ids; NULL: every device of the site.
    device_ids          TEXT,
    -- Hours; NULL: permanent.
    requested_hours     BIGINT,
    granted_hours       BIGINT,
    remark              TEXT,
    state               TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'cancelled', 'released')),
    requested_at        BIGINT NOT NULL,
    decided_at          BIGINT,
    expires_at          BIGINT,
    ended_at            BIGINT
);
CREATE INDEX authorizations_site ON authorizations (site_id, id);
CREATE INDEX authorizations_company ON authorizations (company_id, id);

CREATE TABLE site_claims (
    id                   TEXT PRIMARY KEY,
    site_id              TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    company_id           TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    claimed_by           TEXT NOT NULL,
    owner_id             TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    previous_company_id  TEXT,
    state                TEXT NOT NULL CHECK (state IN ('pending_confirmation', 'confirmed', 'declined')),
    created_at           BIGINT NOT NULL,
    decided_at           BIGINT
);
CREATE INDEX site_claims_site ON site_claims (site_id, id);
CREATE INDEX site_claims_owner ON site_claims (owner_id, id);

-- Alarms of the owner's devices (R-36). `event_key` makes intake idempotent: the
-- same event delivered twice (a resent link event, a replayed stream) is kept once.
CREATE TABLE alarms (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    device_id        TEXT REFERENCES devices (id) ON DELETE SET NULL,
    device_name      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    detail           TEXT NOT NULL,
    event_key        TEXT NOT NULL UNIQUE,
    occurred_at      BIGINT NOT NULL,
    received_at      BIGINT NOT NULL,
    acknowledged_at  BIGINT,
    acknowledged_by  TEXT
);
CREATE INDEX alarms_site ON alarms (site_id, id);
