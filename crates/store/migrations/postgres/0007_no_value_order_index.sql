-- profilestore, PostgreSQL schema 7: no index of every typed value by value. Lookups by value
-- are for unique attributes only, and the partial unique index serves them; nothing read the
-- full index, yet every write of a custom value updated it. Typed values stay stored, so a
-- range query or a sort by an attribute is still answered right, by the primary key's range
-- of that attribute; an index for one attribute can come with such a feature.
DROP INDEX customer_values_order;
