-- Schema version 5: the leader's refresher asks for the shared responses
-- due for re-signing (DueBlobs) every minute; without an index that is a
-- scan of every pre-signed response.
CREATE INDEX blobs_kind_refresh_at ON blobs (kind, refresh_at);
