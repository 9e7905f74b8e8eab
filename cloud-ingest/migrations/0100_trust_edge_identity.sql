-- Trust at the edge-cloud boundary (issue 12): every edge has its own credential, rotatable without downtime,
-- and the cloud signs what it sends down with a key derived from that credential.
--
-- secret_hash        sha256 of the edge's secret (its login on the HTTP ingest and the cloud broker)
-- down_key           HMAC key of the edge's down messages, derived from the secret (contracts downMacKey);
--                    kept because the cloud must make MACs; it does not let anyone log in as the edge
-- previous_*         the secret and key before the last rotation, valid until previous_until (grace period)
-- disabled           refused everywhere (HTTP ingest, cloud broker) until re-issued
ALTER TABLE edge_credentials ADD COLUMN down_key text;
ALTER TABLE edge_credentials ADD COLUMN previous_hash text;
ALTER TABLE edge_credentials ADD COLUMN previous_down_key text;
ALTER TABLE edge_credentials ADD COLUMN previous_until timestamptz;
ALTER TABLE edge_credentials ADD COLUMN disabled boolean NOT NULL DEFAULT false;
ALTER TABLE edge_credentials ADD COLUMN rotated_by text;

