//! `lwprof report` at scale and its file views (issue 10): `--stats` and
//! `--header` against perf 6.1's `--stats` and `--header-only` on the same
//! file, and a report of a perf file read through the round-ordered import
//! agreeing with perf's.

mod common;

use common::*;
use std::path::Path;

/// A perf recording with call chains of a C program on two threads.
fn record(d: &Path) {
    let prog = compile_c(
        d,
        "busy",
        &busy_c("hot", "side"),
        &["-O1", "-g", "-fno-omit-frame-pointer"],
    );
    let script = format!("{p} 0.3 & {p} 0.3; wait", p = prog.display());
    perf_ok(
        d,
        &[
            "record", "-q", "-g", "-F", "4000", "-o", "p.data", "--", "sh", "-c", &script,
        ],
    );
}

#[test]
fn report_stats_are_perf_report_stats_byte_for_byte() {
    let dir = scratch("stats");
    let d = dir.path();
    record(d);
    let ours = ok(d, &["report", "--stats", "-i", "p.data"]).0;
    let perfs = perf_ok(d, &["report", "--stats", "-i", "p.data"]).0;
    assert!(ours.contains("SAMPLE events:"), "{ours}");
    assert!(ours.contains("FINISHED_ROUND events:"), "{ours}");
    assert_eq!(ours, perfs);
}

#[test]
fn report_header_shows_what_perf_header_only_shows() {
    let dir = scratch("header");
    let d = dir.path();
    record(d);
    let ours = ok(d, &["report", "--header", "-i", "p.data"]).0;
    let perfs = perf_ok(d, &["report", "--header-only", "-i", "p.data"]).0;
    let lines = |s: &str, prefix: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_string)
            .collect()
    };
    for prefix in [
        "# hostname :",
        "# os release :",
        "# cmdline :",
        "# event :",
        "# nrcpus online :",
        "# total memory :",
        "# missing features:",
        "# time of first sample :",
        "# sample duration :",
    ] {
        let want = lines(&perfs, prefix);
        assert!(!want.is_empty(), "perf shows no {prefix}:\n{perfs}");
        assert_eq!(lines(&ours, prefix), want, "{prefix}\n{ours}");
    }
    // The build ids are perf buildid-list's.
    let ids = perf_ok(d, &["buildid-list", "-i", "p.data"]).0;
    let busy = ids
        .lines()
        .find(|l| l.ends_with("/busy"))
        .expect("busy's build id");
    let id = busy.split_whitespace().next().expect("an id");
    assert!(ours.contains(&format!("# build id : {id} ")), "{ours}");
}

#[test]
fn a_round_ordered_import_reports_what_perf_reports() {
    let dir = scratch("rounds");
    let d = dir.path();
    record(d);
    let stats = perf_ok(d, &["report", "--stats", "-i", "p.data"]).0;
    assert!(stats.contains("FINISHED_ROUND"), "{stats}");
    let ours = lwprof_shares(d, "p.data", &[]);
    let perfs = perf_shares(d, "p.data");
    for name in ["hot", "side"] {
        let (a, b) = (share(&ours, name), share(&perfs, name));
        assert!((a - b).abs() <= 0.011, "{name}: lwprof {a} perf {b}");
    }
    let (_, err) = ok(d, &["report", "-i", "p.data"]);
    assert!(!err.contains("FINISHED_ROUND"), "no ordering note: {err}");
}

/// The `# Samples: N` count of a report.
fn samples_line(report: &str) -> String {
    report
        .lines()
        .find(|l| l.starts_with("# Samples:"))
        .unwrap_or("no samples line")
        .to_string()
}

/// A `# Samples:` line with the count as perf prints it: perf divides
/// counts over 1000 into K, M and G (`convert_unit`), lwprof keeps the exact
/// count.
fn perf_units(line: &str) -> String {
    let Some(rest) = line.strip_prefix("# Samples: ") else {
        return line.to_string();
    };
    let (n, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let Ok(mut n) = n.parse::<u64>() else {
        return line.to_string();
    };
    let mut unit = ' ';
    for u in ['K', 'M', 'G'] {
        if n > 1000 {
            n /= 1000;
            unit = u;
        }
    }
    // lwprof writes "N  of" (perf's unit slot is a space when there is none).
    let tail = tail.trim_start();
    format!("# Samples: {n}{unit} {tail}")
}

#[test]
fn a_threads_directory_reports_as_perf_reports_it() {
    let dir = scratch("threads-dir");
    let d = dir.path();
    let prog = compile_c(
        d,
        "busy",
        &busy_c("hot", "side"),
        &["-O1", "-g", "-fno-omit-frame-pointer"],
    );
    let script = format!("{p} 0.3 & {p} 0.3; wait", p = prog.display());
    perf_ok(
        d,
        &[
            "record",
            "-q",
            "--threads",
            "-g",
            "-F",
            "2000",
            "-o",
            "tdir",
            "--",
            "sh",
            "-c",
            &script,
        ],
    );
    assert!(d.join("tdir/data.0").is_file(), "perf wrote a directory");
    let ours = ok(d, &["report", "-i", "tdir", "--no-children", "-g", "none"]).0;
    let perfs = perf_ok(
        d,
        &[
            "report",
            "--stdio",
            "-i",
            "tdir",
            "--no-children",
            "-g",
            "none",
        ],
    )
    .0;
    assert_eq!(perf_units(&samples_line(&ours)), samples_line(&perfs));
    let (a, b) = (
        share(&lwprof_shares(d, "tdir", &[]), "hot"),
        share(&perf_shares(d, "tdir"), "hot"),
    );
    assert!(
        a > 50.0 && (a - b).abs() <= 0.011,
        "hot: lwprof {a} perf {b}"
    );
}

#[test]
fn a_switch_output_series_is_one_profile() {
    let dir = scratch("series");
    let d = dir.path();
    let prog = compile_c(
        d,
        "busy",
        &busy_c("hot", "side"),
        &["-O1", "-g", "-fno-omit-frame-pointer"],
    );
    perf_ok(
        d,
        &[
            "record",
            "-q",
            "-g",
            "-F",
            "2000",
            "--switch-output=1s",
            "-o",
            "s.data",
            "--",
            prog.to_str().expect("utf-8"),
            "2.5",
        ],
    );
    let mut files: Vec<_> = std::fs::read_dir(d)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("s.data."))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "a series: {files:?}");
    let mut want = 0u64;
    for f in &files {
        let stats = perf_ok(d, &["report", "--stats", "-i", f]).0;
        let line = stats
            .lines()
            .find(|l| l.contains("SAMPLE events"))
            .unwrap_or("");
        want += line
            .split_whitespace()
            .nth(2)
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    let ours = ok(
        d,
        &["report", "-i", "s.data.*", "--no-children", "-g", "none"],
    )
    .0;
    assert!(
        samples_line(&ours).starts_with(&format!("# Samples: {want} ")),
        "{ours}"
    );
    // The same files named one by one with several -i.
    let mut args = vec!["report"];
    for f in &files {
        args.extend(["-i", f.as_str()]);
    }
    args.extend(["--no-children", "-g", "none"]);
    let named = ok(d, &args).0;
    assert_eq!(samples_line(&named), samples_line(&ours), "{named}");
    // Files after the first carry no mappings of their own: the series
    // still names the hot function.
    assert!(
        share(&lwprof_shares(d, "s.data.*", &[]), "hot") > 50.0,
        "{ours}"
    );
}
