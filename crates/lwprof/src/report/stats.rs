//! `lwprof report --stats`: how many records of each type a perf.data file
//! holds, laid out as `perf report --stats` lays them out (aggregated, then
//! the samples of each event), lost and throttle records included.
//!
//! It counts what the file holds; it deliberately builds no profile and
//! reads no symbols. Records inside PERF_RECORD_COMPRESSED are counted
//! under their own type, and the compressed records once each, as perf
//! counts them. A `--threads` directory is counted as one file: its `data`
//! and every `data.N` stream.

use anyhow::Result;
use lwprof_perfdata::{PerfDataError, PerfDataFile, PerfDataInput};
use lwprof_records::abi::record_type;
use std::io::Write;
use std::path::Path;

/// Counts of one file's records.
#[derive(Debug, Default)]
pub struct RecordCounts {
    /// By record type (index = `PERF_RECORD_*`).
    pub by_type: Vec<u64>,
    /// SAMPLE records of each event, in attr order.
    pub samples_by_event: Vec<u64>,
    /// Event names, in attr order.
    pub event_names: Vec<String>,
    /// Damage that stopped the walk.
    pub damage: Option<PerfDataError>,
}

/// Walks `path` (a perf.data file, or a `--threads` directory) and counts
/// its records.
pub fn count_records(path: &Path) -> Result<RecordCounts, PerfDataError> {
    if !super::inputs::is_threads_dir(path) {
        return count_file_records(path);
    }
    let data = path.join("data");
    let mut counts = count_file_records(&data)?;
    let streams = lwprof_profile::streams::thread_streams(path)?;
    let locator = lwprof_profile::import::record_locator(PerfDataInput::open(&data)?)?;
    let walk = lwprof_profile::streams::merge_streams(&streams, &locator, |type_, _, attr, _| {
        counts.count(type_, attr);
    });
    counts.by_type[record_type::COMPRESSED as usize] += walk.compressed;
    if counts.damage.is_none() {
        counts.damage = walk.damage;
    }
    Ok(counts)
}

impl RecordCounts {
    /// Counts one record: by type (past the table, in TOTAL only, as perf
    /// does not count them) and, for a sample, by event.
    fn count(&mut self, type_: u32, attr_index: Option<usize>) {
        match self.by_type.get_mut(type_ as usize) {
            Some(n) => *n += 1,
            None => self.by_type[0] += 1,
        }
        if type_ == record_type::SAMPLE {
            if let Some(n) = attr_index.and_then(|i| self.samples_by_event.get_mut(i)) {
                *n += 1;
            }
        }
    }
}

/// Walks one perf.data file and counts its records.
fn count_file_records(path: &Path) -> Result<RecordCounts, PerfDataError> {
    let file = match PerfDataFile::open(path) {
        Ok(f) => f,
        Err(PerfDataError::Unfinished { .. }) => PerfDataFile::open_unfinished(path)?,
        Err(e) => return Err(e),
    };
    let mut counts = RecordCounts {
        by_type: vec![0; record_type::MAX as usize],
        samples_by_event: vec![0; file.attrs().len()],
        event_names: file.attrs().iter().map(|a| a.name.clone()).collect(),
        damage: None,
    };
    let walk = file.for_each_record(|r| counts.count(r.type_, r.attr_index));
    counts.by_type[record_type::COMPRESSED as usize] += walk.compressed;
    counts.damage = walk.error;
    Ok(counts)
}

/// Prints `counts` as `perf report --stats` does.
pub fn write_stats(counts: &RecordCounts, out: &mut impl Write) -> std::io::Result<()> {
    let total: u64 = counts.by_type.iter().sum();
    writeln!(out)?;
    writeln!(out, "Aggregated stats:")?;
    writeln!(out, "{:>16} events: {:>10}", "TOTAL", total)?;
    for (t, &n) in counts.by_type.iter().enumerate().skip(1) {
        let Some(name) = record_type::name(t as u32) else {
            continue;
        };
        if n == 0 {
            continue;
        }
        let pct = 100.0 * n as f64 / total.max(1) as f64;
        writeln!(out, "{:>16} events: {:>10}  ({:4.1}%)", name, n, pct)?;
    }
    for (name, &n) in counts.event_names.iter().zip(&counts.samples_by_event) {
        writeln!(out, "{name} stats:")?;
        writeln!(out, "{:>16} events: {:>10}", "SAMPLE", n)?;
    }
    Ok(())
}

/// `lwprof report --stats -i FILE`.
pub fn run(path: &Path) -> Result<u8> {
    let counts = count_records(path)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_stats(&counts, &mut out)?;
    out.flush()?;
    if let Some(damage) = &counts.damage {
        eprintln!("lwprof: warning: {damage}; the records before it are counted");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_laid_out_as_perf_lays_them_out() {
        let mut by_type = vec![0; record_type::MAX as usize];
        by_type[record_type::SAMPLE as usize] = 3;
        by_type[record_type::LOST as usize] = 1;
        let counts = RecordCounts {
            by_type,
            samples_by_event: vec![3],
            event_names: vec!["cpu-clock:ppp".into()],
            damage: None,
        };
        let mut out = Vec::new();
        write_stats(&counts, &mut out).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "\nAggregated stats:\n           TOTAL events:          4\n\
             \x20           LOST events:          1  (25.0%)\n\
             \x20         SAMPLE events:          3  (75.0%)\n\
             cpu-clock:ppp stats:\n\
             \x20         SAMPLE events:          3\n"
        );
    }
}
