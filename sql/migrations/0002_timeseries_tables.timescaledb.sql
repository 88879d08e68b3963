-- glctl:requires-extension timescaledb
-- The four hypertables of PRD §4.5. Chunk intervals are the PRD's; compression settings, compression and
-- retention policies are per environment and set by glctl's policy reconciler from the environment file
-- (hypertables.*), so they are not repeated here.
-- Corrections to the PRD: it never creates the extension; create_hypertable uses the by_range form (the
-- PRD's form is deprecated since TimescaleDB 2.13).
CREATE EXTENSION IF NOT EXISTS timescaledb;

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
);
SELECT create_hypertable('emission_measurements', by_range('measurement_time', INTERVAL '7 days'));
CREATE INDEX idx_emissions_org_facility_time
    ON emission_measurements (organization_id, facility_id, measurement_time DESC);
CREATE INDEX idx_emissions_scope_time
    ON emission_measurements (scope, measurement_time DESC);

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
);
SELECT create_hypertable('sensor_readings', by_range('reading_time', INTERVAL '1 day'));

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
);
SELECT create_hypertable('calculation_results', by_range('calculation_time', INTERVAL '7 days'));

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
);
SELECT create_hypertable('audit_logs', by_range('event_time', INTERVAL '1 day'));
