-- Schema version 2: enrollment requests held for approval, one-time
-- challenges, admin API tokens.
--
-- Identifying text columns are COLLATE "C": their order (request and token
-- IDs, and the RequestQuery.After cursor) is byte order, as in the bbolt
-- backend, whatever the database's default collation, and equality is byte
-- equality.

-- One row per request; rows are never deleted.
CREATE TABLE requests (
    id             text        COLLATE "C" PRIMARY KEY,
    profile        text        COLLATE "C" NOT NULL,
    -- "scep:<transaction ID>" or "est:<SHA-256 of the CSR>": how the
    -- requester is found again, whatever the request's status.
    key            text        COLLATE "C" NOT NULL,
    protocol       text        NOT NULL,
    transaction_id text        NOT NULL,
    subject        text        NOT NULL,
    csr            bytea       NOT NULL,
    device_id      text        NOT NULL,
    requester_addr text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'issued')),
    created_at     timestamptz NOT NULL,
    decided_at     timestamptz,
    decided_by     text        NOT NULL,
    reason         text        NOT NULL,
    -- store.SerialHex of the issued certificate, '' until issued.
    serial         text        NOT NULL,
    UNIQUE (profile, key)
);

-- The admin API's listing by status (pending above all), in ID order.
CREATE INDEX requests_status_id ON requests (status, id);

-- A challenge row lives until it is consumed, or presented after expiry.
CREATE TABLE challenges (
    profile    text        COLLATE "C" NOT NULL,
    -- Hex SHA-256 of the secret; the secret itself is never stored.
    hash       text        COLLATE "C" NOT NULL,
    subject    text        NOT NULL,
    device_id  text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (profile, hash)
);

CREATE TABLE tokens (
    id         text        COLLATE "C" PRIMARY KEY,
    name       text        NOT NULL,
    role       text        NOT NULL,
    -- Hex SHA-256 of the secret; looked up on every admin API call.
    hash       text        COLLATE "C" NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
