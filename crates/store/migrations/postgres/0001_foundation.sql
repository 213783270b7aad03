-- Foundation: authentication codes, companies, people, sessions, sites, audit log.
-- Times are Unix milliseconds (BIGINT) and ids are UUID text on both databases, so
-- one query text serves SQLite and PostgreSQL alike.

CREATE TABLE auth_codes (
    code        TEXT PRIMARY KEY,
    region      TEXT NOT NULL,
    note        TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    company_id  TEXT
);

CREATE TABLE companies (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    region           TEXT NOT NULL,
    address          TEXT,
    phone            TEXT,
    email            TEXT,
    website          TEXT,
    logo             BYTEA,
    logo_type        TEXT,
    logo_updated_at  BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('installer', 'end_user', 'operator')),
    company_id     TEXT REFERENCES companies (id) ON DELETE CASCADE,
    role           TEXT CHECK (role IN ('installer_admin', 'it_manager', 'site_manager')),
    name           TEXT NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    active         BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX users_company ON users (company_id, id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    company_id  TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    site_code   TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    address     TEXT,
    time_zone   TEXT NOT NULL,
    region      TEXT NOT NULL,
    manager_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    state       TEXT NOT NULL CHECK (state IN ('managed', 'owner_invited', 'handed_over')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX sites_company ON sites (company_id, id);
CREATE INDEX sites_manager ON sites (manager_id, id);

-- No foreign keys: the record of who did what outlives what it speaks of.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    company_id  TEXT,
    site_id     TEXT,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_site ON audit_log (site_id, id);
CREATE INDEX audit_company ON audit_log (company_id, id);
