-- profilestore, SQLite schema 10: a count of the changes to each tenant's attribute ids, so that
-- a read can keep the tenant's name -> id map in memory and tell, in its own snapshot, whether
-- it is still the current one. Triggers keep it whoever writes: the group writer assigning an
-- id on first use, the schema registry, an admin command in another process.
ALTER TABLE tenants ADD COLUMN attribute_ids_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER custom_attributes_added AFTER INSERT ON custom_attributes BEGIN
    UPDATE tenants SET attribute_ids_version = attribute_ids_version + 1
    WHERE tenant_id = NEW.tenant_id;
END;

CREATE TRIGGER custom_attributes_renumbered AFTER UPDATE OF tenant_id, name, id ON custom_attributes BEGIN
    UPDATE tenants SET attribute_ids_version = attribute_ids_version + 1
    WHERE tenant_id IN (OLD.tenant_id, NEW.tenant_id);
END;

CREATE TRIGGER custom_attributes_removed AFTER DELETE ON custom_attributes BEGIN
    UPDATE tenants SET attribute_ids_version = attribute_ids_version + 1
    WHERE tenant_id = OLD.tenant_id;
END;
