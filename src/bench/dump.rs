//! `glctl bench --dump DIR --rows N`: the very rows an ingest of N rows sends, as files `psql \copy` loads
//! (`TABLE.csv`, and `TABLE.bin` in binary COPY format), for the benchmark script's comparison. With more
//! than one connection, also `TABLE.K.bin` for each connection K: the batches dealt out in turn, so that as
//! many `psql` processes as glctl has connections load the same rows side by side.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::copy::{BinaryBatch, CsvBatch};
use super::generator::Generator;
use super::BenchError;
use super::Options;

pub fn write(dir: &Path, options: &Options) -> Result<Vec<PathBuf>, BenchError> {
    let rows = options.rows.ok_or_else(|| BenchError::Usage("--dump needs --rows".into()))?;
    let io = |path: &Path, e: std::io::Error| BenchError::Usage(format!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    for table in &options.tables {
        // The same generator an ingest of exactly `rows` rows uses (one pass over the range).
        let gen = Generator::new(*table, options.seed, rows);
        let csv_path = dir.join(format!("{}.csv", table.name()));
        let bin_path = dir.join(format!("{}.bin", table.name()));
        let mut csv = std::io::BufWriter::new(std::fs::File::create(&csv_path).map_err(|e| io(&csv_path, e))?);
        let mut bin = std::io::BufWriter::new(std::fs::File::create(&bin_path).map_err(|e| io(&bin_path, e))?);
        bin.write_all(BinaryBatch::header()).map_err(|e| io(&bin_path, e))?;
        let n = if options.connections > 1 { options.connections } else { 0 };
        let part_paths: Vec<PathBuf> = (0..n).map(|k| dir.join(format!("{}.{k}.bin", table.name()))).collect();
        let mut parts = Vec::with_capacity(n);
        for path in &part_paths {
            let mut part = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| io(path, e))?);
            part.write_all(BinaryBatch::header()).map_err(|e| io(path, e))?;
            parts.push(part);
        }
        let step = options.batch_rows.max(1);
        let mut from = 0;
        let mut batch = 0usize;
        while from < rows {
            let to = from.saturating_add(step).min(rows);
            let mut c = CsvBatch::default();
            gen.write_rows(from, to, &mut c);
            csv.write_all(&c.buf).map_err(|e| io(&csv_path, e))?;
            let mut b = BinaryBatch::with_capacity(0);
            gen.write_rows(from, to, &mut b);
            bin.write_all(b.tuples()).map_err(|e| io(&bin_path, e))?;
            if let Some(part) = parts.get_mut(batch % n.max(1)) {
                part.write_all(b.tuples()).map_err(|e| io(&part_paths[batch % n], e))?;
            }
            from = to;
            batch += 1;
        }
        bin.write_all(&(-1i16).to_be_bytes()).map_err(|e| io(&bin_path, e))?;
        csv.flush().map_err(|e| io(&csv_path, e))?;
        bin.flush().map_err(|e| io(&bin_path, e))?;
        for (part, path) in parts.iter_mut().zip(&part_paths) {
            part.write_all(&(-1i16).to_be_bytes()).map_err(|e| io(path, e))?;
            part.flush().map_err(|e| io(path, e))?;
        }
        written.push(csv_path);
        written.push(bin_path);
        written.extend(part_paths);
    }
    Ok(written)
}
