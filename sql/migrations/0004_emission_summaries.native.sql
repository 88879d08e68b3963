-- The three summaries of PRD §4.5 for the native backend: materialized views WITH NO DATA, refreshed in
-- full (REFRESH MATERIALIZED VIEW) where TimescaleDB would refresh a window. Buckets are computed in UTC,
-- as time_bucket does, so both backends give the same rows.
CREATE MATERIALIZED VIEW emissions_hourly_summary AS
SELECT
    date_trunc('hour', measurement_time, 'UTC') AS bucket,
    organization_id,
    facility_id,
    scope,
    SUM(co2_equivalent_kg) AS total_co2e_kg,
    COUNT(*) AS measurement_count,
    AVG(uncertainty_pct) AS avg_uncertainty,
    MIN(data_quality_score) AS min_quality,
    MAX(data_quality_score) AS max_quality
FROM emission_measurements
GROUP BY bucket, organization_id, facility_id, scope
WITH NO DATA;

CREATE MATERIALIZED VIEW emissions_daily_summary AS
SELECT
    date_trunc('day', measurement_time, 'UTC') AS bucket,
    organization_id,
    facility_id,
    scope,
    category,
    SUM(co2_equivalent_kg) AS total_co2e_kg,
    COUNT(*) AS measurement_count,
    AVG(uncertainty_pct) AS avg_uncertainty,
    PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY co2_equivalent_kg) AS p95_co2e
FROM emission_measurements
GROUP BY bucket, organization_id, facility_id, scope, category
WITH NO DATA;

CREATE MATERIALIZED VIEW emissions_quarterly_report AS
SELECT
    date_trunc('quarter', measurement_time, 'UTC') AS quarter,
    organization_id,
    scope,
    category,
    SUM(co2_equivalent_kg) AS total_co2e_kg,
    COUNT(DISTINCT facility_id) AS facility_count,
    COUNT(*) AS measurement_count,
    AVG(data_quality_score) AS avg_quality
FROM emission_measurements
GROUP BY quarter, organization_id, scope, category
WITH NO DATA;
