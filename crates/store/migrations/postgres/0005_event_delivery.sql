-- profilestore, PostgreSQL schema 5: event delivery. Webhooks with their delivery state, the
-- recent attempts, and the cursors of relays that serve every tenant (NATS). Every key starts
-- with tenant_id (Citus).

CREATE TABLE webhooks (
    tenant_id       TEXT COLLATE "C" NOT NULL,
    webhook_id      TEXT COLLATE "C" NOT NULL,
    url             TEXT NOT NULL,
    event_types     JSONB NOT NULL,           -- [] = every type
    attributes      JSONB NOT NULL,           -- [] = every event
    enabled         BOOLEAN NOT NULL,
    secret_digest   TEXT NOT NULL,
    secret_sealed   BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    cursor          BIGINT NOT NULL,          -- last seq delivered or passed over
    attempts        INTEGER NOT NULL DEFAULT 0,
    failing_since   TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    disabled_reason TEXT,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
    PRIMARY KEY (tenant_id, webhook_id)
);

CREATE TABLE webhook_deliveries (
    tenant_id    TEXT COLLATE "C" NOT NULL,
    webhook_id   TEXT COLLATE "C" NOT NULL,
    delivery_id  TEXT COLLATE "C" NOT NULL,   -- UUID v7: sorts by time
    attempted_at TIMESTAMPTZ NOT NULL,
    seq          BIGINT NOT NULL,
    event_id     TEXT NOT NULL,
    status       INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    succeeded    BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, webhook_id, delivery_id)
);

CREATE TABLE relay_cursors (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    relay       TEXT COLLATE "C" NOT NULL,
    cursor      BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
    PRIMARY KEY (tenant_id, relay)
);

-- Retention deletes by age.
CREATE INDEX outbox_occurred ON outbox (occurred_at);
