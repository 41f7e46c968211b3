-- Schema version 6: Search by exact common name (store.Query.CommonName),
-- which the duplicate-subject check runs on every enrollment of a profile
-- with allow_duplicates: false.
CREATE INDEX certs_common_name ON certs (common_name);
