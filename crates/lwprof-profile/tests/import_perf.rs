//! perf's own perf.data (from `perf record -g`) read through the one
//! converter: the top functions match what `perf report` says, within one
//! point, and a damaged file still gives the samples before the damage.

use lwprof_profile::import::{import, ImportOptions};
use lwprof_profile::model::{SortKey, TopOptions, TopOrder};
use lwprof_profile::SymbolizeProfile;
use lwprof_symbols::{Symbolizer, SymbolizerConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lwprof-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn perf_record(prog: &Path, out: &Path) {
    let st = Command::new("perf")
        .args(["record", "-q", "-g", "-F", "2000", "-e", "cpu-clock", "-o"])
        .arg(out)
        .arg("--")
        .arg(prog)
        .arg("1.5")
        .output()
        .expect("Linux perf is installed by .ci/run");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// `perf report --stdio` self percentages by symbol.
fn perf_self_shares(data: &Path) -> BTreeMap<String, f64> {
    let o = Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--no-children",
            "-q",
            "--sort",
            "sym",
            "-g",
            "none",
            "-i",
        ])
        .arg(data)
        .output()
        .unwrap();
    let mut out = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let mut it = line.split_whitespace();
        let (Some(pct), Some(_mode), Some(sym)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        if let Ok(p) = pct.trim_end_matches('%').parse::<f64>() {
            *out.entry(sym.to_string()).or_default() += p;
        }
    }
    out
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
    let data = scratch("shares.data");
    perf_record(&prog, &data);
    let theirs = perf_self_shares(&data);
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
    let data = scratch("cut.data");
    perf_record(&prog, &data);
    let bytes = std::fs::read(&data).unwrap();
    let file = lwprof_perfdata::PerfDataFile::open(&data).unwrap();
    let (start, size) = file.header().data;
    let cut = scratch("cut-half.data");
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
