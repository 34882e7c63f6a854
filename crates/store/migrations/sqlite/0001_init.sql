-- profilestore, SQLite schema 1. Every primary key and unique index starts with tenant_id
-- (the PostgreSQL schema keeps the same shape for Citus); timestamps are Unix milliseconds.

CREATE TABLE tenants (
    tenant_id    TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    store_number INTEGER NOT NULL,
    rate_limit   INTEGER NOT NULL DEFAULT 0,
    allowed_ips  TEXT NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL
) STRICT;
-- Names are unique across tenants; tenants is a small reference table, not sharded.
CREATE UNIQUE INDEX tenants_name ON tenants (name);

-- Profile keys: a SHA-256 digest to look a key up by, and the key sealed with the server
-- secret so an operator can view it again. expires_at is set when a rotation retires a key.
CREATE TABLE profile_keys (
    tenant_id  TEXT NOT NULL,
    key_id     INTEGER NOT NULL,
    digest     TEXT NOT NULL,
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (tenant_id, key_id)
) STRICT;
CREATE INDEX profile_keys_digest ON profile_keys (digest);

CREATE TABLE apps (
    tenant_id         TEXT NOT NULL,
    app_id            TEXT NOT NULL,
    name              TEXT NOT NULL,
    client_key_digest TEXT NOT NULL,
    client_key_sealed BLOB NOT NULL,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
) STRICT;
-- App ids are unique across tenants: create_app checks this index inside its transaction.
CREATE INDEX apps_app_id ON apps (app_id);

-- Bumped by every change to tenants, keys and apps, so servers notice admin commands cheaply.
CREATE TABLE settings_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   INTEGER NOT NULL
) STRICT;
INSERT INTO settings_version VALUES (1, 0);

CREATE TABLE customers (
    tenant_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    email       TEXT,
    msisdn      TEXT,
    attributes  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX customers_email ON customers (tenant_id, email) WHERE email IS NOT NULL;
CREATE INDEX customers_msisdn ON customers (tenant_id, msisdn) WHERE msisdn IS NOT NULL;

-- Column ids of tenant-defined customer attributes, assigned on first use, never reused.
CREATE TABLE custom_attributes (
    tenant_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    id        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE app_profiles (
    tenant_id   TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    customer_id TEXT,
    push_id     TEXT,
    attributes  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, app_id, user_id, device_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX app_profiles_customer ON app_profiles (tenant_id, app_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX app_profiles_linked ON app_profiles (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX app_profiles_device ON app_profiles (tenant_id, app_id, device_id);
CREATE INDEX app_profiles_push ON app_profiles (tenant_id, push_id) WHERE push_id IS NOT NULL;

-- The per-tenant event log. seq comes from event_sequences, in commit order, without gaps.
CREATE TABLE event_sequences (
    tenant_id TEXT PRIMARY KEY,
    last_seq  INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox (
    tenant_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT;

-- Write results for GET /profile/status/{transid}, kept until expires_at.
CREATE TABLE write_outcomes (
    tenant_id  TEXT NOT NULL,
    transid    TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, transid)
) STRICT, WITHOUT ROWID;
CREATE INDEX write_outcomes_expiry ON write_outcomes (expires_at);
