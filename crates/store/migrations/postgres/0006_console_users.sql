-- profilestore, PostgreSQL schema 6: the admin console's users and sessions (issue 9).
--
-- Like `tenants`, these are small reference tables that span tenants (an operator's user and
-- session belong to none), so their keys do not start with tenant_id (on Citus: reference
-- tables). A user with no tenant_id is an operator. E-mail addresses are stored lowercased and
-- are unique across the console, so that sign-in needs only the address and the password.
-- Passwords are Argon2id PHC strings; sessions are kept by the SHA-256 digest of their token,
-- so every node sees a session and none can recover its token.

CREATE TABLE console_users (
    user_id       TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT COLLATE "C" NOT NULL,
    tenant_id     TEXT COLLATE "C",
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX console_users_email ON console_users (email);
CREATE INDEX console_users_tenant ON console_users (tenant_id);

CREATE TABLE console_sessions (
    token_digest TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL,
    -- The tenant the session acts on: the user's own, or the one an operator chose (NULL: none yet).
    tenant_id    TEXT COLLATE "C",
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
