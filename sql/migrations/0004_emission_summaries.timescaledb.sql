-- glctl:requires-extension timescaledb
-- The three continuous aggregates of PRD §4.5, created WITH NO DATA (which works inside a transaction;
-- WITH DATA would not). Their refresh policies are per environment and set by glctl's policy reconciler
-- from the environment file (continuous_aggregates.*).
-- Checked against TimescaleDB 2.23: PERCENTILE_CONT and COUNT(DISTINCT) are accepted in finalized
-- continuous aggregates. The PRD's quarterly refresh window (6 months to 1 day) is refused ("policy
-- refresh window too small": it must cover two 3-month buckets), so the environments use 7 months.
CREATE MATERIALIZED VIEW emissions_hourly_summary
WITH (timescaledb.continuous) AS
SELECT
    time_bucket(INTERVAL '1 hour', measurement_time) AS bucket,
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

CREATE MATERIALIZED VIEW emissions_daily_summary
WITH (timescaledb.continuous) AS
SELECT
    time_bucket(INTERVAL '1 day', measurement_time) AS bucket,
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

CREATE MATERIALIZED VIEW emissions_quarterly_report
WITH (timescaledb.continuous) AS
SELECT
    time_bucket(INTERVAL '3 months', measurement_time) AS quarter,
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
