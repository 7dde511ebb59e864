//! Regression tests for the `lwprof record` defects of issue 8, each named
//! after its defect, against the real kernel and perf 6.1.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Waits for a child, killing it after `limit` (a hang is a failure, not a
/// stuck test run).
fn wait_or_kill(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("waiting") {
            return Some(s);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn_lwprof(dir: &std::path::Path, args: &[&str]) -> std::process::Child {
    lwprof_command(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting lwprof")
}

#[test]
fn a_command_after_pid_or_all_cpus_runs_and_ends_the_recording() {
    let dir = scratch("pid-cmd");
    let d = dir.path();
    let mut target = Command::new("sleep").arg("60").spawn().expect("sleep");
    let pid = target.id().to_string();
    for args in [
        vec![
            "record",
            "-p",
            pid.as_str(),
            "-o",
            "p.data",
            "--",
            "sh",
            "-c",
            "touch ran-p; sleep 1",
        ],
        vec![
            "record",
            "-a",
            "-o",
            "a.data",
            "--",
            "sh",
            "-c",
            "touch ran-a; sleep 1",
        ],
    ] {
        let mut child = spawn_lwprof(d, &args);
        let status = wait_or_kill(&mut child, Duration::from_secs(30));
        assert!(
            status.is_some_and(|s| s.success()),
            "{args:?} did not end with its command"
        );
    }
    let _ = target.kill();
    let _ = target.wait();
    assert!(d.join("ran-p").exists(), "the command after -p never ran");
    assert!(d.join("ran-a").exists(), "the command after -a never ran");
    // The -a recording is a readable file with the command in it.
    let (out, _) = ok(
        d,
        &["report", "-i", "a.data", "--sort", "comm", "-g", "none"],
    );
    assert!(out.contains("# Samples:"), "{out}");
}

#[test]
fn a_mistyped_command_keeps_the_last_recording_and_old_files_are_kept() {
    let dir = scratch("keep");
    let d = dir.path();
    let prog = lwprof_workloads::path("lwprof-shares");
    let p = prog.to_str().expect("utf-8");
    ok(d, &["record", "-o", "keep.data", "--", p, "0.2"]);
    let before = std::fs::read(d.join("keep.data")).expect("recorded");
    let o = lwprof(d, &["record", "-o", "keep.data", "--", "/nonexistent/cmd"]);
    assert!(!o.status.success());
    let err = text(&o).1;
    assert!(err.contains("/nonexistent/cmd"), "{err}");
    assert_eq!(
        std::fs::read(d.join("keep.data")).expect("still there"),
        before,
        "the last recording was replaced"
    );
    assert!(!d.join("keep.data.old").exists());
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // A new recording replaces it and keeps the old one, as perf does.
    ok(d, &["record", "-o", "keep.data", "--", p, "0.1"]);
    assert_eq!(
        std::fs::read(d.join("keep.data.old")).expect(".old"),
        before
    );
}

#[test]
fn a_rebuilt_binary_is_reported_from_the_build_id_cache_or_named_as_mismatched() {
    let dir = scratch("rebuild");
    let d = dir.path();
    let cache = d.join("cache");
    let flags = ["-O1", "-g", "-fno-omit-frame-pointer"];
    let prog = compile_c(d, "prog", &busy_c("alpha_hot", "alpha_side"), &flags);
    let env = [("PERF_BUILDID_DIR", cache.as_path())];
    let o = lwprof_env(
        d,
        &[
            "record",
            "-o",
            "rec.data",
            "--",
            prog.to_str().unwrap(),
            "0.5",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o).1);
    // Rebuilt at the same path with other code.
    let _ = compile_c(d, "prog", &busy_c("beta_cold", "beta_other"), &flags);
    let report = |env: &[(&str, &std::path::Path)]| {
        let o = lwprof_env(
            d,
            &[
                "report",
                "-i",
                "rec.data",
                "--no-children",
                "-s",
                "sym",
                "-g",
                "none",
            ],
            env,
        );
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o)
    };
    let (out, _) = report(&env);
    let shares = parse_shares(&out);
    assert!(
        share(&shares, "alpha_hot") > 80.0,
        "not from the cache:\n{out}"
    );
    assert_eq!(
        share(&shares, "beta_cold"),
        0.0,
        "wrong binary used:\n{out}"
    );
    // Without the cache: addresses, and one line naming the DSO.
    let empty = d.join("empty-cache");
    let (out, err) = report(&[("PERF_BUILDID_DIR", empty.as_path())]);
    let shares = parse_shares(&out);
    assert_eq!(
        share(&shares, "beta_cold") + share(&shares, "alpha_hot"),
        0.0,
        "{out}"
    );
    let line = err
        .lines()
        .find(|l| l.contains("build id"))
        .unwrap_or_else(|| panic!("no build-id note:\n{err}"));
    assert!(
        line.contains("prog") && line.contains("does not match"),
        "{line}"
    );
    // --no-buildid-cache leaves the cache empty.
    let other = d.join("other-cache");
    let env = [("PERF_BUILDID_DIR", other.as_path())];
    let o = lwprof_env(
        d,
        &[
            "record",
            "--no-buildid-cache",
            "-o",
            "x.data",
            "--",
            prog.to_str().unwrap(),
            "0.1",
        ],
        &env,
    );
    assert!(o.status.success());
    assert!(!other.exists(), "--no-buildid-cache wrote a cache");
}

#[test]
fn a_rebuilt_binary_whose_split_debug_file_was_deleted_is_still_named() {
    let dir = scratch("rebuild-split");
    let d = dir.path();
    let cache = d.join("cache");
    let env = [("PERF_BUILDID_DIR", cache.as_path())];
    let build = |hot: &str, side: &str| {
        let prog = compile_c(
            d,
            "prog",
            &busy_c(hot, side),
            &["-O1", "-g", "-fno-omit-frame-pointer"],
        );
        let sh = "objcopy --only-keep-debug prog prog.debug && objcopy --strip-all prog                   && objcopy --add-gnu-debuglink=prog.debug prog";
        let st = std::process::Command::new("sh")
            .args(["-c", sh])
            .current_dir(d)
            .status();
        assert!(st.expect("objcopy").success());
        prog
    };
    let prog = build("alpha_hot", "alpha_side");
    let o = lwprof_env(
        d,
        &[
            "record",
            "-o",
            "rec.data",
            "--",
            prog.to_str().unwrap(),
            "0.4",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o).1);
    let _ = build("beta_cold", "beta_other");
    std::fs::remove_file(d.join("prog.debug")).expect("rm debug");
    let o = lwprof_env(
        d,
        &[
            "report",
            "-i",
            "rec.data",
            "--no-children",
            "-s",
            "sym",
            "-g",
            "none",
        ],
        &env,
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        share(&parse_shares(&out), "alpha_hot") > 80.0,
        "{out}\n{err}"
    );
}

#[test]
fn perf_reads_lwprof_dwarf_call_graphs_without_garbage_frames() {
    let dir = scratch("dwarf-perf");
    let d = dir.path();
    let prog = lwprof_workloads::c_program("shares", &["-fomit-frame-pointer"]);
    let p = prog.to_str().unwrap();
    ok(
        d,
        &[
            "record",
            "--call-graph",
            "dwarf",
            "-F",
            "500",
            "-o",
            "ours.data",
            "--",
            p,
            "0.6",
        ],
    );
    perf_ok(
        d,
        &[
            "record",
            "--call-graph",
            "dwarf",
            "-F",
            "500",
            "-o",
            "theirs.data",
            "--",
            p,
            "0.6",
        ],
    );
    let (evlist, _) = perf_ok(d, &["evlist", "-v", "-i", "ours.data"]);
    assert!(evlist.contains("exclude_callchain_user: 1"), "{evlist}");
    let unknown_share = |file: &str| -> (f64, String) {
        let (out, _) = perf_ok(
            d,
            &["report", "--stdio", "--children", "-g", "none", "-i", file],
        );
        let total: f64 = out
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains("[unknown]"))
            .filter_map(|l| {
                l.split_whitespace()
                    .next()?
                    .trim_end_matches('%')
                    .parse::<f64>()
                    .ok()
            })
            .fold(0.0, f64::max);
        (total, out)
    };
    let (ours, out) = unknown_share("ours.data");
    let (theirs, _) = unknown_share("theirs.data");
    assert!(
        ours <= theirs + 2.0,
        "perf sees garbage in our file ({ours}% vs {theirs}%):\n{out}"
    );
    let (graph, _) = perf_ok(
        d,
        &["report", "--stdio", "--no-children", "-i", "ours.data"],
    );
    assert!(
        graph.contains("run_round"),
        "perf found no DWARF chain:\n{graph}"
    );
}

#[test]
fn lost_samples_are_the_same_in_both_tools_for_both_tools_files() {
    let dir = scratch("lost");
    let d = dir.path();
    let prog = lwprof_workloads::path("lwprof-shares");
    let p = prog.to_str().unwrap();
    // A one-page ring at a high rate loses samples for sure.
    ok(
        d,
        &[
            "record",
            "-F",
            "20000",
            "-m",
            "1",
            "-o",
            "ours.data",
            "--",
            p,
            "0.5",
        ],
    );
    perf_ok(
        d,
        &[
            "record",
            "-F",
            "20000",
            "-m",
            "1",
            "-g",
            "-o",
            "theirs.data",
            "--",
            p,
            "0.5",
        ],
    );
    let lost = |out: &str| -> u64 {
        out.lines()
            .find_map(|l| l.strip_prefix("# Total Lost Samples: "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no lost line in:\n{out}"))
    };
    for file in ["ours.data", "theirs.data"] {
        let (mine, _) = ok(d, &["report", "-i", file, "-g", "none"]);
        let (perfs, _) = perf_ok(d, &["report", "--stdio", "-g", "none", "-i", file]);
        assert_eq!(lost(&mine), lost(&perfs), "{file}");
        assert!(lost(&mine) > 0, "{file}: no loss to compare");
    }
}

#[test]
fn record_numbers_are_checked_before_anything_runs() {
    let dir = scratch("numbers");
    let d = dir.path();
    for (args, needle) in [
        (
            &["record", "--duration", "1e300", "--", "touch", "ran"][..],
            "--duration",
        ),
        (
            &["record", "-F", "18446744073709551615", "--", "touch", "ran"][..],
            "at most",
        ),
        (
            &["record", "--format", "bogus", "--", "touch", "ran"][..],
            "--format bogus",
        ),
        (&["record", "-p", "99999999999"][..], "out of range"),
        (&["record", "-m", "16Q", "--", "touch", "ran"][..], "-m 16Q"),
        (
            &["record", "--switch-output=bogus", "--", "touch", "ran"][..],
            "--switch-output",
        ),
    ] {
        let o = lwprof(d, args);
        let err = text(&o).1;
        assert!(!o.status.success(), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(
        !d.join("ran").exists(),
        "a command ran despite bad arguments"
    );
    assert!(!d.join("perf.data").exists());
}

#[test]
fn record_takes_a_command_without_dashes_and_perfs_flags() {
    let dir = scratch("flags");
    let d = dir.path();
    let prog = lwprof_workloads::path("lwprof-shares");
    let p = prog.to_str().unwrap();
    // No `--`, -m with a unit, -C, -T, -s, --switch-events, -q.
    let (_, err) = ok(
        d,
        &[
            "record",
            "-q",
            "-T",
            "-s",
            "--switch-events",
            "-m",
            "64K",
            "-C",
            "0-1",
            "-o",
            "f.data",
            p,
            "0.3",
        ],
    );
    assert!(err.is_empty(), "-q printed: {err}");
    let (evlist, _) = perf_ok(d, &["evlist", "-v", "-i", "f.data"]);
    assert!(evlist.contains("inherit_stat: 1"), "{evlist}");
    assert!(evlist.contains("context_switch: 1"), "{evlist}");
    let (stats, _) = perf_ok(d, &["report", "--stats", "-i", "f.data"]);
    assert!(stats.contains("SWITCH"), "no switch records:\n{stats}");
    // -F max.
    ok(
        d,
        &["record", "-F", "max", "-o", "max.data", "--", p, "0.1"],
    );
    // --no-buildid: no BUILD_ID section.
    ok(
        d,
        &["record", "--no-buildid", "-o", "nb.data", "--", p, "0.1"],
    );
    let (head, _) = perf_ok(d, &["report", "--header-only", "-i", "nb.data"]);
    assert!(!head.contains("build id event received"), "{head}");
}

#[test]
fn branch_stacks_are_refused_clearly_without_a_pmu_that_has_them() {
    let dir = scratch("branch");
    let o = lwprof(
        dir.path(),
        &["record", "-b", "-e", "cpu-clock", "--", "true"],
    );
    let err = text(&o).1;
    assert!(!o.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("branch stack") && err.contains("not supported"),
        "{err}"
    );
}

#[test]
fn overwrite_switch_output_dumps_numbered_files_on_sigusr2() {
    let dir = scratch("flight");
    let d = dir.path();
    let prog = lwprof_workloads::path("lwprof-shares");
    let mut child = spawn_lwprof(
        d,
        &[
            "record",
            "--overwrite",
            "--switch-output=signal",
            "-F",
            "1000",
            "-o",
            "fr.data",
            "--",
            prog.to_str().unwrap(),
            "2",
        ],
    );
    std::thread::sleep(Duration::from_millis(1000));
    // SAFETY-free: kill(1) from the shell.
    let pid = child.id().to_string();
    let st = Command::new("kill")
        .args(["-USR2", &pid])
        .status()
        .expect("kill");
    assert!(st.success());
    let status = wait_or_kill(&mut child, Duration::from_secs(30));
    assert!(status.is_some_and(|s| s.success()));
    let mut files: Vec<_> = std::fs::read_dir(d)
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fr.data."))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        2,
        "one dump on SIGUSR2 and one at the end: {files:?}"
    );
    for f in &files {
        // Each dump stands on its own: perf reads it and names the code.
        let shares = perf_shares(d, f);
        assert!(share(&shares, "hot_seventy") > 30.0, "{f}: {shares:?}");
        let ours = lwprof_shares(d, f, &[]);
        assert!(share(&ours, "hot_seventy") > 30.0, "{f}: {ours:?}");
    }
}

#[test]
fn switch_output_by_time_writes_files_that_stand_on_their_own() {
    let dir = scratch("switch-time");
    let d = dir.path();
    let prog = lwprof_workloads::path("lwprof-shares");
    ok(
        d,
        &[
            "record",
            "--switch-output=1s",
            "-F",
            "1000",
            "-o",
            "s.data",
            "--",
            prog.to_str().unwrap(),
            "2.5",
        ],
    );
    let files: Vec<String> = std::fs::read_dir(d)
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("s.data."))
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    assert!(
        !d.join("s.data").exists(),
        "numbered files only, as perf writes them"
    );
    for f in &files {
        let shares = perf_shares(d, f);
        assert!(share(&shares, "hot_seventy") > 30.0, "{f}: {shares:?}");
    }
}
