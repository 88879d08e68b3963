-- glctl:requires-extension timescaledb
-- The heartbeat (issue 20): one row a minute, written by the database's own scheduler, so a restore to a
-- time T can be checked exactly: it must hold every beat at or before T and none after, with no gap in `seq`.
-- On TimescaleDB a TimescaleDB job (`add_job`, every minute) calls glctl_heartbeat_beat. Append-only for everyone, owner included (the
-- same triggers as audit_logs); the application may read it and add a marker row, never change one. Rows are
-- never pruned: 525,600 a year (about 40 MB), so they outlive any backup retention.
CREATE TABLE glctl_heartbeat (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    written_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    source     TEXT NOT NULL DEFAULT 'scheduler'
);
CREATE INDEX glctl_heartbeat_written_at ON glctl_heartbeat (written_at);

CREATE FUNCTION glctl_heartbeat_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'glctl_heartbeat is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'The heartbeat proves restores exact; its rows are never changed or removed.';
END;
$$;
CREATE TRIGGER glctl_heartbeat_immutable
    BEFORE UPDATE OR DELETE ON glctl_heartbeat
    FOR EACH ROW EXECUTE FUNCTION glctl_heartbeat_append_only();
CREATE TRIGGER glctl_heartbeat_no_truncate
    BEFORE TRUNCATE ON glctl_heartbeat
    FOR EACH STATEMENT EXECUTE FUNCTION glctl_heartbeat_append_only();

REVOKE ALL ON glctl_heartbeat FROM PUBLIC;
GRANT SELECT ON glctl_heartbeat TO app_read, analytics_read;
GRANT INSERT (source) ON glctl_heartbeat TO app_write;

-- The job's procedure has the signature TimescaleDB's scheduler calls.
CREATE PROCEDURE glctl_heartbeat_beat(job_id INTEGER, config JSONB)
LANGUAGE sql AS $$ INSERT INTO glctl_heartbeat (source) VALUES ('timescaledb-job') $$;
SELECT add_job('glctl_heartbeat_beat', INTERVAL '1 minute');
