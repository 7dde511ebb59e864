//! Regression tests for the `lwprof report` defects and flags of issue 8,
//! each named after its defect, with perf 6.1's report of the same file as
//! the judge where it can answer.

mod common;

use common::*;
use std::path::Path;

/// A perf recording of two commands with known shares (70/30 each).
fn two_commands(d: &Path) {
    let a = compile_c(
        d,
        "prog_a",
        &busy_c("hot_a", "side_a"),
        &["-O1", "-g", "-fno-omit-frame-pointer"],
    );
    let b = compile_c(
        d,
        "prog_b",
        &busy_c("hot_b", "side_b"),
        &["-O1", "-g", "-fno-omit-frame-pointer"],
    );
    let script = format!("{} 0.6 & {} 0.3; wait", a.display(), b.display());
    perf_ok(
        d,
        &[
            "record", "-q", "-g", "-F", "2000", "-o", "two.data", "--", "sh", "-c", &script,
        ],
    );
}

/// The entry lines (no `#` lines, no graph lines) of a report.
fn entries(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| !l.starts_with('#') && l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn lwprof_report(d: &Path, args: &[&str]) -> String {
    let mut a = vec!["report", "-i", "two.data"];
    a.extend_from_slice(args);
    ok(d, &a).0
}

fn perf_report(d: &Path, args: &[&str]) -> String {
    let mut a = vec!["report", "--stdio", "-i", "two.data"];
    a.extend_from_slice(args);
    perf_ok(d, &a).0
}

/// The first `n` entries of at least 1% agree with perf's (shares to 0.01
/// and names; smaller entries tie and their order is not perf's).
fn same_top(d: &Path, args: &[&str], n: usize) {
    let big = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .filter(|l| {
                l.split_whitespace()
                    .next()
                    .and_then(|p| p.trim_end_matches('%').parse::<f64>().ok())
                    .is_some_and(|p| p >= 1.0)
            })
            .collect()
    };
    let ours = big(entries(&lwprof_report(d, args)));
    let theirs = big(entries(&perf_report(d, args)));
    assert!(ours.len() >= n.min(theirs.len()), "{args:?}: {ours:?}");
    assert_eq!(
        &ours[..n.min(theirs.len())],
        &theirs[..n.min(theirs.len())],
        "{args:?}"
    );
}

#[test]
fn filters_keep_absolute_shares_and_time_takes_perfs_forms() {
    let dir = scratch("filters");
    let d = dir.path();
    two_commands(d);
    // --comm and --pid keep the share of the whole; --percentage relative
    // rescales; --time takes percent slices and perf-clock seconds.
    same_top(d, &["--no-children", "-g", "none", "--comm", "prog_b"], 2);
    same_top(
        d,
        &[
            "--no-children",
            "-g",
            "none",
            "--comm",
            "prog_b",
            "--percentage",
            "relative",
        ],
        2,
    );
    same_top(d, &["--no-children", "-g", "none", "--time", "50%/2"], 3);
    same_top(
        d,
        &["--no-children", "-g", "none", "--time", "0%-10%,90%-100%"],
        3,
    );
    let (script, _) = perf_ok(d, &["script", "-F", "time", "-i", "two.data"]);
    let times: Vec<f64> = script
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(':').parse().ok())
        .collect();
    let (first, last) = (times[0], times[times.len() - 1]);
    let mid = format!(
        "{:.6},{:.6}",
        first + (last - first) * 0.25,
        first + (last - first) * 0.75
    );
    same_top(d, &["--no-children", "-g", "none", "--time", &mid], 3);
    // The header names what the filter left, as perf's does.
    let out = lwprof_report(d, &["--no-children", "-g", "none", "--comm", "prog_b"]);
    assert!(out.contains("# comm: prog_b"), "{out}");
    assert!(
        !out.contains("Command"),
        "the comm column is elided:\n{out}"
    );
}

#[test]
fn call_graph_order_and_modes_follow_perfs_grammar() {
    let dir = scratch("graph");
    let d = dir.path();
    two_commands(d);
    let first_chain_line = |out: &str| -> String {
        out.lines()
            .find_map(|l| l.trim_start().strip_prefix("---"))
            .unwrap_or_default()
            .to_string()
    };
    for g in [
        None,
        Some("graph,0.5,caller"),
        Some("graph,0.5,callee"),
        Some("fractal"),
        Some("folded"),
    ] {
        let mut args = vec!["--no-children", "--comm", "prog_a"];
        if let Some(g) = g {
            args.extend(["-g", g]);
        }
        let ours = lwprof_report(d, &args);
        let theirs = perf_report(d, &args);
        assert_eq!(
            first_chain_line(&ours),
            first_chain_line(&theirs),
            "-g {g:?}:\n{ours}\n---- perf:\n{theirs}"
        );
        if g == Some("folded") {
            let folded = |s: &str| -> Vec<String> {
                s.lines()
                    .filter(|l| l.contains(';'))
                    .map(str::to_string)
                    .collect()
            };
            let (a, b) = (folded(&ours), folded(&theirs));
            let n = a.len().min(b.len()).min(2);
            assert!(n > 0, "no folded chains:\n{ours}");
            assert_eq!(a[..n], b[..n], "folded");
        }
    }
    // Without --children perf's default is callee order: the leaf first.
    let out = lwprof_report(d, &["--no-children", "--comm", "prog_a"]);
    assert_eq!(first_chain_line(&out), "hot_a", "{out}");
    let inverted = lwprof_report(d, &["--no-children", "--comm", "prog_a", "-G"]);
    assert!(first_chain_line(&inverted).contains("start"), "{inverted}");
    for bad in ["graph,0.5,bogus", "graph,200", "bogus"] {
        let o = lwprof(d, &["report", "-i", "two.data", "-g", bad]);
        let err = text(&o).1;
        assert!(!o.status.success(), "-g {bad} accepted");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn perfs_report_flags_give_perfs_entries() {
    let dir = scratch("flags");
    let d = dir.path();
    two_commands(d);
    for args in [
        &["--no-children", "-g", "none", "-n"][..],
        &["--no-children", "-g", "none", "--percent-limit", "5"][..],
        &["--no-children", "-g", "none", "-S", "hot_a,side_b"][..],
        &["--no-children", "-g", "none", "-s", "sym"][..],
        &["--no-children", "-g", "none", "-s", "pid"][..],
        &["--no-children", "-g", "none", "-s", "cpu,comm"][..],
        &[
            "--no-children",
            "-g",
            "none",
            "-s",
            "srcline",
            "--comm",
            "prog_a",
        ][..],
        &[
            "--no-children",
            "-g",
            "none",
            "-F",
            "overhead,sample,period,sym",
        ][..],
        &["--children", "-g", "none", "-s", "sym"][..],
        &[
            "--no-children",
            "-g",
            "none",
            "--max-stack",
            "1",
            "-s",
            "sym",
        ][..],
        &["-g", "none", "-s", "parent", "--comm", "prog_a"][..],
    ] {
        same_top(d, args, 2);
    }
    // -q: entries only; -U: no unresolved entries; --no-demangle.
    let quiet = lwprof_report(d, &["-q", "--no-children", "-g", "none"]);
    assert!(quiet.lines().all(|l| !l.starts_with('#')), "{quiet}");
    let hidden = lwprof_report(d, &["-U", "--no-children", "-g", "none"]);
    assert!(!hidden.contains("[.] 0x"), "{hidden}");
    let o = lwprof(d, &["report", "-i", "two.data", "-v", "-g", "none"]);
    assert!(
        text(&o).1.contains("records,"),
        "-v shows what the reader counted"
    );
}

#[test]
fn unresolved_frames_print_the_addresses_perf_prints() {
    let dir = scratch("addresses");
    let d = dir.path();
    let prog = compile_c(
        d,
        "prog",
        &busy_c("hot_s", "side_s"),
        &["-O1", "-fno-omit-frame-pointer", "-s"],
    );
    perf_ok(
        d,
        &[
            "record",
            "-q",
            "-g",
            "-o",
            "two.data",
            "--",
            prog.to_str().unwrap(),
            "0.3",
        ],
    );
    // Rows show the relative address, 16 digits; call chains show the
    // recorded (absolute, return) addresses.
    let args = ["--no-children", "--comm", "prog", "-g", "caller"];
    let ours = lwprof_report(d, &args);
    let theirs = perf_report(d, &args);
    let rows = |s: &str| -> Vec<String> { entries(s).into_iter().take(2).collect() };
    assert_eq!(rows(&ours), rows(&theirs));
    let chain = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.contains("0x") && !l.contains("[.]"))
            .take(4)
            .map(|l| l.trim().trim_start_matches("---").to_string())
            .collect()
    };
    assert_eq!(chain(&ours), chain(&theirs), "{ours}\n---- perf:\n{theirs}");
}

#[test]
fn sorting_by_command_alone_reads_no_debug_information() {
    let dir = scratch("lazy");
    let d = dir.path();
    two_commands(d);
    // The binaries are gone: a report that needs symbols says so, one
    // sorted by command alone (without graphs) does not need them.
    std::fs::remove_file(d.join("prog_a")).expect("rm");
    let o = lwprof(d, &["report", "-i", "two.data", "-s", "comm", "-g", "none"]);
    let (out, err) = text(&o);
    assert!(o.status.success());
    assert!(err.is_empty(), "symbols were loaded: {err}");
    assert!(out.contains("prog_a"), "{out}");
    // (perf record put it in its build-id cache: look in an empty one.)
    let empty = d.join("empty-cache");
    let o = lwprof_env(
        d,
        &["report", "-i", "two.data", "-s", "sym", "-g", "none"],
        &[("PERF_BUILDID_DIR", empty.as_path())],
    );
    assert!(
        text(&o).1.contains("prog_a"),
        "the symbol report names the missing binary"
    );
}

#[test]
fn usage_errors_are_one_line_without_a_misleading_usage() {
    let dir = scratch("usage");
    for args in [
        &["report", "--bogus"][..],
        &["record", "--bogus"][..],
        &["stat", "--nope"][..],
    ] {
        let o = lwprof(dir.path(), args);
        let err = text(&o).1;
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!err.contains("Usage:"), "{err}");
        assert!(err.contains("--help"), "{err}");
    }
}

#[test]
fn report_numbers_and_inputs_are_checked() {
    let dir = scratch("report-bad");
    let d = dir.path();
    std::fs::create_dir(d.join("adir")).expect("mkdir");
    let fifo = d.join("fifo");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(st.success());
    for (args, needle) in [
        (&["report", "--pid", "99999999999"][..], "out of range"),
        (&["report", "--time", "1e300,"][..], "out of range"),
        (&["report", "--percent-limit", "200"][..], "percentage"),
        (&["report", "--max-stack", "many"][..], "--max-stack"),
        (&["report", "-i", "adir"][..], "is a directory"),
        (&["report", "-i", "fifo"][..], "pipe"),
        (&["report", "-F", "nope"][..], "unknown field"),
        (&["report", "--sort", "nope"][..], "unknown key"),
    ] {
        let o = lwprof(d, args);
        let err = text(&o).1;
        assert!(!o.status.success(), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
