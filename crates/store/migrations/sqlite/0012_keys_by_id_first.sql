-- profilestore, SQLite schema 12: the app profiles, the typed values and the write outcomes'
-- index keyed by what tells their rows apart first, the tenant last (as schema 11 did for
-- customers).
--
-- SQLite decides a key comparison quickly only when the first field differs; a tenant's rows
-- all share its id, so with the tenant first every comparison of a lookup went on to the slow
-- path for the next fields. An SDK call looks its install up, then rewrites it (three walks
-- of the key); a customer write upserts each typed value it changed; every write adds its
-- outcome. The lookups keep their prefixes: an install by (user, app, tenant[, device]), a
-- customer's values by (customer, tenant), an outcome by (transid, tenant).

CREATE TABLE app_profiles_new (
    tenant_id    TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    customer_id  TEXT,
    push_id      TEXT,
    attributes   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_contact INTEGER,
    PRIMARY KEY (user_id, app_id, tenant_id, device_id)
) STRICT, WITHOUT ROWID;
INSERT INTO app_profiles_new (tenant_id, app_id, user_id, device_id, customer_id, push_id,
    attributes, version, created_at, updated_at, last_contact)
    SELECT tenant_id, app_id, user_id, device_id, customer_id, push_id, attributes, version,
        created_at, updated_at, last_contact
    FROM app_profiles ORDER BY user_id, app_id, tenant_id, device_id;
DROP TABLE app_profiles;
ALTER TABLE app_profiles_new RENAME TO app_profiles;
CREATE INDEX app_profiles_customer ON app_profiles (tenant_id, app_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX app_profiles_linked ON app_profiles (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX app_profiles_device ON app_profiles (tenant_id, app_id, device_id);
CREATE INDEX app_profiles_push ON app_profiles (tenant_id, push_id) WHERE push_id IS NOT NULL;
CREATE INDEX app_profiles_contact ON app_profiles (tenant_id, app_id, last_contact)
    WHERE last_contact IS NOT NULL;

-- A customer's values are found by the key's prefix, so the index by customer goes; an
-- attribute's values (dropping a definition) are found by an index of their own, which a
-- changed value leaves alone (only an added or removed entry touches it).
CREATE TABLE customer_values_new (
    tenant_id    TEXT NOT NULL,
    attribute_id INTEGER NOT NULL,
    customer_id  TEXT NOT NULL,
    sort_key     BLOB NOT NULL,
    is_unique    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, tenant_id, attribute_id)
) STRICT, WITHOUT ROWID;
INSERT INTO customer_values_new (tenant_id, attribute_id, customer_id, sort_key, is_unique)
    SELECT tenant_id, attribute_id, customer_id, sort_key, is_unique
    FROM customer_values ORDER BY customer_id, tenant_id, attribute_id;
DROP TABLE customer_values;
ALTER TABLE customer_values_new RENAME TO customer_values;
CREATE INDEX customer_values_attribute ON customer_values (tenant_id, attribute_id);
CREATE UNIQUE INDEX customer_values_unique ON customer_values (tenant_id, attribute_id, sort_key)
    WHERE is_unique = 1;

DROP INDEX write_outcomes_transid;
CREATE UNIQUE INDEX write_outcomes_transid ON write_outcomes (transid, tenant_id);
