-- profilestore, SQLite schema 5: event delivery. Webhooks with their delivery state, the
-- recent attempts, and the cursors of relays that serve every tenant (NATS).

CREATE TABLE webhooks (
    tenant_id       TEXT NOT NULL,
    webhook_id      TEXT NOT NULL,
    url             TEXT NOT NULL,
    event_types     TEXT NOT NULL,            -- JSON array; [] = every type
    attributes      TEXT NOT NULL,            -- JSON array; [] = every event
    enabled         INTEGER NOT NULL,
    secret_digest   TEXT NOT NULL,
    secret_sealed   BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    cursor          INTEGER NOT NULL,         -- last seq delivered or passed over
    attempts        INTEGER NOT NULL DEFAULT 0,
    failing_since   INTEGER,
    next_attempt_at INTEGER NOT NULL,
    disabled_reason TEXT,
    lease_owner     TEXT,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, webhook_id)
) STRICT;

CREATE TABLE webhook_deliveries (
    tenant_id    TEXT NOT NULL,
    webhook_id   TEXT NOT NULL,
    delivery_id  TEXT NOT NULL,               -- UUID v7: sorts by time
    attempted_at INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    status       INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL,
    succeeded    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, webhook_id, delivery_id)
) STRICT;

CREATE TABLE relay_cursors (
    tenant_id   TEXT NOT NULL,
    relay       TEXT NOT NULL,
    cursor      INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, relay)
) STRICT;

-- Retention deletes by age.
CREATE INDEX outbox_occurred ON outbox (occurred_at);
