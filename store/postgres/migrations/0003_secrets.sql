-- Schema version 3: static challenges rotated through the admin API, by
-- the hash of the secret. expires_at is NULL for a profile's current
-- secret and the end of the grace period for the ones it replaced.
CREATE TABLE static_secrets (
    profile    text        COLLATE "C" NOT NULL,
    hash       text        COLLATE "C" NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (profile, hash)
);

-- Revocations since a time, for the replicas' catch-up after a missed
-- notification.
CREATE INDEX certs_revoked_at ON certs (revoked_at) WHERE status = 'revoked';
