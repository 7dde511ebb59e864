//! perf's own perf.data (from `perf record -g`) read through the one
//! converter: the top functions match what `perf report` says, within one
//! point, and a damaged file still gives the samples before the damage.

use lwprof_profile::import::{import, ImportOptions};
use lwprof_profile::model::{SortKey, TopOptions, TopOrder};
use lwprof_profile::SymbolizeProfile;
use lwprof_symbols::{Symbolizer, SymbolizerConfig};
use lwprof_testkit::{perf_ok, perf_shares, scratch};
use std::collections::BTreeMap;
use std::path::Path;

/// `perf record -g` of `prog 1.5` into `dir/out`.
fn perf_record(dir: &Path, prog: &Path, out: &str) {
    perf_ok(
        dir,
        &[
            "record",
            "-q",
            "-g",
            "-F",
            "2000",
            "-e",
            "cpu-clock",
            "-o",
            out,
            "--",
            prog.to_str().expect("UTF-8 path"),
            "1.5",
        ],
    );
}

fn our_self_shares(data: &Path) -> (BTreeMap<String, f64>, u64) {
    let mut imported = import(data, ImportOptions::default()).unwrap();
    assert!(imported.damage.is_none(), "{:?}", imported.damage);
    let mut sym = Symbolizer::new(SymbolizerConfig::default());
    sym.symbolize_profile(&mut imported.profile);
    let report = imported.profile.top(&TopOptions {
        keys: vec![SortKey::Symbol],
        order: TopOrder::SelfWeight,
        ..Default::default()
    });
    let mut out = BTreeMap::new();
    for row in report.rows {
        *out.entry(row.symbol.unwrap_or_default()).or_default() += row.self_percent;
    }
    (out, imported.stats.samples)
}

#[test]
fn perf_files_give_the_same_top_functions_as_perf_report() {
    let prog = lwprof_workloads::c_program("shares", &[]);
    let dir = scratch("import");
    perf_record(dir.path(), &prog, "shares.data");
    let data = dir.path().join("shares.data");
    let theirs = perf_shares(dir.path(), "shares.data");
    let (ours, samples) = our_self_shares(&data);
    assert!(samples > 500, "only {samples} samples");
    for f in ["hot_seventy", "warm_thirty"] {
        let (a, b) = (
            ours.get(f).copied().unwrap_or(0.0),
            theirs.get(f).copied().unwrap_or(0.0),
        );
        assert!(
            (a - b).abs() <= 1.0,
            "{f}: lwprof {a:.2}% vs perf {b:.2}%\nours {ours:?}\nperf {theirs:?}"
        );
    }
    let hot = ours["hot_seventy"];
    let warm = ours["warm_thirty"];
    // Known shares 70/30 of the workload's own time, within 3 points of
    // the split between the two.
    let split = 100.0 * hot / (hot + warm);
    assert!((split - 70.0).abs() <= 3.0, "hot/warm split {split:.1}%");
}

#[test]
fn a_truncated_file_keeps_the_samples_before_the_damage() {
    let prog = lwprof_workloads::c_program("shares", &[]);
    let dir = scratch("import-cut");
    perf_record(dir.path(), &prog, "cut.data");
    let data = dir.path().join("cut.data");
    let bytes = std::fs::read(&data).unwrap();
    let file = lwprof_perfdata::PerfDataFile::open(&data).unwrap();
    let (start, size) = file.header().data;
    let cut = dir.path().join("cut-half.data");
    std::fs::write(&cut, &bytes[..(start + size / 2) as usize + 3]).unwrap();
    let imported = import(&cut, ImportOptions::default()).unwrap();
    let damage = imported.damage.expect("the cut must be reported");
    let msg = damage.to_string();
    assert!(msg.contains("offset"), "{msg}");
    assert!(
        imported.stats.samples > 100,
        "{} samples before the cut",
        imported.stats.samples
    );
}
