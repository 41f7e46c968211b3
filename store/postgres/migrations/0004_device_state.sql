-- Schema version 4: device-state revocation.

-- When a certificateHold was last lifted, so that a replica catching up on
-- missed notifications (RevokedSince) also drops a cached "revoked".
ALTER TABLE certs ADD COLUMN hold_released_at timestamptz;
CREATE INDEX certs_hold_released_at ON certs (hold_released_at) WHERE hold_released_at IS NOT NULL;

-- The last known state of each device per MDM (store.DeviceState).
CREATE TABLE device_states (
    source       text        COLLATE "C" NOT NULL,
    device_key   text        COLLATE "C" NOT NULL,
    state        text        NOT NULL,
    detail       text        NOT NULL,
    confirmed_at timestamptz,
    checked_at   timestamptz NOT NULL,
    enrolled_at  timestamptz,
    held         text[]      NOT NULL,
    PRIMARY KEY (source, device_key)
);
