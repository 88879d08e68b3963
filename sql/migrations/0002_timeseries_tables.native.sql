-- glctl:requires-extension pg_partman
-- The four tables of PRD §4.5 for the native backend (RDS and Aurora offer no TimescaleDB): declarative
-- range partitions created ahead by pg_partman at the PRD's chunk intervals, with a default partition so
-- no row is ever refused. Compression does not exist here; retention and partition upkeep are pg_partman's
-- (partman.part_config, run_maintenance).
-- pg_partman 5 (RDS, Aurora) dropped the p_type 'native' argument of 4.x (Debian's package); both work.
CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;

CREATE TABLE emission_measurements (
    id                    BIGSERIAL,
    measurement_time      TIMESTAMPTZ NOT NULL,
    organization_id       UUID NOT NULL,
    facility_id           UUID NOT NULL,
    source_id             UUID,
    scope                 VARCHAR(20) NOT NULL,
    category              VARCHAR(50),
    activity_type         VARCHAR(100) NOT NULL,
    activity_value        DECIMAL(20, 6) NOT NULL,
    activity_unit         VARCHAR(50) NOT NULL,
    co2_kg                DECIMAL(20, 6),
    ch4_kg                DECIMAL(20, 6),
    n2o_kg                DECIMAL(20, 6),
    hfc_kg                DECIMAL(20, 6),
    pfc_kg                DECIMAL(20, 6),
    sf6_kg                DECIMAL(20, 6),
    nf3_kg                DECIMAL(20, 6),
    co2_equivalent_kg     DECIMAL(20, 6) NOT NULL,
    emission_factor_id    UUID NOT NULL,
    emission_factor_value DECIMAL(20, 10) NOT NULL,
    emission_factor_unit  VARCHAR(50) NOT NULL,
    calculation_method    VARCHAR(50) NOT NULL,
    uncertainty_pct       DECIMAL(5, 2),
    data_quality_score    SMALLINT,
    created_at            TIMESTAMPTZ DEFAULT NOW(),
    created_by            UUID,
    source_document_id    UUID,
    lineage_hash          VARCHAR(64) NOT NULL,
    PRIMARY KEY (measurement_time, id)
) PARTITION BY RANGE (measurement_time);

CREATE TABLE sensor_readings (
    id                    BIGSERIAL,
    reading_time          TIMESTAMPTZ NOT NULL,
    organization_id       UUID NOT NULL,
    facility_id           UUID NOT NULL,
    device_id             UUID NOT NULL,
    metric_type           VARCHAR(50) NOT NULL,
    value                 DECIMAL(20, 6) NOT NULL,
    unit                  VARCHAR(30) NOT NULL,
    quality_flag          SMALLINT DEFAULT 0,
    device_type           VARCHAR(50),
    meter_serial          VARCHAR(100),
    PRIMARY KEY (reading_time, id)
) PARTITION BY RANGE (reading_time);

CREATE TABLE calculation_results (
    id                     BIGSERIAL,
    calculation_time       TIMESTAMPTZ NOT NULL,
    organization_id        UUID NOT NULL,
    report_type            VARCHAR(50) NOT NULL,
    reporting_period_start TIMESTAMPTZ NOT NULL,
    reporting_period_end   TIMESTAMPTZ NOT NULL,
    scope_1_total_kg       DECIMAL(20, 6),
    scope_2_location_kg    DECIMAL(20, 6),
    scope_2_market_kg      DECIMAL(20, 6),
    scope_3_total_kg       DECIMAL(20, 6),
    total_emissions_kg     DECIMAL(20, 6) NOT NULL,
    category_breakdown     JSONB,
    facility_breakdown     JSONB,
    calculation_version    VARCHAR(20) NOT NULL,
    assumptions_set_id     UUID NOT NULL,
    emission_factor_set_id UUID NOT NULL,
    created_by             UUID,
    approved_by            UUID,
    approved_at            TIMESTAMPTZ,
    lineage_hash           VARCHAR(64) NOT NULL,
    PRIMARY KEY (calculation_time, id)
) PARTITION BY RANGE (calculation_time);

CREATE TABLE audit_logs (
    id                    BIGSERIAL,
    event_time            TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    organization_id       UUID NOT NULL,
    event_type            VARCHAR(50) NOT NULL,
    event_category        VARCHAR(50) NOT NULL,
    resource_type         VARCHAR(50) NOT NULL,
    resource_id           UUID,
    actor_id              UUID,
    actor_type            VARCHAR(30) NOT NULL,
    actor_ip              INET,
    action                VARCHAR(30) NOT NULL,
    old_values            JSONB,
    new_values            JSONB,
    request_id            UUID,
    session_id            UUID,
    user_agent            TEXT,
    hash                  VARCHAR(64) NOT NULL,
    previous_hash         VARCHAR(64),
    PRIMARY KEY (event_time, id)
) PARTITION BY RANGE (event_time);

-- Indexes for common queries (on the partitioned parent; every partition gets them).
CREATE INDEX idx_emissions_org_facility_time
    ON emission_measurements (organization_id, facility_id, measurement_time DESC);
CREATE INDEX idx_emissions_scope_time
    ON emission_measurements (scope, measurement_time DESC);

DO $$
DECLARE
    major int := split_part((SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'), '.', 1)::int;
    t record;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('public.emission_measurements', 'measurement_time', '7 days'),
        ('public.sensor_readings', 'reading_time', '1 day'),
        ('public.calculation_results', 'calculation_time', '7 days'),
        ('public.audit_logs', 'event_time', '1 day')) AS v(parent, control, every)
    LOOP
        IF major < 5 THEN
            PERFORM partman.create_parent(p_parent_table => t.parent, p_control => t.control,
                p_type => 'native', p_interval => t.every);
        ELSE
            PERFORM partman.create_parent(p_parent_table => t.parent, p_control => t.control,
                p_interval => t.every);
        END IF;
    END LOOP;
END
$$;
