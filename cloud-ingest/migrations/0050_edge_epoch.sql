-- An edge's outbox numbering (its epoch, a random id made with the outbox folder). A wiped or replaced
-- outbox restarts at seq 1 under a new epoch: its records are stored with seq_offset added (the stored
-- seq of everything before it), so rows stay unique and ordered by (edge, seq), while last_seq and the
-- acks stay in the edge's own numbering. NULL epoch: an edge that does not send one (older software).
ALTER TABLE edge_cursor ADD COLUMN epoch text;
ALTER TABLE edge_cursor ADD COLUMN seq_offset bigint NOT NULL DEFAULT 0;
