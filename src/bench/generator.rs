//! Deterministic synthetic rows for the two ingest tables of PRD §4.5.
//!
//! Row `i` of a table is a pure function of the seed and `i` (a SplitMix64 stream keyed by both), so any
//! worker can make any batch, batches can be made in any order, and the same seed always gives the same rows.
//! Cardinalities are a mid-sized tenant set: 20 organisations × 10 facilities, 3 emission sources and 10
//! devices per facility. Time advances tick by tick (every source or device reports once per tick) across a
//! fixed range, so rows arrive in time order and land in real chunks or partitions; a run longer than one
//! pass over the range starts the range again (ids keep growing, so the primary key stays unique).
//!
//! The generator writes through [`RowWriter`], implemented by the binary COPY encoder, the CSV encoder (for
//! the benchmark script's `psql \copy`) and, in tests, a checker of the migrations' column constraints.

/// Where one value of a row goes. Values come in the table's column order ([`Table::columns`]).
pub trait RowWriter {
    fn begin_row(&mut self, columns: u16);
    fn null(&mut self);
    fn int8(&mut self, value: i64);
    fn int2(&mut self, value: i16);
    /// Microseconds since 2000-01-01 00:00:00 UTC (PostgreSQL's epoch).
    fn timestamptz(&mut self, micros: i64);
    fn uuid(&mut self, value: &[u8; 16]);
    fn text(&mut self, value: &[u8]);
    /// `unscaled / 10^scale`, written with exactly `scale` decimals.
    fn numeric(&mut self, unscaled: i64, scale: u8);
    fn end_row(&mut self);
}

/// The tables `glctl bench` writes into (the append-only audit log is never one of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    EmissionMeasurements,
    SensorReadings,
}

pub const ORGANIZATIONS: usize = 20;
pub const FACILITIES_PER_ORGANIZATION: usize = 10;
pub const SOURCES_PER_FACILITY: usize = 3;
pub const DEVICES_PER_FACILITY: usize = 10;
const FACILITIES: usize = ORGANIZATIONS * FACILITIES_PER_ORGANIZATION;
const EMISSION_FACTORS: usize = 64;
const USERS: usize = 50;

/// 2025-01-01 00:00:00 UTC in microseconds since 2000-01-01.
pub const RANGE_START: i64 = 9132 * 86_400 * 1_000_000;
const DAY: i64 = 86_400 * 1_000_000;

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::EmissionMeasurements => "emission_measurements",
            Table::SensorReadings => "sensor_readings",
        }
    }

    pub fn time_column(self) -> &'static str {
        match self {
            Table::EmissionMeasurements => "measurement_time",
            Table::SensorReadings => "reading_time",
        }
    }

    /// Every column, in the order the generator writes them (and the COPY statement names them).
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::EmissionMeasurements => &[
                "id",
                "measurement_time",
                "organization_id",
                "facility_id",
                "source_id",
                "scope",
                "category",
                "activity_type",
                "activity_value",
                "activity_unit",
                "co2_kg",
                "ch4_kg",
                "n2o_kg",
                "hfc_kg",
                "pfc_kg",
                "sf6_kg",
                "nf3_kg",
                "co2_equivalent_kg",
                "emission_factor_id",
                "emission_factor_value",
                "emission_factor_unit",
                "calculation_method",
                "uncertainty_pct",
                "data_quality_score",
                "created_at",
                "created_by",
                "source_document_id",
                "lineage_hash",
            ],
            Table::SensorReadings => &[
                "id",
                "reading_time",
                "organization_id",
                "facility_id",
                "device_id",
                "metric_type",
                "value",
                "unit",
                "quality_flag",
                "device_type",
                "meter_serial",
            ],
        }
    }

    /// Rows per tick: every emission source, or every device, reports once.
    pub fn rows_per_tick(self) -> u64 {
        match self {
            Table::EmissionMeasurements => (FACILITIES * SOURCES_PER_FACILITY) as u64,
            Table::SensorReadings => (FACILITIES * DEVICES_PER_FACILITY) as u64,
        }
    }

    /// The time range one pass covers: a year of emissions (PB-04 asks for one), a month of sensor readings.
    pub fn range_micros(self) -> i64 {
        match self {
            Table::EmissionMeasurements => 365 * DAY,
            Table::SensorReadings => 31 * DAY,
        }
    }
}

/// Activity type, its unit, the factor's unit, scope and Scope 3 category (GHG Protocol 1–15).
const ACTIVITIES: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("stationary_combustion_natural_gas", "m3", "kgCO2e/m3", "scope_1", None),
    ("mobile_combustion_diesel", "litre", "kgCO2e/litre", "scope_1", None),
    ("refrigerant_leakage", "kg", "kgCO2e/kg", "scope_1", None),
    ("purchased_electricity", "kWh", "kgCO2e/kWh", "scope_2", None),
    ("purchased_heat", "kWh", "kgCO2e/kWh", "scope_2", None),
    ("purchased_goods_and_services", "EUR", "kgCO2e/EUR", "scope_3", Some("1_purchased_goods_and_services")),
    ("upstream_transportation", "tonne_km", "kgCO2e/tonne_km", "scope_3", Some("4_upstream_transportation")),
    ("business_travel_air", "passenger_km", "kgCO2e/passenger_km", "scope_3", Some("6_business_travel")),
    ("employee_commuting", "passenger_km", "kgCO2e/passenger_km", "scope_3", Some("7_employee_commuting")),
];
const METHODS: &[&str] = &["activity_based", "spend_based", "supplier_specific", "hybrid"];
/// Metric, unit and device type of a sensor.
const METRICS: &[(&str, &str, &str)] = &[
    ("electricity", "kWh", "smart_meter"),
    ("natural_gas", "m3", "gas_meter"),
    ("water", "m3", "water_meter"),
    ("steam", "kg", "flow_meter"),
    ("temperature", "degC", "thermometer"),
    ("fuel_oil", "litre", "tank_gauge"),
];

/// A deterministic source of rows for one table.
#[derive(Clone, Debug)]
pub struct Generator {
    pub table: Table,
    pub seed: u64,
    /// Ticks in one pass over the range, and the time between them.
    ticks: u64,
    tick_micros: i64,
    organizations: Vec<[u8; 16]>,
    facilities: Vec<[u8; 16]>,
    /// Emission sources or devices, `rows_per_tick` of them.
    members: Vec<[u8; 16]>,
    factors: Vec<[u8; 16]>,
    users: Vec<[u8; 16]>,
    /// Per sensor device: its level and its meter serial (`None` for a thermometer). Pure functions of the
    /// seed and the device, made once rather than per row.
    devices: Vec<(u64, Option<[u8; 11]>)>,
}

impl Generator {
    /// A generator whose first `rows_per_pass` rows spread over the table's whole range (at least one tick,
    /// and ticks at least a second apart).
    pub fn new(table: Table, seed: u64, rows_per_pass: u64) -> Generator {
        let per_tick = table.rows_per_tick();
        let max_ticks = (table.range_micros() / 1_000_000) as u64;
        let ticks = rows_per_pass.div_ceil(per_tick).clamp(1, max_ticks);
        let entity = |kind: u64, n: usize| -> Vec<[u8; 16]> { (0..n as u64).map(|i| uuid(seed, kind, i)).collect() };
        Generator {
            table,
            seed,
            ticks,
            tick_micros: table.range_micros() / ticks as i64,
            organizations: entity(1, ORGANIZATIONS),
            facilities: entity(2, FACILITIES),
            members: entity(3, per_tick as usize),
            factors: entity(4, EMISSION_FACTORS),
            users: entity(5, USERS),
            devices: match table {
                Table::SensorReadings => (0..per_tick).map(|member| device(seed, member)).collect(),
                Table::EmissionMeasurements => Vec::new(),
            },
        }
    }

    /// The organisation and facility ids, for queries that pick one.
    pub fn facility(&self, n: usize) -> ([u8; 16], [u8; 16]) {
        let f = n % FACILITIES;
        (self.organizations[f / FACILITIES_PER_ORGANIZATION], self.facilities[f])
    }

    /// The time of row `i` (microseconds since 2000-01-01): its tick, plus a jitter inside the tick.
    pub fn time_of(&self, i: u64) -> i64 {
        let tick = (i / self.table.rows_per_tick()) % self.ticks;
        let jitter = (mix(self.seed ^ 0x7111, i) % (self.tick_micros.max(1) as u64)) as i64;
        RANGE_START + tick as i64 * self.tick_micros + jitter
    }

    /// Writes rows `from..to`.
    pub fn write_rows(&self, from: u64, to: u64, out: &mut impl RowWriter) {
        for i in from..to {
            self.write_row(i, out);
        }
    }

    pub fn write_row(&self, i: u64, out: &mut impl RowWriter) {
        match self.table {
            Table::EmissionMeasurements => self.emission(i, out),
            Table::SensorReadings => self.sensor(i, out),
        }
    }

    fn emission(&self, i: u64, out: &mut impl RowWriter) {
        let mut r = Rng::new(self.seed, i);
        let member = (i % self.table.rows_per_tick()) as usize;
        let facility = member / SOURCES_PER_FACILITY;
        let (org, fac) = (self.organizations[facility / FACILITIES_PER_ORGANIZATION], self.facilities[facility]);
        // Each source has one activity for its life; the facility's three sources span the scopes.
        let (activity, unit, factor_unit, scope, category) = ACTIVITIES[(member * 7 + facility) % ACTIVITIES.len()];
        let at = self.time_of(i);
        out.begin_row(28);
        out.int8(i as i64 + 1);
        out.timestamptz(at);
        out.uuid(&org);
        out.uuid(&fac);
        if r.below(20) == 0 {
            out.null();
        } else {
            out.uuid(&self.members[member]);
        }
        out.text(scope.as_bytes());
        match category {
            Some(c) => out.text(c.as_bytes()),
            None => out.null(),
        }
        out.text(activity.as_bytes());
        // activity 0.000001 .. 100 000 with 6 decimals; factor 0.0001 .. 10 with 10 decimals.
        let activity_value = 1 + r.below(100_000_000_000) as i64;
        out.numeric(activity_value, 6);
        out.text(unit.as_bytes());
        let factor = 1_000_000 + r.below(100_000_000_000) as i64;
        // co2e_kg = activity × factor, at scale 6: (a·10⁻⁶)(f·10⁻¹⁰) = a·f·10⁻¹⁶ → a·f / 10¹⁰.
        let co2e = ((activity_value as i128 * factor as i128) / 10_000_000_000) as i64;
        let co2 = co2e / 100 * 97;
        out.numeric(co2, 6);
        out.numeric(co2e / 1000 * 12, 6); // ch4
        out.numeric(co2e / 1000 * 5, 6); // n2o
        if activity == "refrigerant_leakage" {
            out.numeric(co2e / 100, 6);
        } else {
            out.null(); // hfc
        }
        out.null(); // pfc
        out.null(); // sf6
        out.null(); // nf3
        out.numeric(co2e, 6);
        out.uuid(&self.factors[(member + r.below(2) as usize) % EMISSION_FACTORS]);
        out.numeric(factor, 10);
        out.text(factor_unit.as_bytes());
        out.text(METHODS[r.below(METHODS.len() as u64) as usize].as_bytes());
        if r.below(10) == 0 {
            out.null();
        } else {
            out.numeric(r.below(5001) as i64, 2); // 0.00 .. 50.00 %
        }
        out.int2(1 + r.below(5) as i16);
        out.timestamptz(at + 1_000_000 * (60 + r.below(3600) as i64));
        out.uuid(&self.users[r.below(USERS as u64) as usize]);
        if r.below(3) == 0 {
            out.null();
        } else {
            out.uuid(&uuid(self.seed, 6, i));
        }
        let mut hash = [0u8; 64];
        hex(&[r.next(), r.next(), r.next(), r.next()], &mut hash);
        out.text(&hash);
        out.end_row();
    }

    fn sensor(&self, i: u64, out: &mut impl RowWriter) {
        let mut r = Rng::new(self.seed, i);
        let member = (i % self.table.rows_per_tick()) as usize;
        let facility = member / DEVICES_PER_FACILITY;
        let (metric, unit, device_type) = METRICS[member % METRICS.len()];
        let (level, serial) = &self.devices[member];
        out.begin_row(11);
        out.int8(i as i64 + 1);
        out.timestamptz(self.time_of(i));
        out.uuid(&self.organizations[facility / FACILITIES_PER_ORGANIZATION]);
        out.uuid(&self.facilities[facility]);
        out.uuid(&self.members[member]);
        out.text(metric.as_bytes());
        // A meter's reading wanders around its own level: 0 .. 10 000 with 6 decimals.
        out.numeric((level + r.below(1_000_000_000)) as i64, 6);
        out.text(unit.as_bytes());
        out.int2(match r.below(100) {
            0 => 2,
            1..=3 => 1,
            _ => 0,
        });
        out.text(device_type.as_bytes());
        match serial {
            Some(serial) => out.text(serial),
            None => out.null(),
        }
        out.end_row();
    }
}

/// Sensor device `member`'s level (0 .. 9 000 with 6 decimals) and meter serial (none for a thermometer).
fn device(seed: u64, member: u64) -> (u64, Option<[u8; 11]>) {
    let level = mix(seed ^ 0x5e11, member) % 9_000_000_000;
    let (metric, _, _) = METRICS[member as usize % METRICS.len()];
    let serial = (metric != "temperature").then(|| {
        let mut serial = *b"SN-00000000";
        hex(&[mix(seed ^ 0x5e12, member)], &mut serial[3..]);
        serial
    });
    (level, serial)
}

/// SplitMix64 of `seed` and `i`: the stateless mixer every value comes from.
pub fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A version-4-shaped UUID for entity `i` of `kind`.
fn uuid(seed: u64, kind: u64, i: u64) -> [u8; 16] {
    let a = mix(seed ^ kind.wrapping_mul(0xA24B_AED4_963E_E407), i);
    let b = mix(a, kind);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.to_be_bytes());
    out[8..].copy_from_slice(&b.to_be_bytes());
    out[6] = (out[6] & 0x0f) | 0x40;
    out[8] = (out[8] & 0x3f) | 0x80;
    out
}

/// Lowercase hex of `words` into `out` (as many digits as `out` holds).
fn hex(words: &[u64], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // A byte (two digits) at a time: the 64-digit lineage hash of every emission row is made here.
    for (n, pair) in out.chunks_mut(2).enumerate() {
        let byte = words[n / 8 % words.len()].to_be_bytes()[n % 8];
        pair[0] = DIGITS[usize::from(byte >> 4)];
        if let Some(low) = pair.get_mut(1) {
            *low = DIGITS[usize::from(byte & 0xf)];
        }
    }
}

/// The values of one row: a SplitMix64 sequence started from the seed and the row number.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, i: u64) -> Rng {
        Rng(mix(seed, i))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0, 0)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2⁻³² for the sizes used here).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column as the migration declares it.
    #[derive(Debug)]
    struct Column {
        name: String,
        kind: String,
        not_null: bool,
    }

    /// The column list of `CREATE TABLE table (…)` in a migration file.
    fn declared(sql: &str, table: &str) -> Vec<Column> {
        let start = sql.find(&format!("CREATE TABLE {table} (")).expect("the table is in the migration");
        let body = &sql[start..];
        let body = &body[body.find('(').unwrap() + 1..body.find("\n)").unwrap()];
        body.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("PRIMARY KEY") && !l.starts_with("--"))
            .map(|l| {
                let mut words = l.split_whitespace();
                let name = words.next().unwrap().to_string();
                let rest: String = words.collect::<Vec<_>>().join(" ");
                let kind = rest.split(" NOT NULL").next().unwrap().split(" DEFAULT").next().unwrap();
                Column {
                    name,
                    kind: kind.trim_end_matches(',').to_string(),
                    not_null: rest.contains("NOT NULL") || rest.starts_with("BIGSERIAL"),
                }
            })
            .collect()
    }

    /// Checks every value against its declared column: NULLs only where allowed, lengths within VARCHAR(n),
    /// numerics within DECIMAL(p, s), smallints within range, UUIDs of version 4, times within the range.
    struct Checker<'a> {
        columns: &'a [Column],
        at: usize,
        rows: u64,
        problems: Vec<String>,
    }

    impl Checker<'_> {
        fn column(&mut self, kind: &str) -> Option<&Column> {
            let c = self.columns.get(self.at);
            self.at += 1;
            match c {
                Some(c) if c.kind.starts_with(kind) => Some(c),
                Some(c) => {
                    self.problems.push(format!("{}: a {kind} value for a {} column", c.name, c.kind));
                    None
                }
                None => {
                    self.problems.push("more values than columns".into());
                    None
                }
            }
        }

        fn bounds(kind: &str) -> (u32, u32) {
            let inner = &kind[kind.find('(').unwrap() + 1..kind.find(')').unwrap()];
            let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>().unwrap());
            (parts.next().unwrap(), parts.next().unwrap_or(0))
        }
    }

    impl RowWriter for Checker<'_> {
        fn begin_row(&mut self, columns: u16) {
            self.at = 0;
            if columns as usize != self.columns.len() {
                self.problems.push(format!("{columns} values for {} columns", self.columns.len()));
            }
        }
        fn null(&mut self) {
            let c = &self.columns[self.at];
            if c.not_null {
                self.problems.push(format!("{}: NULL in a NOT NULL column", c.name));
            }
            self.at += 1;
        }
        fn int8(&mut self, value: i64) {
            if self.column("BIGSERIAL").is_some() && value < 1 {
                self.problems.push(format!("id {value} is not a sequence value"));
            }
        }
        fn int2(&mut self, _value: i16) {
            self.column("SMALLINT");
        }
        fn timestamptz(&mut self, micros: i64) {
            if let Some(c) = self.column("TIMESTAMPTZ") {
                let name = c.name.clone();
                if !(RANGE_START..RANGE_START + 400 * DAY).contains(&micros) {
                    self.problems.push(format!("{name}: {micros} outside the generator's range"));
                }
            }
        }
        fn uuid(&mut self, value: &[u8; 16]) {
            if self.column("UUID").is_some() && (value[6] >> 4 != 4 || value[8] >> 6 != 2) {
                self.problems.push("a UUID that is not version 4".into());
            }
        }
        fn text(&mut self, value: &[u8]) {
            if let Some(c) = self.column("VARCHAR") {
                let (n, _) = Checker::bounds(&c.kind);
                let name = c.name.clone();
                let text = std::str::from_utf8(value).expect("UTF-8");
                if text.chars().count() > n as usize || text.is_empty() || text.contains([',', '"', '\n', '\\']) {
                    self.problems.push(format!("{name}: '{text}' does not fit VARCHAR({n}) or needs quoting"));
                }
            }
        }
        fn numeric(&mut self, unscaled: i64, scale: u8) {
            if let Some(c) = self.column("DECIMAL") {
                let (precision, declared_scale) = Checker::bounds(&c.kind);
                let (name, kind) = (c.name.clone(), c.kind.clone());
                let integer_digits = (unscaled.unsigned_abs() / 10u64.pow(scale as u32)).to_string().len() as u32;
                if scale as u32 != declared_scale || integer_digits > precision - declared_scale || unscaled < 0 {
                    self.problems.push(format!("{name}: {unscaled}e-{scale} does not fit {kind}"));
                }
            }
        }
        fn end_row(&mut self) {
            if self.at != self.columns.len() {
                self.problems.push(format!("a row of {} values for {} columns", self.at, self.columns.len()));
            }
            self.rows += 1;
        }
    }

    const MIGRATIONS: [&str; 2] = [
        include_str!("../../sql/migrations/0002_timeseries_tables.native.sql"),
        include_str!("../../sql/migrations/0002_timeseries_tables.timescaledb.sql"),
    ];

    #[test]
    fn every_generated_row_satisfies_the_migrations_column_constraints() {
        for sql in MIGRATIONS {
            for table in [Table::EmissionMeasurements, Table::SensorReadings] {
                let columns = declared(sql, table.name());
                let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
                assert_eq!(names, table.columns(), "the generator writes the declared columns in order");
                let mut checker = Checker { columns: &columns, at: 0, rows: 0, problems: Vec::new() };
                // Two passes over the range, to cover the wrap.
                let g = Generator::new(table, 42, 20_000);
                g.write_rows(0, 40_000, &mut checker);
                assert_eq!(checker.rows, 40_000);
                checker.problems.dedup();
                assert!(
                    checker.problems.is_empty(),
                    "{}: {:?}",
                    table.name(),
                    &checker.problems[..5.min(checker.problems.len())]
                );
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_rows_and_another_seed_others() {
        let bytes = |seed: u64, from: u64| {
            let mut b = crate::bench::copy::BinaryBatch::with_capacity(0);
            Generator::new(Table::EmissionMeasurements, seed, 10_000).write_rows(from, from + 500, &mut b);
            b.buf
        };
        assert_eq!(bytes(7, 0), bytes(7, 0));
        assert_eq!(bytes(7, 9_000), bytes(7, 9_000), "any batch can be made on its own");
        assert_ne!(bytes(7, 0), bytes(8, 0));
    }

    /// SHA-256 of the binary COPY tuples of rows `from..to` of `table` (seed 1, a million rows per pass), in
    /// batches of 1000 as the encoder writes them.
    fn digest(table: Table, from: u64, to: u64) -> String {
        use sha2::Digest;
        let g = Generator::new(table, 1, 1_000_000);
        let mut hash = sha2::Sha256::new();
        for start in (from..to).step_by(1000) {
            let mut b = crate::bench::copy::BinaryBatch::with_capacity(0);
            g.write_rows(start, (start + 1000).min(to), &mut b);
            hash.update(b.tuples());
        }
        format!("{:x}", hash.finalize())
    }

    /// A regression guard for speed work on the generator and the encoder: the bytes sent for a seed never
    /// change (figures of two runs are only comparable if they loaded the same rows). The values were taken
    /// from the generator before its per-member values were precomputed and the encoder's numeric fast path.
    #[test]
    fn the_rows_of_a_seed_are_pinned_by_their_digest() {
        // The start of a pass, and rows past one pass (the wrap, ids still growing).
        let pinned = [
            (Table::SensorReadings, 0, 20_000, "ec31abd1266fec04dc41ba380eed52b2eb5fb3207f801287ce53e6394b74f27f"),
            (
                Table::SensorReadings,
                999_000,
                1_003_000,
                "ab662a8961cb6dc10cc4cb71f1e18748c3d929adb92b76dcc0295f185efaf5ba",
            ),
            (
                Table::EmissionMeasurements,
                0,
                20_000,
                "ca33da9ab953911d0f783d79b64b3e7fdabafe371eb2138d25f0f9182ac9de18",
            ),
            (
                Table::EmissionMeasurements,
                999_000,
                1_003_000,
                "bf7d5487b0973b395d4e6892acfccb44e0ee22f7d61c677e5b06d7da3f5a955d",
            ),
        ];
        for (table, from, to, want) in pinned {
            assert_eq!(digest(table, from, to), want, "{} rows {from}..{to}", table.name());
        }
    }

    #[test]
    fn rows_are_in_time_order_within_a_pass_and_spread_over_the_range() {
        let g = Generator::new(Table::SensorReadings, 3, 100_000);
        let per_tick = Table::SensorReadings.rows_per_tick();
        let ticks: Vec<i64> = (0..100_000).step_by(per_tick as usize).map(|i| g.time_of(i)).collect();
        assert!(ticks.windows(2).all(|w| w[0] < w[1]), "each tick later than the one before");
        let last = g.time_of(99_999);
        assert!(last > RANGE_START + 29 * DAY && last < RANGE_START + 31 * DAY, "one pass spans the month");
        assert_eq!(g.time_of(100_000) / DAY, RANGE_START / DAY, "the next pass starts the range again");
    }

    #[test]
    fn cardinalities_are_those_stated() {
        let g = Generator::new(Table::EmissionMeasurements, 1, 1000);
        let facilities: std::collections::BTreeSet<_> = (0..1000).map(|n| g.facility(n).1).collect();
        let organizations: std::collections::BTreeSet<_> = (0..1000).map(|n| g.facility(n).0).collect();
        assert_eq!((organizations.len(), facilities.len()), (ORGANIZATIONS, FACILITIES));
    }
}
