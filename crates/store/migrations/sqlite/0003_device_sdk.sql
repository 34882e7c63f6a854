-- The device SDK API (issue 5): app options, the device attribute policy and the JWT secret
-- (sealed with the server secret, never in the clear) per app; the last SDK contact per app
-- profile, which the TTL job ages profiles by (NULL: never contacted, never aged).
ALTER TABLE apps ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
ALTER TABLE apps ADD COLUMN device_policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE apps ADD COLUMN jwt_secret_sealed BLOB;
ALTER TABLE app_profiles ADD COLUMN last_contact INTEGER;
CREATE INDEX app_profiles_contact ON app_profiles (tenant_id, app_id, last_contact)
    WHERE last_contact IS NOT NULL;
