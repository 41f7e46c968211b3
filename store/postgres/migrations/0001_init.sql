-- Schema version 1: certificate records, cached blobs, sequences.

-- One row per serial, from its reservation on; rows are never deleted.
CREATE TABLE certs (
    -- The serial's big-endian magnitude left-padded to 20 bytes (RFC 5280
    -- §4.1.2.2's maximum), so that bytea order is numeric order.
    serial            bytea       PRIMARY KEY CHECK (octet_length(serial) = 20),
    status            text        NOT NULL CHECK (status IN ('reserved', 'valid', 'revoked')),
    issuer            text        NOT NULL,
    subject           text        NOT NULL,
    -- Go's strings.ToLower(subject): Query.Subject matches case-insensitively
    -- the way the bbolt backend does, whatever the database's collation.
    subject_lower     text        NOT NULL,
    common_name       text        NOT NULL,
    dns_names         text[]      NOT NULL,
    email_addrs       text[]      NOT NULL,
    uris              text[]      NOT NULL,
    upns              text[]      NOT NULL,
    -- A zero time.Time is stored as 0001-01-01 UTC, so that a record
    -- without validity sorts before every other, as in the bbolt backend.
    not_before        timestamptz NOT NULL,
    not_after         timestamptz NOT NULL,
    profile           text        NOT NULL,
    protocol          text        NOT NULL,
    transaction_id    text        NOT NULL,
    requester_addr    text        NOT NULL,
    device_id         text        NOT NULL,
    created_at        timestamptz NOT NULL,
    issued_at         timestamptz,
    revoked_at        timestamptz,
    revocation_reason smallint    NOT NULL,
    renewal_of        text        NOT NULL,
    der               bytea,
    -- Issued by the admin API's test-certificate route.
    test              boolean     NOT NULL,
    -- Sealed by ca/escrow; never plaintext.
    escrowed_key      bytea
);

-- CRL build (revoked, not yet expired) and expiry reports on one status.
CREATE INDEX certs_status_not_after ON certs (status, not_after);
-- Expiry reports across statuses.
CREATE INDEX certs_not_after ON certs (not_after);
-- enroll's duplicate-subject check: valid, this profile, not expired.
CREATE INDEX certs_profile_status_not_after ON certs (profile, status, not_after);
-- Device lookups. A hash index, because a device ID comes from the client
-- and a btree entry longer than about 2.7 kB would make the insert fail.
CREATE INDEX certs_device_id ON certs USING hash (device_id);

-- Derived, re-creatable blobs (pre-signed OCSP responses, CRLs).
CREATE TABLE blobs (
    kind        text        NOT NULL,
    key         bytea       NOT NULL,
    data        bytea       NOT NULL,
    this_update timestamptz,
    next_update timestamptz,
    refresh_at  timestamptz,
    status      text        NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Durable counters (CRL numbers): last is the last number handed out.
CREATE TABLE sequences (
    name bytea  PRIMARY KEY,
    last bigint NOT NULL CHECK (last > 0)
);
