-- Audit logs are append-only (PRD §2.4, §4.5). The PRD's row trigger stops UPDATE and DELETE but not
-- TRUNCATE, which fires no row triggers; a statement trigger closes that. Privileges (0005) give the
-- application INSERT and SELECT only, so UPDATE, DELETE, TRUNCATE, MERGE and INSERT ... ON CONFLICT DO
-- UPDATE are refused before any trigger runs; the triggers also stop the owner. Break-glass is the owner
-- disabling a trigger explicitly (ALTER TABLE ... DISABLE TRIGGER), which log_statement = ddl records.
-- Retention still drops whole chunks or partitions older than the retention period: that is the policy.
CREATE FUNCTION prevent_audit_modification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Audit records cannot be changed or removed; corrections are new records.';
END;
$$;

CREATE TRIGGER audit_logs_immutable
    BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION prevent_audit_modification();

CREATE TRIGGER audit_logs_no_truncate
    BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION prevent_audit_modification();
