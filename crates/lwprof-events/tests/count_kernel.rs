//! Counting against the real kernel: page faults, groups with a tracepoint,
//! inheritance, attaching to a running process, and CPU-wide counting.
//! These run in CI (software events and tracepoints need no hardware PMU).

use lwprof_events::command::PreparedCommand;
use lwprof_events::counter::CountOptions;
use lwprof_events::counting_session::{CountRequest, CountingSession, EventStatus, Target};
use lwprof_events::parse_events_system;
use std::ffi::OsString;
use std::time::Duration;

fn requests(spec: &str) -> Vec<CountRequest> {
    parse_events_system(spec)
        .unwrap()
        .into_iter()
        .map(|g| CountRequest {
            events: g.configs(),
            grouped: g.is_group,
        })
        .collect()
}

fn count_command(spec: &str, argv: &[OsString], inherit: bool) -> Vec<u64> {
    let mut cmd = PreparedCommand::new(argv).unwrap();
    let opts = CountOptions {
        inherit,
        disabled: true,
        enable_on_exec: true,
    };
    let session = CountingSession::open(&requests(spec), &Target::Task(cmd.pid()), &opts).unwrap();
    cmd.start().unwrap();
    let status = cmd.wait().unwrap();
    assert_eq!(status.code(), 0, "{argv:?} failed");
    session
        .read()
        .unwrap()
        .into_iter()
        .map(|s| match s {
            EventStatus::Counted(v) => v.value,
            EventStatus::NotSupported(r) => panic!("not supported: {r}"),
        })
        .collect()
}

fn workload(name: &str, args: &[&str]) -> Vec<OsString> {
    let mut v = vec![lwprof_workloads::path(name).into_os_string()];
    v.extend(args.iter().map(OsString::from));
    v
}

#[test]
fn page_faults_are_at_least_the_pages_touched() {
    let n = 20_000u64;
    let counts = count_command(
        "page-faults",
        &workload("lwprof-touch-pages", &["20000"]),
        true,
    );
    assert!(counts[0] >= n, "page-faults {} < {n}", counts[0]);
    // And not wildly more: the program's own start-up costs a few hundred.
    assert!(
        counts[0] < n + 5_000,
        "page-faults {} far above {n}",
        counts[0]
    );
}

#[test]
fn a_group_of_software_events_and_a_tracepoint_counts_sleeps() {
    let k = 25u64;
    let counts = count_command(
        "{task-clock,page-faults,sched:sched_switch}",
        &workload("lwprof-sleeper", &["25"]),
        true,
    );
    assert!(counts[0] > 0, "task-clock {}", counts[0]);
    assert!(counts[1] > 0, "page-faults {}", counts[1]);
    // Every sleep switches out at least once.
    assert!(counts[2] >= k, "sched_switch {} < {k}", counts[2]);
    assert!(
        counts[2] < k * 10,
        "sched_switch {} far above {k}",
        counts[2]
    );
}

#[test]
fn inherit_counts_a_forked_child_and_no_inherit_does_not() {
    let touch = lwprof_workloads::path("lwprof-touch-pages");
    // `; true` makes the shell fork the child instead of exec'ing it.
    let script = format!("{} 8000; true", touch.display());
    let argv: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into()];
    let with = count_command("page-faults", &argv, true)[0];
    let without = count_command("page-faults", &argv, false)[0];
    assert!(with >= 8_000, "inherit: {with} < 8000");
    assert!(without < 8_000, "no-inherit counted the child: {without}");
    assert!(
        with > without + 7_000,
        "inherit {with} vs no-inherit {without}"
    );
}

#[test]
fn attaching_to_a_running_process_counts_it() {
    let spin = lwprof_workloads::path("lwprof-spin");
    let mut child = std::process::Command::new(spin)
        .arg("3000")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let opts = CountOptions::default();
    let session = CountingSession::open(
        &requests("task-clock,context-switches"),
        &Target::Process(child.id() as i32),
        &opts,
    )
    .unwrap();
    session.enable().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    session.disable().unwrap();
    let values = session.read().unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let EventStatus::Counted(tc) = &values[0] else {
        panic!("task-clock not counted")
    };
    // A spinning process on a loaded 2-core machine still gets well over
    // 10 ms of CPU in 300 ms.
    assert!(tc.value > 10_000_000, "task-clock {} ns", tc.value);
}

#[test]
fn a_missing_pid_is_one_clear_error() {
    let err = CountingSession::open(
        &requests("task-clock"),
        &Target::Process(i32::MAX - 7),
        &CountOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no such process"), "{err}");
}

#[test]
fn cpu_wide_counting_sees_context_switches() {
    let session = CountingSession::open(
        &requests("context-switches,cpu-clock"),
        &Target::Cpus(vec![]),
        &CountOptions::default(),
    )
    .unwrap();
    session.enable().unwrap();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(2));
    }
    session.disable().unwrap();
    let values = session.read().unwrap();
    let EventStatus::Counted(cs) = &values[0] else {
        panic!()
    };
    assert!(cs.value >= 5, "context-switches {}", cs.value);
}

/// Without a hardware PMU, `cycles` is reported unsupported (naming the
/// missing PMU) and the software event beside it still counts; with one,
/// both count the work done between enable and disable. Either way the
/// test asserts what this machine can answer.
#[test]
fn cycles_counts_with_a_cpu_pmu_and_is_unsupported_without() {
    let pmus = lwprof_events::PmuRegistry::system().unwrap();
    let session = CountingSession::open(
        &requests("cycles,task-clock"),
        &Target::Task(0),
        &CountOptions::default(),
    )
    .unwrap();
    session.enable().unwrap();
    let mut x = 1u64;
    for i in 0..20_000_000u64 {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    session.disable().unwrap();
    let values = session.read().unwrap();
    let task_clock = counted(&values[1]);
    assert!(task_clock > 0, "task-clock counted nothing");
    if pmus.has_cpu_pmu() {
        let EventStatus::Counted(cycles) = &values[0] else {
            panic!(
                "cycles not counted on a machine with a CPU PMU: {:?}",
                values[0]
            );
        };
        assert!(
            cycles.value > 0 && cycles.time_running > 0,
            "cycles on a machine with a CPU PMU: {cycles:?}"
        );
    } else {
        assert!(
            matches!(&values[0], EventStatus::NotSupported(r) if r.contains("hardware PMU")),
            "{:?}",
            values[0]
        );
    }
}

fn counted(s: &EventStatus) -> u64 {
    match s {
        EventStatus::Counted(v) => v.value,
        EventStatus::NotSupported(r) => panic!("not supported: {r}"),
    }
}

#[test]
fn per_cpu_reads_keep_each_cpu_and_add_up_to_the_total() {
    let online = lwprof_events::command::online_cpus().unwrap();
    let session = CountingSession::open(
        &requests("cpu-clock,cycles"),
        &Target::Cpus(vec![]),
        &CountOptions::default(),
    )
    .unwrap();
    session.enable().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    session.disable().unwrap();
    let rows = session.read_places().unwrap();
    let total = session.read().unwrap();
    let cpus: Vec<i32> = rows.iter().map(|(p, _)| p.cpu).collect();
    assert_eq!(cpus, online);
    assert!(rows.iter().all(|(p, v)| p.pid == -1 && v.len() == 2));
    // Every CPU's clock ran for the whole 50 ms.
    for (p, v) in &rows {
        assert!(counted(&v[0]) >= 40_000_000, "cpu{}: {:?}", p.cpu, v[0]);
    }
    let sum: u64 = rows.iter().map(|(_, v)| counted(&v[0])).sum();
    assert_eq!(sum, counted(&total[0]));
    // The event the machine cannot count is unsupported on every CPU alike.
    let unsupported = rows
        .iter()
        .filter(|(_, v)| matches!(v[1], EventStatus::NotSupported(_)))
        .count();
    let expect = if matches!(total[1], EventStatus::NotSupported(_)) {
        rows.len()
    } else {
        0
    };
    assert_eq!(unsupported, expect);
}

/// Starts `lwprof-threads 2 MS` and waits until its threads run.
fn spinning_threads(ms: &str) -> std::process::Child {
    use std::io::BufRead;
    let mut child = std::process::Command::new(lwprof_workloads::path("lwprof-threads"))
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
fn per_thread_reads_name_each_thread_of_a_process() {
    let mut child = spinning_threads("3000");
    let pid = child.id() as i32;
    let threads = lwprof_events::command::process_threads(pid).unwrap();
    assert_eq!(threads.len(), 3, "{threads:?}");
    let session = CountingSession::open(
        &requests("task-clock"),
        &Target::Process(pid),
        &CountOptions::default(),
    )
    .unwrap();
    session.enable().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    session.disable().unwrap();
    let rows = session.read_places().unwrap();
    let comms: Vec<Option<String>> = threads
        .iter()
        .map(|&t| lwprof_events::command::thread_comm(pid, t))
        .collect();
    child.kill().unwrap();
    let _ = child.wait();
    let tids: Vec<i32> = rows.iter().map(|(p, _)| p.pid).collect();
    assert_eq!(tids, threads);
    assert_eq!(comms[0].as_deref(), Some("lwprof-threads"));
    assert_eq!(comms[1].as_deref(), Some("spinner"));
    let busy: Vec<u64> = rows.iter().map(|(_, v)| counted(&v[0])).collect();
    // The two spinners each ran for a good part of the 300 ms; the main
    // thread slept.
    assert!(busy[1] > 50_000_000 && busy[2] > 50_000_000, "{busy:?}");
    assert!(busy[0] < busy[1] / 10, "{busy:?}");
}
