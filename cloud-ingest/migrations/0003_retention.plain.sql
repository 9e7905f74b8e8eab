-- Retention on plain PostgreSQL: whole day partitions are dropped once they end on or before the cutoff
-- (cheaper than DELETE, and leaves no bloat). The default partitions are never dropped: rows outside every
-- day partition land there and are kept until someone looks at them.
CREATE FUNCTION drop_day_partitions_before(cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  dropped integer := 0;
BEGIN
  FOR r IN
    SELECT c.relname AS part
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname IN ('events', 'telemetry', 'command_results', 'linkage_executions')
       -- CASE, because WHERE gives no order: to_date must never see the _default partition's name.
       AND CASE WHEN c.relname ~ ('^' || p.relname || '_[0-9]{8}$')
                THEN to_date(right(c.relname, 8), 'YYYYMMDD') + 1 <= cutoff
                ELSE false END
     ORDER BY c.relname
  LOOP
    EXECUTE format('DROP TABLE %I', r.part);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END $$;
