-- The roles of PRD §5.3, least privilege. Group roles hold the grants (0005); login roles get them by
-- membership and authenticate with IAM (rds_iam, where the server has it) or a password the rotation
-- function sets. The break-glass admin is the owner of the schema objects: the master user that runs
-- these migrations, whose credentials are the RDS-managed master secret.
-- Roles are cluster-wide and CREATE ROLE has no IF NOT EXISTS, so each is created only when missing.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['app_read', 'app_write', 'analytics_read'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_service') THEN
        CREATE ROLE app_service LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'readonly_analytics') THEN
        CREATE ROLE readonly_analytics LOGIN;
    END IF;
    -- rds_iam exists only on RDS and Aurora; elsewhere these roles log in with a password.
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO app_service, readonly_analytics;
    END IF;
END
$$;

GRANT app_read, app_write TO app_service;
GRANT analytics_read TO readonly_analytics;

-- Nobody but the owner creates objects in public (PostgreSQL 15 already revokes CREATE from PUBLIC;
-- say it anyway for servers upgraded from older versions).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
