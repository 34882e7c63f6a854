-- profilestore, SQLite schema 4: every write replaces one customer's typed values; without an
-- index that starts with (tenant_id, customer_id) that delete scanned the tenant's values.
CREATE INDEX customer_values_customer ON customer_values (tenant_id, customer_id);
