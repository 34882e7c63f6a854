-- profilestore, SQLite schema 2: the schema registry of typed customer attributes.

-- A definition per attribute: JSON of the core's AttributeDefinition. NULL marks an attribute
-- registered by a write before the tenant had a schema (an implicit string attribute).
ALTER TABLE custom_attributes ADD COLUMN definition TEXT;
CREATE UNIQUE INDEX custom_attributes_id ON custom_attributes (tenant_id, id);

-- Typed index entries of customers' custom values: sort_key orders as the type does
-- (numbers by magnitude, dates by time), so range queries and sorting are right, and a
-- partial unique index refuses repeated values of unique attributes.
CREATE TABLE customer_values (
    tenant_id    TEXT NOT NULL,
    attribute_id INTEGER NOT NULL,
    customer_id  TEXT NOT NULL,
    sort_key     BLOB NOT NULL,
    is_unique    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, attribute_id, customer_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_values_order ON customer_values (tenant_id, attribute_id, sort_key);
CREATE UNIQUE INDEX customer_values_unique ON customer_values (tenant_id, attribute_id, sort_key)
    WHERE is_unique = 1;

-- Lookup keys: email without regard to case, msisdn as E.164 with a leading '+'.
UPDATE customers SET email = lower(email) WHERE email IS NOT NULL;
UPDATE customers SET msisdn = '+' || msisdn WHERE msisdn IS NOT NULL AND msisdn NOT LIKE '+%';
