//! `lwprof record` and `lwprof report` as a user runs them, on bundled C and
//! Rust workloads with known shares, and against Linux perf both ways.

mod common;

use common::*;
use std::path::Path;

fn record(dir: &Path, extra: &[&str], cmd: &[&str]) -> String {
    let mut args = vec!["record"];
    args.extend_from_slice(extra);
    args.push("--");
    args.extend_from_slice(cmd);
    let o = lwprof(dir, &args);
    let (_, err) = text(&o);
    assert!(o.status.success(), "lwprof record failed:\n{err}");
    assert!(dir.join("perf.data").exists() || extra.contains(&"-o"));
    err
}

#[test]
fn c_workload_shares_and_perf_report_agrees_on_our_file() {
    let tmp = scratch("c");
    let dir = tmp.path();
    let prog = lwprof_workloads::c_program("shares", &[]);
    let err = record(dir, &["-F", "2000", "-g"], &[prog.to_str().unwrap(), "1.5"]);
    assert!(err.contains("samples"), "{err}");
    let ours = lwprof_shares(dir, "perf.data", &[]);
    let hot = share(&ours, "hot_seventy");
    let warm = share(&ours, "warm_thirty");
    // Known shares 70/30 within 3 points (of the two functions' split).
    let split = 100.0 * hot / (hot + warm);
    assert!((split - 70.0).abs() <= 3.0, "split {split:.1}% ({ours:?})");
    // perf reads our file without warnings and agrees within one point.
    let (theirs, perr) = perf_shares_and_stderr(dir, "perf.data");
    assert!(
        !perr.to_lowercase().contains("warning"),
        "perf warned: {perr}"
    );
    for f in ["hot_seventy", "warm_thirty"] {
        let (a, b) = (share(&ours, f), share(&theirs, f));
        assert!((a - b).abs() <= 1.0, "{f}: lwprof {a} perf {b}");
    }
}

#[test]
fn rust_workload_is_demangled_with_inline_frames() {
    let tmp = scratch("rust");
    let dir = tmp.path();
    let prog = lwprof_workloads::path("lwprof-shares");
    record(dir, &["-F", "2000"], &[prog.to_str().unwrap(), "1.5"]);
    let ours = lwprof_shares(dir, "perf.data", &[]);
    let hot = ours
        .get("lwprof_shares::hot_seventy")
        .copied()
        .unwrap_or(0.0);
    let warm = ours
        .get("lwprof_shares::warm_thirty")
        .copied()
        .unwrap_or(0.0);
    assert!(hot > 0.0 && warm > 0.0, "demangled names missing: {ours:?}");
    // The 70/30 is by iteration count: the time split moves with the CPU
    // and its load (61-66% was seen on a loaded machine, 70% on a quiet
    // one). perf's report of the same file is the reference.
    let split = 100.0 * hot / (hot + warm);
    assert!((50.0..=85.0).contains(&split), "split {split:.1}%");
    let (theirs, _) = perf_shares_and_stderr(dir, "perf.data");
    let perf_split = |h: f64, w: f64| 100.0 * h / (h + w);
    let (ph, pw) = (
        share(&theirs, "lwprof_shares::hot_seventy"),
        share(&theirs, "lwprof_shares::warm_thirty"),
    );
    assert!(ph > 0.0 && pw > 0.0, "perf's names: {theirs:?}");
    assert!(
        (split - perf_split(ph, pw)).abs() <= 1.0,
        "split {split:.1}% against perf's {:.1}%",
        perf_split(ph, pw)
    );
    // The call graph shows the inlined `mix` under hot_seventy, and
    // --no-inline removes it.
    let o = lwprof(dir, &["report", "--sort", "sym"]);
    let (out, _) = text(&o);
    assert!(
        out.contains("--mix") || out.contains(" mix\n") || out.contains("mix"),
        "no inline frame:\n{out}"
    );
    let o = lwprof(dir, &["report", "--sort", "sym", "--no-inline"]);
    let (out2, _) = text(&o);
    assert!(
        !out2
            .lines()
            .any(|l| l.trim_end().ends_with("--mix") || l.trim() == "mix"),
        "inline frame with --no-inline:\n{out2}"
    );
}

#[test]
fn c_inline_frames_appear_in_the_call_graph() {
    let tmp = scratch("inline");
    let dir = tmp.path();
    let prog = lwprof_workloads::c_program("inline", &[]);
    record(dir, &["-F", "1000"], &[prog.to_str().unwrap(), "1"]);
    let o = lwprof(dir, &["report", "--sort", "sym"]);
    let (out, _) = text(&o);
    assert!(out.contains("outer_loop"), "{out}");
    assert!(out.contains("mix_inlined"), "no inline frame in:\n{out}");
    let o = lwprof(dir, &["report", "--sort", "sym", "--no-inline"]);
    let (out, _) = text(&o);
    assert!(!out.contains("mix_inlined"), "{out}");
}

#[test]
fn dwarf_mode_recovers_frames_that_frame_pointers_miss() {
    let tmp = scratch("dwarf");
    let dir = tmp.path();
    let prog = lwprof_workloads::c_program("shares", &["-fomit-frame-pointer"]);
    let p = prog.to_str().unwrap();
    record(dir, &["-F", "1000", "-o", "fp.data"], &[p, "1"]);
    record(
        dir,
        &["-F", "1000", "--call-graph", "dwarf", "-o", "dwarf.data"],
        &[p, "1"],
    );
    let graph = |file: &str| {
        let o = lwprof(
            dir,
            &["report", "-i", file, "--sort", "sym", "-g", "graph,0"],
        );
        text(&o).0
    };
    let fp = graph("fp.data");
    let dwarf = graph("dwarf.data");
    // Without frame pointers the leaves' callers are lost; DWARF CFI finds
    // run_round above them.
    assert!(dwarf.contains("run_round"), "dwarf:\n{dwarf}");
    let runs = |s: &str| s.lines().filter(|l| l.contains("run_round")).count();
    assert!(runs(&dwarf) > runs(&fp), "fp:\n{fp}\ndwarf:\n{dwarf}");
}

#[test]
fn jit_code_is_named_from_the_perf_map() {
    let tmp = scratch("jit");
    let dir = tmp.path();
    let prog = lwprof_workloads::c_program("jit", &[]);
    record(dir, &["-F", "1000"], &[prog.to_str().unwrap(), "1"]);
    let ours = lwprof_shares(dir, "perf.data", &[]);
    let jit = share(&ours, "jitted_hot_loop");
    assert!(jit > 50.0, "jitted code share {jit}: {ours:?}");
}

#[test]
fn off_cpu_time_goes_to_where_the_thread_blocked() {
    let tmp = scratch("offcpu");
    let dir = tmp.path();
    let prog = lwprof_workloads::c_program("offcpu", &[]);
    record(
        dir,
        &["-F", "1000", "--off-cpu"],
        &[prog.to_str().unwrap(), "2"],
    );
    let o = lwprof(dir, &["report", "--format", "json"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    // Off-CPU weight is nanoseconds blocked; the workload blocks about half
    // of its 2 s in blocking_wait (nanosleep).
    let off_events: Vec<u64> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .enumerate()
        .filter(|(_, e)| e["kind"] == "off_cpu")
        .map(|(i, _)| i as u64)
        .collect();
    assert!(!off_events.is_empty(), "no off-CPU event in {out:.1000}");
    let funcs = v["functions"].as_array().expect("functions");
    let blocking: Vec<u64> = funcs
        .iter()
        .enumerate()
        .filter(|(_, f)| f["name"].as_str().unwrap_or("").contains("blocking_wait"))
        .map(|(i, _)| i as u64)
        .collect();
    let blocked: f64 = v["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .filter(|s| off_events.contains(&s["event"].as_u64().unwrap_or(u64::MAX)))
        .filter(|s| {
            s["frames"].as_array().is_some_and(|fr| {
                fr.iter()
                    .any(|f| blocking.contains(&f.as_u64().unwrap_or(u64::MAX)))
            })
        })
        .filter_map(|s| s["weight"].as_f64())
        .sum();
    let secs = blocked / 1e9;
    assert!(
        (0.6..=1.4).contains(&secs),
        "blocking_wait off-CPU {secs:.3}s:\n{out:.2000}"
    );
}

#[test]
fn perf_record_files_read_like_perf_report() {
    let tmp = scratch("perffile");
    let dir = tmp.path();
    let prog = lwprof_workloads::c_program("shares", &[]);
    let o = perf(
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
            "p.data",
            "--",
            prog.to_str().unwrap(),
            "1.5",
        ],
    );
    assert!(o.status.success());
    let ours = lwprof_shares(dir, "p.data", &[]);
    let theirs = perf_shares(dir, "p.data");
    for f in ["hot_seventy", "warm_thirty"] {
        let (a, b) = (share(&ours, f), share(&theirs, f));
        assert!((a - b).abs() <= 1.0, "{f}: lwprof {a} perf {b}");
    }
}

#[test]
fn a_truncated_file_reports_what_came_before_and_names_the_offset() {
    let tmp = scratch("trunc");
    let dir = tmp.path();
    let prog = lwprof_workloads::c_program("shares", &[]);
    record(dir, &["-F", "2000"], &[prog.to_str().unwrap(), "1"]);
    let bytes = std::fs::read(dir.join("perf.data")).unwrap();
    std::fs::write(dir.join("cut.data"), &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = lwprof(
        dir,
        &[
            "report",
            "-i",
            "cut.data",
            "--no-children",
            "--sort",
            "sym",
            "-g",
            "none",
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("offset"), "no offset in: {err}");
    assert!(out.contains("hot_seventy"), "{out}");
    assert!(!err.contains("panicked"));
}

#[test]
fn bad_input_gets_one_line() {
    let tmp = scratch("bad");
    let dir = tmp.path();
    for args in [
        &["report", "-i", "missing.data"][..],
        &["record", "-e", "nosuchevent", "--", "true"][..],
        &["record", "--call-graph", "lbr", "--", "true"][..],
        &["record", "-m", "0", "--", "true"][..],
        &["record", "-m", "16Q", "--", "true"][..],
        &["record"][..],
        &["report", "--sort", "bogus"][..],
        &["report", "--format", "svgz"][..],
    ] {
        let o = lwprof(dir, args);
        let (_, err) = text(&o);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("lwprof: error:"), "{args:?}: {err}");
    }
    std::fs::write(dir.join("junk.data"), b"not a perf file at all").unwrap();
    let o = lwprof(dir, &["report", "-i", "junk.data"]);
    assert!(!o.status.success());
    assert_eq!(text(&o).1.trim_end().lines().count(), 1, "{}", text(&o).1);
}

#[test]
fn the_exit_status_is_the_commands() {
    let tmp = scratch("exit");
    let dir = tmp.path();
    let o = lwprof(dir, &["record", "--", "sh", "-c", "exit 5"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o).1);
    assert!(dir.join("perf.data").exists());
}
