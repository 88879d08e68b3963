-- pgaudit's object-audit role on RDS and Aurora (`pgaudit.role = rds_pgaudit` in the parameter group). The
-- session log of DDL and writes (PRD ST-07) needs only the parameter group; this role lets object auditing
-- be added by granting it privileges. Created only when missing: roles are cluster-wide.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_pgaudit') THEN
        CREATE ROLE rds_pgaudit NOLOGIN;
    END IF;
END
$$;
