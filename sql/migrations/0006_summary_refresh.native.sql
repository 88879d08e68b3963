-- A unique index on each summary, so pg_cron's jobs can refresh it CONCURRENTLY (readers are never blocked
-- and see the old rows until the new ones are in). The columns are each view's GROUP BY, unique by
-- construction; NULLs (a missing category) are distinct to the index and grouped once by the view.
CREATE UNIQUE INDEX emissions_hourly_summary_key
    ON emissions_hourly_summary (bucket, organization_id, facility_id, scope);
CREATE UNIQUE INDEX emissions_daily_summary_key
    ON emissions_daily_summary (bucket, organization_id, facility_id, scope, category);
CREATE UNIQUE INDEX emissions_quarterly_report_key
    ON emissions_quarterly_report (quarter, organization_id, scope, category);
