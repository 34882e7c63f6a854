-- The device SDK API (issue 5): app options, the device attribute policy and the JWT secret
-- (sealed with the server secret, never in the clear) per app; the last SDK contact per app
-- profile, which the TTL job ages profiles by (NULL: never contacted, never aged).
ALTER TABLE apps ADD COLUMN options JSONB NOT NULL DEFAULT '{}';
ALTER TABLE apps ADD COLUMN device_policy JSONB NOT NULL DEFAULT '{}';
ALTER TABLE apps ADD COLUMN jwt_secret_sealed BYTEA;
ALTER TABLE app_profiles ADD COLUMN last_contact TIMESTAMPTZ;
CREATE INDEX app_profiles_contact ON app_profiles (tenant_id, app_id, last_contact)
    WHERE last_contact IS NOT NULL;
