-- Retention on TimescaleDB: the same function as the plain variant, dropping whole chunks.
CREATE FUNCTION drop_day_partitions_before(cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  t text;
  n integer := 0;
  c integer;
BEGIN
  FOREACH t IN ARRAY ARRAY['events', 'telemetry', 'command_results', 'linkage_executions'] LOOP
    SELECT count(*) INTO c FROM drop_chunks(t::regclass, older_than => cutoff::timestamptz);
    n := n + c;
  END LOOP;
  RETURN n;
END $$;
