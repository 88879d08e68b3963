-- Least-privilege grants for the roles of 0001 (PRD §5.3).
--   app_read        SELECT on every table and summary (the application reads its own audit trail)
--   app_write       INSERT/UPDATE/DELETE on the data tables, INSERT only on audit_logs
--   analytics_read  SELECT on the data tables and summaries; not the audit trail (actor IPs, sessions)
REVOKE ALL ON emission_measurements, sensor_readings, calculation_results, audit_logs FROM PUBLIC;
REVOKE ALL ON emissions_hourly_summary, emissions_daily_summary, emissions_quarterly_report FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO app_read, app_write, analytics_read;

GRANT SELECT ON emission_measurements, sensor_readings, calculation_results, audit_logs TO app_read;
GRANT SELECT ON emissions_hourly_summary, emissions_daily_summary, emissions_quarterly_report TO app_read;

GRANT INSERT, UPDATE, DELETE ON emission_measurements, sensor_readings, calculation_results TO app_write;
GRANT INSERT ON audit_logs TO app_write;
GRANT USAGE ON SEQUENCE emission_measurements_id_seq, sensor_readings_id_seq, calculation_results_id_seq,
    audit_logs_id_seq TO app_write;

GRANT SELECT ON emission_measurements, sensor_readings, calculation_results TO analytics_read;
GRANT SELECT ON emissions_hourly_summary, emissions_daily_summary, emissions_quarterly_report TO analytics_read;
