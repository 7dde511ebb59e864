//! `lwprof stat` and `lwprof list` as a user runs them: exit codes, one-line
//! errors, every output format, and agreement with Linux perf.
//!
//! Every command runs in the crate's directory (`.`); none writes there.

mod common;

use common::*;
use std::process::{Command, Output};

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
    let o = lwprof(".", &["stat", "--", "sh", "-c", "exit 7"]);
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
    let o = lwprof(".", &["stat", "-e", "no-such-event", "--", "true"]);
    assert_one_clean_error_line(&o);
    assert!(stderr(&o).contains("no-such-event"));
    let o = lwprof(".", &["stat", "-e", "pagefaults", "--", "true"]);
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
        let o = lwprof(".", args);
        assert_one_clean_error_line(&o);
    }
}

#[test]
fn csv_page_faults_agree_with_perf_within_two_percent() {
    let touch = workload("lwprof-touch-pages");
    let o = lwprof(
        ".",
        &["stat", "-e", "page-faults", "-x,", "--", &touch, "20000"],
    );
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
    let perf = perf(
        ".",
        &["stat", "-e", "page-faults", "-x,", "--", &touch, "20000"],
    );
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
    let o = lwprof(
        ".",
        &[
            "stat",
            "-x",
            ";",
            "-e",
            "task-clock,page-faults,cycles",
            "--",
            "true",
        ],
    );
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
    let o = lwprof(
        ".",
        &["stat", "-j", "-e", "task-clock,page-faults", "--", "true"],
    );
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
    let o = lwprof(
        ".",
        &["stat", "-I", "100", "-e", "task-clock", "--", &spin, "450"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = stderr(&o)
        .lines()
        .filter(|l| l.contains("task-clock"))
        .count();
    assert!(lines >= 4, "{} interval lines:\n{}", lines, stderr(&o));
}

#[test]
fn repeat_prints_mean_and_spread() {
    let o = lwprof(".", &["stat", "-r", "3", "-e", "page-faults", "--", "true"]);
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
        let o = lwprof(".", &args);
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
    let o = lwprof(".", &["list"]);
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
    let o = lwprof(".", &["list", "sched:sched_sw*"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("sched:sched_switch"));
    assert!(!out.contains("page-faults"));
}

// ---------------------------------------------------------------------------
// perf 6.1 compatibility of stat's layouts, flags and numbers (issue 8).

/// A stat output with every number blanked to `#` of the same width (with
/// the spaces that pad it), `K/sec`-style units folded into `/sec` at the
/// same width, and lwprof's notes dropped: what must be equal between perf
/// and lwprof when the counts differ.
fn layout(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("lwprof: note"))
        .map(|l| {
            if l.contains(" +- ") && l.contains("seconds time elapsed") {
                // The precision follows the spread, which differs per run.
                let noise = l.contains("( +-");
                return format!("<mean +- spread> seconds time elapsed {noise}");
            }
            let mut l = l.to_string();
            for p in ["K/sec", "M/sec", "G/sec"] {
                l = l.replace(&format!(" {p}"), " /sec ");
                l = l.replace(&format!(",{p}"), ",/sec");
            }
            blank_numbers(&l)
        })
        .collect()
}

fn blank_numbers(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c.is_ascii_digit() && !after_word {
            let mut pad = 0;
            while out.last() == Some(&' ') {
                out.pop();
                pad += 1;
            }
            // No ',' here: it separates CSV fields, and the C locale the
            // tests compare in groups no digits.
            let mut n = 0;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
                n += 1;
            }
            // A padded number keeps its column; an unpadded one (a CSV
            // field, a thread id) is one mark whatever its length.
            let marks = if pad == 0 { 1 } else { pad + n };
            out.extend(std::iter::repeat_n('#', marks));
            continue;
        }
        out.push(c);
        i += 1;
    }
    out.into_iter().collect()
}

/// Runs `perf stat ARGS` and `lwprof stat ARGS` and checks their layouts
/// are the same, line for line; returns both outputs.
fn same_layout_as_perf(args: &[&str]) -> (String, String) {
    let mut pa = vec!["stat"];
    pa.extend_from_slice(args);
    let p = perf(".", &pa);
    let o = lwprof(".", &pa);
    assert!(o.status.success(), "lwprof {args:?}: {}", stderr(&o));
    let (ps, os) = (stderr(&p), stderr(&o));
    let (pl, ol) = (layout(&ps), layout(&os));
    for (i, (a, b)) in pl.iter().zip(&ol).enumerate() {
        assert_eq!(a, b, "line {i} of {args:?}\nperf:\n{ps}\nlwprof:\n{os}");
    }
    assert_eq!(pl.len(), ol.len(), "{args:?}\nperf:\n{ps}\nlwprof:\n{os}");
    (ps, os)
}

#[test]
fn blanking_keeps_widths_and_words() {
    assert_eq!(
        blank_numbers("      1234.50 msec task-clock   #    0.497 CPUs"),
        format!(
            "{} msec task-clock   #{} CPUs",
            "#".repeat(13),
            "#".repeat(9)
        )
    );
    assert_eq!(blank_numbers("CPU0,12,,cs"), "CPU0,#,,cs");
    assert_eq!(blank_numbers("spinner-1234,5.25,,cs"), "spinner-#,#,,cs");
    assert_eq!(
        blank_numbers("     0.100413916 CPU0"),
        "################ CPU0"
    );
}

#[test]
fn stat_csv_repeat_keeps_perfs_variance_column() {
    // Defect 9: with -r, perf adds the spread after the event name; without
    // -r it does not. Same columns as perf, field for field.
    for repeat in [&["-r", "3"][..], &[][..]] {
        let mut args = vec!["-x,"];
        args.extend_from_slice(repeat);
        args.extend_from_slice(&["-e", "task-clock,page-faults,cycles", "--", "true"]);
        let (p, o) = same_layout_as_perf(&args);
        let rows = |t: &str| -> Vec<Vec<String>> {
            t.lines()
                .filter(|l| !l.starts_with("lwprof: note"))
                .map(|l| l.split(',').map(str::to_string).collect())
                .collect()
        };
        let (p, o) = (rows(&p), rows(&o));
        let width = if repeat.is_empty() { 7 } else { 8 };
        for (pr, or) in p.iter().zip(&o) {
            assert_eq!(pr.len(), width, "{pr:?}");
            assert_eq!(or.len(), width, "{or:?}");
            // Unit and event name; the metric's unit.
            assert_eq!((&pr[1], &pr[2]), (&or[1], &or[2]));
            assert_eq!(
                pr[width - 1].trim_start_matches(['K', 'M', 'G']),
                or[width - 1].trim_start_matches(['K', 'M', 'G'])
            );
            if width == 8 {
                let is_spread = |f: &str| {
                    f.strip_suffix('%').is_some_and(|n| {
                        n.parse::<f64>().is_ok() && n.split('.').nth(1).map(str::len) == Some(2)
                    })
                };
                assert!(is_spread(&or[3]) && is_spread(&pr[3]), "{or:?} {pr:?}");
            }
        }
        // The not-supported row is byte-identical.
        assert_eq!(p[2], o[2]);
        assert_eq!(o[2][0], "<not supported>");
    }
}

#[test]
fn stat_csv_not_counted_rows_are_perfs() {
    // A sleeping process: counted on, but it never runs.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id().to_string();
    let args = [
        "stat",
        "-x,",
        "-p",
        &pid,
        "-e",
        "task-clock,page-faults,cycles",
        "--",
        "sleep",
        "0.1",
    ];
    let p = perf(".", &args);
    let o = lwprof(".", &args);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = |o: &Output| -> Vec<String> {
        stderr(o)
            .lines()
            .filter(|l| !l.starts_with("lwprof: note"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(lines(&o), lines(&p));
    assert_eq!(lines(&o)[0], "<not counted>,msec,task-clock,0,100.00,,");
}

#[test]
fn stat_human_layout_is_perfs_byte_for_byte() {
    // Trailing spaces, the 35-column figure, the 25-column name of a line
    // without a count, the footer with user and sys times.
    same_layout_as_perf(&["-e", "task-clock,page-faults,cycles", "--", "true"]);
    // (Clocks differ from run to run, so both print their spread; two runs
    // of `true` may well take the same page faults, and then neither does.)
    same_layout_as_perf(&["-r", "3", "-e", "task-clock,cpu-clock,cycles", "--", "true"]);
    // The default set: perf shows the hardware events as <not supported>
    // rows where there is no PMU, and so does lwprof.
    let (_, o) = same_layout_as_perf(&["true"]);
    assert!(o.contains("instructions"), "{o}");
}

#[test]
fn stat_detailed_adds_perfs_detailed_events() {
    let (_, o) = same_layout_as_perf(&["-d", "true"]);
    assert!(
        o.contains("L1-dcache-load-misses") && o.contains("LLC-loads"),
        "{o}"
    );
    let (_, o) = same_layout_as_perf(&["-ddd", "-e", "task-clock", "true"]);
    assert!(
        o.contains("dTLB-load-misses") && o.contains("L1-dcache-prefetches"),
        "{o}"
    );
    assert!(
        !o.contains("page-faults"),
        "-d adds to -e, not to the default set: {o}"
    );
}

#[test]
fn stat_no_aggr_rows_are_perfs() {
    let args = [
        "-a",
        "-A",
        "-e",
        "task-clock,context-switches,cycles",
        "--",
        "sleep",
        "0.1",
    ];
    let (_, o) = same_layout_as_perf(&args);
    assert!(o.contains("\nCPU0 "), "{o}");
    let mut csv = vec!["-x,"];
    csv.extend_from_slice(&args);
    let (_, o) = same_layout_as_perf(&csv);
    assert!(o.lines().any(|l| l.starts_with("CPU0,")), "{o}");
    let cpus = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let n = cpus.trim().split(',').map(|r| match r.split_once('-') {
        Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
        None => 1,
    });
    let rows = o.lines().filter(|l| l.contains(",task-clock,")).count();
    assert_eq!(rows, n.sum::<usize>(), "{o}");
    // Per interval too.
    same_layout_as_perf(&[
        "-a",
        "-A",
        "-I",
        "100",
        "-e",
        "cpu-clock",
        "--",
        "sleep",
        "0.25",
    ]);
    // And -A needs -a or -C, as in perf.
    assert_one_clean_error_line(&lwprof(".", &["stat", "-A", "true"]));
}

/// `lwprof-threads 2 MS`, once its threads run.
fn spinning_threads(ms: &str) -> std::process::Child {
    use std::io::BufRead;
    let mut child = Command::new(workload("lwprof-threads"))
        .args(["2", ms])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    child
}

#[test]
fn stat_per_thread_rows_are_perfs() {
    let mut child = spinning_threads("5000");
    let pid = child.id().to_string();
    let events = "task-clock,context-switches,cycles";
    let human = same_layout_as_perf(&[
        "--per-thread",
        "-p",
        &pid,
        "-e",
        events,
        "--",
        "sleep",
        "0.2",
    ]);
    let csv = same_layout_as_perf(&[
        "--per-thread",
        "-x,",
        "-p",
        &pid,
        "-e",
        events,
        "--",
        "sleep",
        "0.2",
    ]);
    let _ = child.kill();
    let _ = child.wait();
    let o = human.1;
    // comm-tid rows, busiest first: the spinners before the sleeping main thread.
    let tc: Vec<&str> = o
        .lines()
        .filter(|l| l.contains("task-clock") && !l.starts_with("lwprof: note"))
        .collect();
    assert_eq!(tc.len(), 3, "{o}");
    assert!(tc[0].trim_start().starts_with("spinner-"), "{o}");
    assert!(
        tc[2]
            .trim_start()
            .starts_with(&format!("lwprof-threads-{pid} ")),
        "{o}"
    );
    assert!(
        csv.1
            .lines()
            .any(|l| l.starts_with(&format!("lwprof-threads-{pid},"))),
        "{}",
        csv.1
    );
    // --per-thread needs a process or a thread, as in perf.
    assert_one_clean_error_line(&lwprof(".", &["stat", "--per-thread", "true"]));
}

#[test]
fn stat_interval_timestamps_are_measured() {
    // Defect 10: perf prints the time measured at each tick, not the nominal
    // 0.100000000, 0.200000000, ...
    let spin = workload("lwprof-spin");
    let o = lwprof(
        ".",
        &[
            "stat",
            "-I",
            "100",
            "-x,",
            "-e",
            "task-clock",
            "--",
            &spin,
            "450",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let times: Vec<String> = stderr(&o)
        .lines()
        .filter(|l| l.contains("task-clock"))
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert!(times.len() >= 4, "{times:?}");
    // perf's "%6lu.%09lu" in CSV too.
    for t in &times {
        let (s, ns) = t.split_once('.').unwrap();
        assert_eq!((s.len(), ns.len()), (6, 9), "{t:?}");
    }
    let secs: Vec<f64> = times.iter().map(|t| t.trim().parse().unwrap()).collect();
    assert!(secs.windows(2).all(|w| w[0] < w[1]), "{secs:?}");
    let nominal = secs
        .iter()
        .filter(|s| ((**s * 10.0).round() / 10.0 - **s).abs() < 1e-9);
    assert!(nominal.count() < secs.len(), "all nominal: {times:?}");
    same_layout_as_perf(&[
        "-I",
        "100",
        "-e",
        "task-clock,page-faults",
        "--",
        &spin,
        "250",
    ]);
}

#[test]
fn stat_pid_with_a_command_prints_no_user_and_sys_of_the_command() {
    // Defect 10: perf prints the command's user and sys times only when the
    // command is what it counts; with -p it prints none.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = sleeper.id().to_string();
    let args = ["-p", &pid, "-e", "task-clock", "--", "sleep", "0.1"];
    let (p, o) = same_layout_as_perf(&args);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(
        !p.contains("seconds user") && !o.contains("seconds user"),
        "{o}"
    );
    assert!(o.contains(&format!("process id '{pid}'")), "{o}");
    // A command that is the target still gets them.
    let o = lwprof(".", &["stat", "-e", "task-clock", "--", "true"]);
    assert!(stderr(&o).contains("seconds user") && stderr(&o).contains("seconds sys"));
}

#[test]
fn stat_cpu_lists_are_titled_as_perf_titles_them() {
    // Defect 10: perf 6.1 titles -C alone 'CPU(s) LIST', and -a (with or
    // without -C) 'system wide'.
    let title = |o: &Output| {
        stderr(o)
            .lines()
            .find(|l| l.contains("Performance counter stats"))
            .unwrap_or_default()
            .to_string()
    };
    for args in [
        &["stat", "-C", "0", "-e", "task-clock", "--", "sleep", "0.05"][..],
        &[
            "stat",
            "-a",
            "-C",
            "0",
            "-e",
            "task-clock",
            "--",
            "sleep",
            "0.05",
        ][..],
        &["stat", "-a", "-e", "task-clock", "--", "sleep", "0.05"][..],
    ] {
        let (p, o) = (perf(".", args), lwprof(".", args));
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(title(&o), title(&p), "{args:?}");
    }
    let o = lwprof(
        ".",
        &["stat", "-C", "0", "-e", "task-clock", "--", "sleep", "0.01"],
    );
    assert_eq!(title(&o), " Performance counter stats for 'CPU(s) 0':");
}

#[test]
fn stat_runs_a_command_given_without_dashes() {
    // As `perf stat ls -l`: the first word that is not an option starts the
    // command, and everything after it is the command's, options included.
    let o = lwprof(
        ".",
        &[
            "stat",
            "-x,",
            "-e",
            "page-faults",
            "sh",
            "-c",
            "exit 3",
            "-x",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(",page-faults,"), "{}", stderr(&o));
    let o = lwprof(".", &["stat", "-e", "page-faults", "ls", "-l", "/"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Performance counter stats for 'ls -l /'"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("total"));
    // `--` is still accepted.
    let o = lwprof(".", &["stat", "-e", "page-faults", "--", "ls", "-l", "/"]);
    assert!(stderr(&o).contains("Performance counter stats for 'ls -l /'"));
}

#[test]
fn stat_output_to_a_full_device_names_the_file() {
    // Defect 21.
    let o = lwprof(
        ".",
        &["stat", "-o", "/dev/full", "-e", "task-clock", "--", "true"],
    );
    assert_one_clean_error_line(&o);
    assert_eq!(
        stderr(&o).trim_end(),
        "lwprof: error: writing /dev/full: No space left on device (os error 28)"
    );
}

#[test]
fn stat_numbers_and_flag_combinations_get_one_line_each() {
    // Defect 20, stat's part: every number is checked, and the message names
    // the flag.
    for (args, flag) in [
        (&["stat", "-I", "0", "true"][..], "-I 0"),
        (
            &["stat", "-I", "99999999999999999999999", "true"][..],
            "-I 9999",
        ),
        (&["stat", "-I", "1e300", "true"][..], "-I 1e300"),
        (&["stat", "-r", "0", "true"][..], "-r 0"),
        (&["stat", "-r", "99999999999", "true"][..], "-r 99999999999"),
        (
            &["stat", "--timeout", "18446744073709551616", "-a"][..],
            "--timeout",
        ),
        (&["stat", "-p", "99999999999"][..], "-p 99999999999"),
        (&["stat", "-t", "abc"][..], "-t abc"),
        (
            &["stat", "-C", "0-99999999999", "true"][..],
            "-C 0-99999999999",
        ),
        (&["stat", "-C", "4095", "true"][..], "-C 4095"),
        (&["stat", "-B", "-x,", "true"][..], "-B"),
        (&["stat", "-x", "", "true"][..], "-x"),
    ] {
        let o = lwprof(".", args);
        assert_one_clean_error_line(&o);
        assert!(stderr(&o).contains(flag), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn stat_big_num_follows_the_locale_as_perf_does() {
    // perf groups digits with printf's %' flag: in the C locale of this
    // machine that adds nothing, in en_US it adds commas.
    let touch = workload("lwprof-touch-pages");
    let faults = |o: &Output| -> String {
        let err = stderr(o);
        let line = err.lines().find(|l| l.contains("page-faults")).unwrap();
        line.split_whitespace().next().unwrap().to_string()
    };
    let run = |tool: &str, env: &[(&str, &str)], extra: &[&str]| {
        let mut c = Command::new(tool);
        c.arg("stat")
            .args(extra)
            .args(["-e", "page-faults", "--", &touch, "20000"]);
        c.env_remove("LC_NUMERIC").env_remove("LANG");
        c.envs(env.iter().copied());
        c.output().unwrap()
    };
    let lw = env!("CARGO_BIN_EXE_lwprof");
    let c = [("LC_ALL", "C")];
    assert!(!faults(&run("perf", &c, &[])).contains(','));
    assert!(!faults(&run(lw, &c, &[])).contains(','));
    // A private en_US locale, built where only these processes look.
    let tmp = scratch("locale");
    let dir = tmp.path();
    let built = Command::new("localedef")
        .args(["-i", "en_US", "-f", "UTF-8"])
        .arg(dir.join("en_US.UTF-8"))
        .status()
        .expect("localedef (libc-bin) and the en_US source (locales) are installed by .ci/run");
    assert!(built.success());
    let loc = dir.to_string_lossy().into_owned();
    let us = [("LOCPATH", loc.as_str()), ("LC_ALL", "en_US.UTF-8")];
    let (p, o) = (faults(&run("perf", &us, &[])), faults(&run(lw, &us, &[])));
    assert!(p.contains(',') && o.contains(','), "perf {p}, lwprof {o}");
    assert_eq!(p.len(), o.len(), "perf {p}, lwprof {o}");
    assert!(!faults(&run(lw, &us, &["--no-big-num"])).contains(','));
    assert!(faults(&run(lw, &us, &["-B"])).contains(','));
}
