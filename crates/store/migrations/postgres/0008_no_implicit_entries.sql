-- profilestore, PostgreSQL schema 8: an implicit attribute (text a tenant wrote before
-- defining it) has no typed entries: no definition types it, nothing looks it up, and writing
-- its entry was a statement per value written. Defining it writes its holders' entries.
DELETE FROM customer_values
WHERE (tenant_id, attribute_id) IN (
    SELECT tenant_id, id FROM custom_attributes
    WHERE definition IS NULL OR (definition->>'implicit')::boolean
);
