-- profilestore, PostgreSQL schema 1: the tables of the SQLite schema with PostgreSQL types.
-- Every primary key and unique index starts with tenant_id (the tenants reference table's
-- unique name excepted), so that every table but tenants and settings_version can be
-- distributed by tenant_id on Citus. Identifiers compare and sort bytewise (COLLATE "C"), as
-- SQLite's BINARY collation does, whatever the database's locale. Timestamps are TIMESTAMPTZ
-- (microseconds); attribute maps, payloads and outcomes are JSONB.

CREATE TABLE tenants (
    tenant_id    TEXT COLLATE "C" PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL,
    store_number BIGINT NOT NULL,
    rate_limit   BIGINT NOT NULL DEFAULT 0,
    allowed_ips  TEXT[] NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL
);
-- Names are unique across tenants; tenants is a small reference table, not sharded.
CREATE UNIQUE INDEX tenants_name ON tenants (name);

-- Profile keys: a SHA-256 digest to look a key up by, and the key sealed with the server
-- secret so an operator can view it again. expires_at is set when a rotation retires a key.
CREATE TABLE profile_keys (
    tenant_id  TEXT COLLATE "C" NOT NULL,
    key_id     BIGINT NOT NULL,
    digest     TEXT COLLATE "C" NOT NULL,
    sealed     BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, key_id)
);
CREATE INDEX profile_keys_digest ON profile_keys (digest);

CREATE TABLE apps (
    tenant_id         TEXT COLLATE "C" NOT NULL,
    app_id            TEXT COLLATE "C" NOT NULL,
    name              TEXT NOT NULL,
    client_key_digest TEXT COLLATE "C" NOT NULL,
    client_key_sealed BYTEA NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
);
-- App ids are unique across tenants: create_app checks this index inside its transaction,
-- under a global advisory lock (a unique index on app_id alone could not be distributed).
CREATE INDEX apps_app_id ON apps (app_id);

-- Bumped by every change to tenants, keys and apps, so servers notice admin commands cheaply.
CREATE TABLE settings_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   BIGINT NOT NULL
);
INSERT INTO settings_version VALUES (1, 0);

CREATE TABLE customers (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    email       TEXT COLLATE "C",
    msisdn      TEXT COLLATE "C",
    attributes  JSONB NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
CREATE INDEX customers_email ON customers (tenant_id, email) WHERE email IS NOT NULL;
CREATE INDEX customers_msisdn ON customers (tenant_id, msisdn) WHERE msisdn IS NOT NULL;

-- Column ids of tenant-defined customer attributes, assigned on first use, never reused.
CREATE TABLE custom_attributes (
    tenant_id TEXT COLLATE "C" NOT NULL,
    name      TEXT COLLATE "C" NOT NULL,
    id        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE app_profiles (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    app_id      TEXT COLLATE "C" NOT NULL,
    user_id     TEXT COLLATE "C" NOT NULL,
    device_id   TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C",
    push_id     TEXT COLLATE "C",
    attributes  JSONB NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, app_id, user_id, device_id)
);
CREATE INDEX app_profiles_customer ON app_profiles (tenant_id, app_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX app_profiles_linked ON app_profiles (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX app_profiles_device ON app_profiles (tenant_id, app_id, device_id);
CREATE INDEX app_profiles_push ON app_profiles (tenant_id, push_id) WHERE push_id IS NOT NULL;

-- The per-tenant event log. seq comes from event_sequences, in commit order, without gaps:
-- every profile write holds its tenant's advisory lock (pg_advisory_xact_lock) from its first
-- statement to its commit.
CREATE TABLE event_sequences (
    tenant_id TEXT COLLATE "C" PRIMARY KEY,
    last_seq  BIGINT NOT NULL
);

CREATE TABLE outbox (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    seq         BIGINT NOT NULL,
    event_id    TEXT COLLATE "C" NOT NULL,
    event_type  TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    payload     JSONB NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

-- Write results for GET /profile/status/{transid}, kept until expires_at.
CREATE TABLE write_outcomes (
    tenant_id  TEXT COLLATE "C" NOT NULL,
    transid    TEXT COLLATE "C" NOT NULL,
    outcome    JSONB NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, transid)
);
CREATE INDEX write_outcomes_expiry ON write_outcomes (expires_at);
