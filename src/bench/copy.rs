//! PostgreSQL's COPY formats, encoded by glctl itself into one large buffer per batch.
//!
//! tokio-postgres' `BinaryCopyInWriter` encodes value by value through `ToSql` and sends row by row; a loader
//! that must outrun the server writes the bytes directly (PostgreSQL docs, "COPY", Binary Format: a header,
//! per tuple an int16 field count then per field an int32 length (-1 for NULL) and the value in the type's
//! binary send format, and an int16 -1 trailer) and hands the whole batch to `copy_in` at once.

use super::generator::RowWriter;

/// `PGCOPY\n\377\r\n\0`, flags 0, no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// One batch in binary COPY format.
pub struct BinaryBatch {
    pub buf: Vec<u8>,
    pub rows: u64,
}

impl BinaryBatch {
    pub fn with_capacity(bytes: usize) -> BinaryBatch {
        let mut buf = Vec::with_capacity(bytes);
        buf.extend_from_slice(HEADER);
        BinaryBatch { buf, rows: 0 }
    }

    /// A piece that continues a COPY stream begun by an earlier one: no header.
    pub fn continuation(bytes: usize) -> BinaryBatch {
        BinaryBatch { buf: Vec::with_capacity(bytes), rows: 0 }
    }

    /// Appends the trailer; the buffer is then a complete COPY stream (or its last piece).
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }

    /// The tuples written so far, without header or trailer (for a file of many batches).
    pub fn tuples(&self) -> &[u8] {
        &self.buf[HEADER.len()..]
    }

    pub fn header() -> &'static [u8] {
        HEADER
    }

    fn field(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    /// A field of 8 bytes, length and value written as one fixed-size array: a copy of known size is a
    /// move or two, where a slice of any size goes through `memmove` (a sixth of the encoder's time).
    fn field8(&mut self, value: [u8; 8]) {
        let mut f = [0u8; 12];
        f[..4].copy_from_slice(&8i32.to_be_bytes());
        f[4..].copy_from_slice(&value);
        self.buf.extend_from_slice(&f);
    }
}

impl RowWriter for BinaryBatch {
    fn begin_row(&mut self, columns: u16) {
        self.buf.extend_from_slice(&(columns as i16).to_be_bytes());
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn int8(&mut self, value: i64) {
        self.field8(value.to_be_bytes());
    }

    fn int2(&mut self, value: i16) {
        let mut f = [0u8; 6];
        f[..4].copy_from_slice(&2i32.to_be_bytes());
        f[4..].copy_from_slice(&value.to_be_bytes());
        self.buf.extend_from_slice(&f);
    }

    fn timestamptz(&mut self, micros: i64) {
        self.field8(micros.to_be_bytes());
    }

    fn uuid(&mut self, value: &[u8; 16]) {
        let mut f = [0u8; 20];
        f[..4].copy_from_slice(&16i32.to_be_bytes());
        f[4..].copy_from_slice(value);
        self.buf.extend_from_slice(&f);
    }

    fn text(&mut self, value: &[u8]) {
        self.field(value);
    }

    fn numeric(&mut self, unscaled: i64, scale: u8) {
        let mut digits = [0u8; 64];
        let n = numeric_send(unscaled, scale, &mut digits);
        self.field(&digits[..n]);
    }

    fn end_row(&mut self) {
        self.rows += 1;
    }
}

/// `numeric_send`'s layout of `unscaled / 10^scale` into `out`: ndigits, weight, sign, dscale (int16 each),
/// then base-10000 digits, most significant first, without leading or trailing zero digits. Returns the
/// length written.
pub fn numeric_send(unscaled: i64, scale: u8, out: &mut [u8; 64]) -> usize {
    let negative = unscaled < 0;
    let magnitude = unscaled.unsigned_abs();
    // Align the decimal point to a base-10000 digit boundary: pad the fraction to a multiple of 4 places.
    let frac_groups = (scale as u32).div_ceil(4);
    let pad = frac_groups * 4 - scale as u32;
    let mut groups = [0u16; 12];
    let mut count = 0usize;
    // Every value the generator makes fits 64 bits after the padding: divide in u64 (a multiply by a
    // constant), not u128 (a library call per digit; wide rows carry eight numerics).
    match magnitude.checked_mul(10u64.pow(pad)) {
        Some(mut rest) => {
            while rest > 0 {
                groups[count] = (rest % 10_000) as u16;
                rest /= 10_000;
                count += 1;
            }
        }
        None => {
            let mut rest = magnitude as u128 * 10u128.pow(pad);
            while rest > 0 {
                groups[count] = (rest % 10_000) as u16;
                rest /= 10_000;
                count += 1;
            }
        }
    }
    // groups[0] is the least significant; the first frac_groups of them are after the decimal point.
    let mut low = 0usize;
    while low < count && groups[low] == 0 {
        low += 1;
    }
    let ndigits = count - low;
    let weight: i16 = if ndigits == 0 { 0 } else { count as i16 - frac_groups as i16 - 1 };
    let sign: u16 = if negative && ndigits > 0 { 0x4000 } else { 0 };
    out[0..2].copy_from_slice(&(ndigits as i16).to_be_bytes());
    out[2..4].copy_from_slice(&weight.to_be_bytes());
    out[4..6].copy_from_slice(&sign.to_be_bytes());
    out[6..8].copy_from_slice(&(scale as u16).to_be_bytes());
    let mut at = 8;
    for g in (low..count).rev() {
        out[at..at + 2].copy_from_slice(&groups[g].to_be_bytes());
        at += 2;
    }
    at
}

/// The same rows as CSV (`COPY … (FORMAT csv)`): NULL is an empty unquoted field. No generated text needs
/// quoting (no commas, quotes or newlines), which the tests check.
#[derive(Default)]
pub struct CsvBatch {
    pub buf: Vec<u8>,
    pub rows: u64,
    first: bool,
}

impl CsvBatch {
    fn separator(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }
}

impl RowWriter for CsvBatch {
    fn begin_row(&mut self, _columns: u16) {
        self.first = true;
    }

    fn null(&mut self) {
        self.separator();
    }

    fn int8(&mut self, value: i64) {
        self.separator();
        self.buf.extend_from_slice(value.to_string().as_bytes());
    }

    fn int2(&mut self, value: i16) {
        self.separator();
        self.buf.extend_from_slice(value.to_string().as_bytes());
    }

    fn timestamptz(&mut self, micros: i64) {
        self.separator();
        self.buf.extend_from_slice(timestamp_text(micros).as_bytes());
    }

    fn uuid(&mut self, value: &[u8; 16]) {
        self.separator();
        self.buf.extend_from_slice(uuid_text(value).as_bytes());
    }

    fn text(&mut self, value: &[u8]) {
        self.separator();
        self.buf.extend_from_slice(value);
    }

    fn numeric(&mut self, unscaled: i64, scale: u8) {
        self.separator();
        self.buf.extend_from_slice(numeric_text(unscaled, scale).as_bytes());
    }

    fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.rows += 1;
    }
}

/// `unscaled / 10^scale` with exactly `scale` decimals, as PostgreSQL prints a numeric of that scale.
pub fn numeric_text(unscaled: i64, scale: u8) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded =
        if digits.len() <= scale { format!("{}{digits}", "0".repeat(scale + 1 - digits.len())) } else { digits };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let sign = if unscaled < 0 { "-" } else { "" };
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff+00` for microseconds since 2000-01-01 UTC.
pub fn timestamp_text(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    // Days since 1970-01-01 (10 957 days before 2000-01-01).
    let date = crate::clock::civil_date(secs.div_euclid(86_400) + 10_957);
    let tod = secs.rem_euclid(86_400);
    format!("{date} {:02}:{:02}:{:02}.{frac:06}+00", tod / 3600, tod / 60 % 60, tod % 60)
}

pub fn uuid_text(u: &[u8; 16]) -> String {
    let h: String = u.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(unscaled: i64, scale: u8) -> Vec<i16> {
        let mut out = [0u8; 64];
        let n = numeric_send(unscaled, scale, &mut out);
        out[..n].chunks(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect()
    }

    #[test]
    fn numerics_are_encoded_as_numeric_send_writes_them() {
        // 12345.678900 = 1 | 2345 . 6789 | 0000 → digits 1, 2345, 6789 (trailing zero digit stripped), weight 1.
        assert_eq!(send(12_345_678_900, 6), [3, 1, 0, 6, 1, 2345, 6789]);
        // 0.000001: the fraction 0000 0100 → one digit 100 at weight -2.
        assert_eq!(send(1, 6), [1, -2, 0, 6, 100]);
        assert_eq!(send(0, 6), [0, 0, 0, 6]);
        // -50.00 at scale 2: 50 | 0000 → one digit 50, weight 0, negative.
        assert_eq!(send(-5000, 2), [1, 0, 0x4000, 2, 50]);
        // 1.2345678901 at scale 10: 1 . 2345 6789 0100.
        assert_eq!(send(12_345_678_901, 10), [4, 0, 0, 10, 1, 2345, 6789, 100]);
        // Past 64 bits once padded (i64::MAX at scale 1 → ×1000): the wide path gives the same layout.
        assert_eq!(send(i64::MAX, 1), [6, 4, 0, 1, 92, 2337, 2036, 8547, 7580, 7000]);
        assert_eq!(send(i64::MIN + 1, 1), [6, 4, 0x4000, 1, 92, 2337, 2036, 8547, 7580, 7000]);
    }

    #[test]
    fn text_forms_match_postgresql_s_output() {
        assert_eq!(numeric_text(12_345_678_900, 6), "12345.678900");
        assert_eq!(numeric_text(1, 6), "0.000001");
        assert_eq!(numeric_text(-5000, 2), "-50.00");
        assert_eq!(timestamp_text(super::super::generator::RANGE_START), "2025-01-01 00:00:00.000000+00");
        assert_eq!(timestamp_text(0), "2000-01-01 00:00:00.000000+00");
        // 2024-02-29 12:34:56.5: a leap day.
        let leap = (8825 * 86_400 + 12 * 3600 + 34 * 60 + 56) * 1_000_000 + 500_000;
        assert_eq!(timestamp_text(leap), "2024-02-29 12:34:56.500000+00");
        assert_eq!(uuid_text(&[0xab; 16]), "abababab-abab-abab-abab-abababababab");
    }

    #[test]
    fn a_binary_batch_has_header_tuples_and_trailer() {
        let mut b = BinaryBatch::with_capacity(64);
        b.begin_row(2);
        b.int8(7);
        b.null();
        b.end_row();
        let bytes = b.finish();
        assert_eq!(&bytes[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(&bytes[19..21], &2i16.to_be_bytes());
        assert_eq!(&bytes[21..25], &8i32.to_be_bytes());
        assert_eq!(&bytes[bytes.len() - 6..], &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    }
}
