//! `lwprof stat` and `lwprof list` as a user runs them: exit codes, one-line
//! errors, every output format, and agreement with Linux perf.

use std::process::{Command, Output};

fn lwprof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lwprof"))
        .args(args)
        .output()
        .expect("running lwprof")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn workload(name: &str) -> String {
    lwprof_workloads::path(name).display().to_string()
}

fn assert_one_clean_error_line(o: &Output) {
    assert!(!o.status.success(), "expected failure");
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("lwprof: error: "), "{err:?}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err:?}"
    );
}

#[test]
fn the_command_exit_status_is_lwprofs() {
    let o = lwprof(&["stat", "--", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("Performance counter stats for 'sh -c exit 7'"),
        "{err}"
    );
    assert!(
        err.contains("task-clock") && err.contains("page-faults"),
        "{err}"
    );
    assert!(err.contains("seconds time elapsed"), "{err}");
}

#[test]
fn an_unknown_event_gets_one_helpful_line() {
    let o = lwprof(&["stat", "-e", "no-such-event", "--", "true"]);
    assert_one_clean_error_line(&o);
    assert!(stderr(&o).contains("no-such-event"));
    let o = lwprof(&["stat", "-e", "pagefaults", "--", "true"]);
    assert_one_clean_error_line(&o);
    assert!(
        stderr(&o).contains("did you mean 'page-faults'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_groups_modifiers_pids_and_commands_get_one_line_each() {
    for args in [
        &["stat", "-e", "{task-clock", "--", "true"][..],
        &["stat", "-e", "task-clock:q", "--", "true"][..],
        &["stat", "-p", "2147483000"][..],
        &["stat", "--", "no-such-command-lwprof"][..],
        &["stat"][..],
    ] {
        let o = lwprof(args);
        assert_one_clean_error_line(&o);
    }
}

#[test]
fn csv_page_faults_agree_with_perf_within_two_percent() {
    let touch = workload("lwprof-touch-pages");
    let o = lwprof(&["stat", "-e", "page-faults", "-x,", "--", &touch, "20000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours: f64 = stderr(&o)
        .lines()
        .next()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let perf = Command::new("perf")
        .args(["stat", "-e", "page-faults", "-x,", "--", &touch, "20000"])
        .output()
        .expect("Linux perf is installed by .ci/run");
    assert!(perf.status.success(), "{}", stderr(&perf));
    let line = stderr(&perf)
        .lines()
        .find(|l| l.contains("page-faults"))
        .unwrap()
        .to_string();
    let theirs: f64 = line.split(',').next().unwrap().parse().unwrap();
    assert!(ours >= 20_000.0, "{ours}");
    let diff = (ours - theirs).abs() / theirs;
    assert!(diff <= 0.02, "lwprof {ours} vs perf {theirs}");
}

#[test]
fn csv_fields_match_perfs_layout() {
    let o = lwprof(&[
        "stat",
        "-x",
        ";",
        "-e",
        "task-clock,page-faults,cycles",
        "--",
        "true",
    ]);
    assert!(o.status.success());
    let err = stderr(&o);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("lwprof: note"))
        .collect();
    let tc: Vec<&str> = lines[0].split(';').collect();
    assert_eq!(tc.len(), 7, "{}", lines[0]);
    assert_eq!(
        (tc[1], tc[2], tc[6]),
        ("msec", "task-clock", "CPUs utilized")
    );
    let pf: Vec<&str> = lines[1].split(';').collect();
    assert_eq!(pf[2], "page-faults");
    assert!(pf[0].parse::<u64>().unwrap() > 0);
    assert!(
        lines[2].starts_with("<not supported>;;cycles")
            || lines[2].split(';').nth(2) == Some("cycles")
    );
}

#[test]
fn json_lines_parse() {
    let o = lwprof(&["stat", "-j", "-e", "task-clock,page-faults", "--", "true"]);
    assert!(o.status.success());
    let err = stderr(&o);
    let objs: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[1]["event"], "page-faults");
    assert!(
        objs[1]["counter-value"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(objs[0]["metric-unit"], "CPUs utilized");
}

#[test]
fn interval_mode_prints_every_interval() {
    let spin = workload("lwprof-spin");
    let o = lwprof(&["stat", "-I", "100", "-e", "task-clock", "--", &spin, "450"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = stderr(&o)
        .lines()
        .filter(|l| l.contains("task-clock"))
        .count();
    assert!(lines >= 4, "{} interval lines:\n{}", lines, stderr(&o));
}

#[test]
fn repeat_prints_mean_and_spread() {
    let o = lwprof(&["stat", "-r", "3", "-e", "page-faults", "--", "true"]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(err.contains("(3 runs)"), "{err}");
    assert!(err.contains("( +-"), "{err}");
}

#[test]
fn no_inherit_does_not_count_children() {
    let touch = workload("lwprof-touch-pages");
    let script = format!("{touch} 6000; true");
    let count = |extra: &[&str]| -> u64 {
        let mut args = vec!["stat", "-x,", "-e", "page-faults"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "sh", "-c", &script]);
        let o = lwprof(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
            .lines()
            .next()
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let with = count(&[]);
    let without = count(&["--no-inherit"]);
    assert!(
        with >= 6000 && without < 6000,
        "inherit {with}, no-inherit {without}"
    );
}

#[test]
fn list_shows_this_machines_events_and_filters() {
    let o = lwprof(&["list"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for name in [
        "page-faults OR faults",
        "task-clock",
        "msr/tsc/",
        "sched:sched_switch",
        "mem:<addr>",
    ] {
        assert!(out.contains(name), "missing {name}");
    }
    let o = lwprof(&["list", "sched:sched_sw*"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("sched:sched_switch"));
    assert!(!out.contains("page-faults"));
}
