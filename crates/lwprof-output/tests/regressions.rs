//! Inputs that once made lwprof crash or report wrong figures (issue 8's
//! `shared/regressions`), each a test named after what went wrong. They
//! need no root and no perf: the files are checked in.

use lwprof_output::{writer_for, Format, OutputOptions};
use lwprof_profile::import::{import, ImportOptions};
use lwprof_profile::model::{Percentage, SortKey, TopOptions, TopOrder};
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/regressions")
        .join(name)
}

fn shares_by(file: &str, key: SortKey) -> Vec<(String, f64)> {
    let imported = import(&data(file), ImportOptions::default()).expect("import");
    let top = imported.profile.top(&TopOptions {
        keys: vec![key],
        order: TopOrder::SelfWeight,
        ..TopOptions::default()
    });
    top.rows
        .into_iter()
        .map(|r| {
            let name = match key {
                SortKey::Comm => r.comm,
                SortKey::Symbol => r.symbol,
                _ => r.dso,
            };
            (name.unwrap_or_default(), r.self_percent)
        })
        .collect()
}

#[test]
fn samples_after_exit_keep_their_command_and_the_idle_task_is_swapper() {
    let shares = shares_by("report-exit-comm-unknown.data", SortKey::Comm);
    let get = |c: &str| shares.iter().find(|(n, _)| n == c).map_or(0.0, |s| s.1);
    assert_eq!(get("[unknown]"), 0.0, "{shares:?}");
    assert_eq!(get(""), 0.0, "{shares:?}");
    // perf 6.1 on this file: true 38.98%, swapper 0.74%.
    assert!((get("true") - 38.98).abs() < 0.01, "{shares:?}");
    assert!((get("swapper") - 0.74).abs() < 0.01, "{shares:?}");
}

#[test]
fn group_members_sampled_with_s_are_read_from_their_values() {
    let imported = import(
        &data("report-group-S-member-missing.data"),
        ImportOptions::default(),
    )
    .expect("import");
    let p = &imported.profile;
    let events = p.events();
    let task_clock = events
        .iter()
        .position(|e| e == "task-clock")
        .expect("task-clock event");
    let n = p
        .samples()
        .iter()
        .filter(|s| s.event.index() == task_clock)
        .count();
    // perf report --no-group shows 91 task-clock samples (and 91 cpu-clock).
    assert_eq!(n, 91);
    let cpu_clock = p.samples().iter().filter(|s| s.event.index() == 0).count();
    assert_eq!(cpu_clock, 91);
    // The weights are the members' deltas: perf's event count for
    // task-clock is 455155753.
    let weight: u64 = p
        .samples()
        .iter()
        .filter(|s| s.event.index() == task_clock)
        .map(|s| s.weight)
        .sum();
    assert_eq!(weight, 455_155_753);
    assert_eq!(imported.stats.unknown_ids, 0);
}

#[test]
fn zstd_compressed_records_of_perf_record_z_are_read() {
    let imported = import(
        &data("report-perf-z-zero-samples.data"),
        ImportOptions::default(),
    )
    .expect("import");
    // perf report --stats: 40 samples.
    assert_eq!(imported.profile.samples().len(), 40);
    assert!(imported.damage.is_none(), "{:?}", imported.damage);
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
}

#[test]
fn huge_periods_do_not_overflow_the_total_and_are_reported() {
    for file in ["perfdata_import-1.bin", "perfdata_import-2.bin"] {
        let imported = import(&data(file), ImportOptions::default()).expect("import");
        assert!(
            imported.stats.implausible_periods > 0,
            "{file}: not reported"
        );
        for percentage in [Percentage::Relative, Percentage::Absolute] {
            let top = imported.profile.top(&TopOptions {
                keys: vec![SortKey::Symbol],
                percentage,
                ..TopOptions::default()
            });
            for r in &top.rows {
                assert!(
                    (0.0..=100.0).contains(&r.self_percent) && r.total_percent <= 100.0,
                    "{file}: {r:?}"
                );
            }
        }
        // Every writer copes with the saturated totals.
        for format in Format::ALL {
            let mut out = Vec::new();
            writer_for(format)
                .expect("every format is built")
                .write(&imported.profile, &OutputOptions::default(), &mut out)
                .unwrap_or_else(|e| panic!("{file} {format}: {e}"));
        }
    }
}

#[test]
fn a_mapping_with_a_pgoff_near_the_top_of_the_address_space_is_no_panic() {
    let imported =
        import(&data("perfdata_import-3.bin"), ImportOptions::default()).expect("import");
    let mut out = Vec::new();
    writer_for(Format::Text)
        .expect("text is built")
        .write(&imported.profile, &OutputOptions::default(), &mut out)
        .expect("text");
}
