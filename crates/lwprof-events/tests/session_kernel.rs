//! Sampling sessions and self-profiling against the real kernel (software
//! events: cpu-clock, page-faults; root in CI).
//!
//! Child workloads are this test binary run again with `LWPROF_SESSION_CHILD`
//! set: `child_entry` is the dispatcher (ignored in a normal run; it
//! asserts the mode is known in a child run).

use lwprof_events::command::PreparedCommand;
use lwprof_events::record::{sample_type, Record};
use lwprof_events::ring::RingOptions;
use lwprof_events::sampling::{Period, SampleConfig, SamplingEvent, Wakeup};
use lwprof_events::selfmon::SelfProfiler;
use lwprof_events::session::{
    SamplingSession, SessionEvent, SessionOptions, SessionRecord, Target,
};
use lwprof_events::EventConfig;
use perf_event_open_sys::bindings as pb;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

const CHILD_ENV: &str = "LWPROF_SESSION_CHILD";

fn cpu_clock() -> EventConfig {
    EventConfig::software("cpu-clock", pb::PERF_COUNT_SW_CPU_CLOCK as u64)
}

fn page_faults() -> EventConfig {
    EventConfig::software("page-faults", pb::PERF_COUNT_SW_PAGE_FAULTS as u64)
}

fn at_hz(hz: u64) -> SampleConfig {
    SampleConfig {
        sample_type: sample_type::IP | sample_type::TID | sample_type::TIME,
        period: Period::Frequency(hz),
        wakeup: Wakeup::Watermark(16 * 1024),
        ..SampleConfig::default()
    }
}

fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into a live local.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Spins until this thread has used `cpu` of CPU time; returns the CPU time used.
fn spin_cpu(cpu: Duration) -> Duration {
    let start = thread_cpu_time();
    let mut x = 1u64;
    while thread_cpu_time() - start < cpu {
        for _ in 0..20_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    std::hint::black_box(x);
    thread_cpu_time() - start
}

/// Every record of a session until it finishes (the target exits).
fn collect(session: &mut SamplingSession) -> Vec<SessionRecord> {
    session
        .ordered()
        .collect::<Result<Vec<_>, _>>()
        .expect("reading the session")
}

struct Sample {
    pid: u32,
    tid: u32,
    time: u64,
    event: Option<usize>,
    addr: Option<u64>,
}

fn samples(records: &[SessionRecord]) -> Vec<Sample> {
    records
        .iter()
        .filter_map(|r| match r.parse().expect("parse") {
            Record::Sample(s) => Some(Sample {
                pid: s.pid()?,
                tid: s.tid()?,
                time: s.time()?,
                event: r.event,
                addr: s.addr(),
            }),
            _ => None,
        })
        .collect()
}

fn child_command(mode: &str, extra: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(std::env::current_exe().expect("current exe"));
    c.args([
        "child_entry",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .args(extra)
    .env(CHILD_ENV, mode);
    c
}

/// `env LWPROF_SESSION_CHILD=<mode> <this test binary> child_entry ...`: a
/// command line for PreparedCommand (env execs the test binary, same pid).
fn child_argv(mode: &str) -> Vec<std::ffi::OsString> {
    let c = child_command(mode, &[]);
    ["env".into(), format!("{CHILD_ENV}={mode}").into()]
        .into_iter()
        .chain(std::iter::once(c.get_program().to_owned()))
        .chain(c.get_args().map(|a| a.to_owned()))
        .collect()
}

/// The dispatcher of child workloads (see the module docs). Ignored in a
/// plain run, where it would have nothing to check: the tests above run it
/// with `--ignored` in a child process.
#[test]
#[ignore = "the child side of the session tests; they run it with --ignored"]
fn child_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    match mode.as_str() {
        // Main thread and three others spin 300 ms of CPU each.
        "threads" => {
            let hs: Vec<_> = (0..3)
                .map(|_| std::thread::spawn(|| spin_cpu(Duration::from_millis(300))))
                .collect();
            spin_cpu(Duration::from_millis(300));
            for h in hs {
                h.join().unwrap();
            }
        }
        "spin" => {
            spin_cpu(Duration::from_millis(300));
        }
        // Two spinning threads; on a line on stdin, a third starts; every
        // thread stops when stdin closes. Tids are printed as they start.
        "attach" => {
            let done = Arc::new(AtomicBool::new(false));
            let spinner = |done: Arc<AtomicBool>| {
                move || {
                    println!("tid {}", gettid());
                    while !done.load(Ordering::Relaxed) {
                        spin_cpu(Duration::from_millis(5));
                    }
                }
            };
            let mut hs = vec![
                std::thread::spawn(spinner(Arc::clone(&done))),
                std::thread::spawn(spinner(Arc::clone(&done))),
            ];
            std::thread::sleep(Duration::from_millis(50));
            println!("ready");
            let stdin = std::io::stdin();
            let mut lines = stdin.lock().lines();
            if let Some(Ok(_)) = lines.next() {
                hs.push(std::thread::spawn(spinner(Arc::clone(&done))));
            }
            // Wait for stdin to close.
            for _ in lines {}
            done.store(true, Ordering::Relaxed);
            for h in hs {
                h.join().unwrap();
            }
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// Kernel behaviour the session design rests on: an inherited event opened
/// with cpu = -1 cannot be mapped, so sessions open inherited events per CPU.
#[test]
fn inherited_any_cpu_event_cannot_be_mapped() {
    let cfg = SampleConfig {
        inherit: true,
        disabled: true,
        ..at_hz(100)
    };
    let ev = SamplingEvent::open(&cpu_clock(), 0, -1, &cfg).expect("open");
    let err = ev
        .map_ring(&RingOptions {
            data_pages: 8,
            ..RingOptions::default()
        })
        .expect_err("the kernel maps an inherited cpu=-1 event");
    assert!(err.to_string().contains("Invalid argument"), "{err}");
    let per_cpu = SamplingEvent::open(&cpu_clock(), 0, 0, &cfg).expect("open per CPU");
    per_cpu
        .map_ring(&RingOptions {
            data_pages: 8,
            ..RingOptions::default()
        })
        .expect("an inherited per-CPU event maps");
}

/// A thread burning a known amount of its own CPU time at 1000 Hz yields
/// about cpu_time x 1000 samples, all with its tid.
#[test]
fn frequency_sampling_matches_the_threads_cpu_time() {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        go_rx.recv().unwrap();
        spin_cpu(Duration::from_millis(500))
    });
    let tid = tid_rx.recv().unwrap();
    let opts = SessionOptions {
        inherit: false,
        ..SessionOptions::default()
    };
    let ev = SessionEvent {
        event: cpu_clock(),
        sample: at_hz(1000),
    };
    let mut session = SamplingSession::open(&[ev], &Target::Task(tid), &opts).expect("open");
    go_tx.send(()).unwrap();
    let cpu = worker.join().unwrap();
    let mut records = Vec::new();
    session.finish(&mut records).unwrap();
    let s = samples(&records);
    assert!(s.iter().all(|s| s.tid == tid as u32));
    let expected = cpu.as_secs_f64() * 1000.0;
    let n = s.len() as f64;
    assert!(
        n >= 0.5 * expected && n <= 1.5 * expected,
        "{n} samples for {:?} of CPU at 1000 Hz",
        cpu
    );
    assert_eq!(session.stats().lost, 0);
    assert_eq!(session.stats().samples, s.len() as u64);
}

/// A command with four busy threads: every thread is sampled, records come
/// out in time order across the CPUs' rings, and the session ends by itself
/// when the command exits (POLLHUP on every event).
#[test]
fn every_thread_appears_in_time_order_and_the_session_ends() {
    let mut cmd = PreparedCommand::new(&child_argv("threads")).expect("fork");
    let opts = SessionOptions {
        enable_on_exec: true,
        ..SessionOptions::default()
    };
    let mut ev = SessionEvent {
        event: cpu_clock(),
        sample: at_hz(1000),
    };
    ev.sample.task = true;
    let mut session = SamplingSession::open(&[ev], &Target::Task(cmd.pid()), &opts).expect("open");
    cmd.start().expect("start");
    let records = collect(&mut session);
    assert!(session.is_finished());
    cmd.wait().unwrap();

    let s = samples(&records);
    let pid = cmd.pid() as u32;
    let mut per_tid: BTreeMap<u32, usize> = BTreeMap::new();
    for x in s.iter().filter(|x| x.pid == pid) {
        *per_tid.entry(x.tid).or_default() += 1;
    }
    // Each thread burnt 300 ms of CPU: ~300 samples at 1000 Hz.
    assert!(
        per_tid.len() >= 4 && per_tid.values().filter(|&&n| n >= 100).count() >= 4,
        "{per_tid:?}"
    );
    // FORK records announce the threads (three workers, plus the harness's
    // test thread).
    let forks: BTreeSet<u32> = records
        .iter()
        .filter_map(|r| match r.parse() {
            Ok(Record::Fork(f)) if f.pid == pid && f.tid != pid => Some(f.tid),
            _ => None,
        })
        .collect();
    assert!(forks.len() >= 3, "{forks:?}");
    for tid in per_tid.keys().filter(|&&t| t != pid) {
        assert!(
            forks.contains(tid),
            "thread {tid} sampled without a FORK record"
        );
    }
    // Time order across rings.
    for w in records.windows(2) {
        assert!(w[0].time <= w[1].time, "{} > {}", w[0].time, w[1].time);
    }
    assert_eq!(session.order_stats().late, 0);
    let cpus: BTreeSet<i32> = records.iter().map(|r| r.cpu).collect();
    if session.ring_cpus().len() >= 2 {
        assert!(cpus.len() >= 2, "records from one ring only: {cpus:?}");
    }
    assert_eq!(session.stats().lost, 0);
}

/// `sh -c 'CHILD; true'` forks and execs a busy child: with inherit, the
/// child's samples are in the session, with its FORK and exec COMM records.
#[test]
fn forked_and_execd_children_are_followed() {
    let script = child_argv("spin")
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
        + "; true";
    let mut cmd = PreparedCommand::new(&["sh".into(), "-c".into(), script.into()]).expect("fork");
    let opts = SessionOptions {
        enable_on_exec: true,
        ..SessionOptions::default()
    };
    let mut ev = SessionEvent {
        event: cpu_clock(),
        sample: at_hz(1000),
    };
    ev.sample.comm = true;
    ev.sample.task = true;
    let mut session = SamplingSession::open(&[ev], &Target::Task(cmd.pid()), &opts).expect("open");
    cmd.start().expect("start");
    let records = collect(&mut session);
    cmd.wait().unwrap();
    let sh = cmd.pid() as u32;
    let mut children = BTreeSet::new();
    let mut exec_comms = BTreeMap::new();
    for r in &records {
        match r.parse().unwrap() {
            Record::Fork(f) if f.ppid == sh && f.pid != sh => {
                children.insert(f.pid);
            }
            Record::Comm(c) if r.header().unwrap().comm_exec() => {
                exec_comms.insert(c.pid, c.comm.as_contiguous().into_owned());
            }
            _ => {}
        }
    }
    assert_eq!(children.len(), 1, "forks of sh: {children:?}");
    let child = *children.iter().next().unwrap();
    let exe = std::env::current_exe().unwrap();
    let name = exe.file_name().unwrap().to_string_lossy();
    let comm = exec_comms
        .get(&child)
        .expect("exec COMM record of the child");
    assert_eq!(
        String::from_utf8_lossy(comm),
        name.chars().take(15).collect::<String>()
    );
    let child_samples = samples(&records).iter().filter(|s| s.pid == child).count();
    assert!(child_samples >= 100, "{child_samples} samples of the child");
}

fn tid_in(line: &str) -> Option<u32> {
    let at = line.find("tid ")?;
    line[at + 4..].trim().parse().ok()
}

/// Attaching to a running process samples every thread it has, and a thread
/// it creates after the attach.
#[test]
fn attach_to_a_running_process_sees_every_thread() {
    let mut child = child_command("attach", &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut tids = BTreeSet::new();
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended early");
        // libtest's "test child_entry ... " may prefix the first line.
        if let Some(t) = tid_in(&line) {
            tids.insert(t);
        } else if line.contains("ready") {
            break;
        }
    }
    let pid = child.id() as i32;
    let ev = SessionEvent {
        event: cpu_clock(),
        sample: at_hz(1000),
    };
    let mut session =
        SamplingSession::open(&[ev], &Target::Process(pid), &SessionOptions::default())
            .expect("attach");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "go").unwrap();
    // Let the new thread start and run for a while, then end the child.
    line.clear();
    while out.read_line(&mut line).unwrap() > 0 {
        if let Some(t) = tid_in(&line) {
            tids.insert(t);
            break;
        }
        line.clear();
    }
    let mut records = Vec::new();
    let mut seen = BTreeSet::new();
    // Read until the new thread has samples too (bounded by the child's
    // lifetime: it ends when stdin closes below).
    for _ in 0..200 {
        session.wait(Some(Duration::from_millis(50))).unwrap();
        session.read_ordered(&mut records);
        seen.extend(samples(&records).iter().map(|s| s.tid));
        if tids.iter().all(|t| seen.contains(t)) {
            break;
        }
    }
    drop(stdin);
    let rest = collect(&mut session);
    records.extend(rest);
    child.wait().unwrap();
    assert_eq!(tids.len(), 3, "{tids:?}");
    let seen: BTreeSet<u32> = samples(&records)
        .iter()
        .filter(|s| s.pid == pid as u32)
        .map(|s| s.tid)
        .collect();
    for t in &tids {
        assert!(seen.contains(t), "thread {t} not sampled; saw {seen:?}");
    }
    assert!(session.is_finished());
}

/// Two events in one ring per CPU (SET_OUTPUT): both sample, and each
/// record is parsed with its own event's layout, found by its id.
#[test]
fn two_events_share_one_ring_and_are_told_apart() {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        go_rx.recv().unwrap();
        // Page faults: touch fresh pages; then burn CPU.
        let mut v: Vec<Vec<u8>> = Vec::new();
        for _ in 0..64 {
            let mut page = vec![0u8; 64 * 4096];
            for i in (0..page.len()).step_by(4096) {
                page[i] = 1;
            }
            v.push(std::hint::black_box(page));
        }
        spin_cpu(Duration::from_millis(200));
    });
    let tid = tid_rx.recv().unwrap();
    let clock = SessionEvent {
        event: cpu_clock(),
        sample: at_hz(1000),
    };
    let faults = SessionEvent {
        event: page_faults(),
        sample: SampleConfig {
            sample_type: sample_type::IP | sample_type::TID | sample_type::ADDR,
            period: Period::Count(1),
            wakeup: Wakeup::Watermark(16 * 1024),
            ..SampleConfig::default()
        },
    };
    let opts = SessionOptions {
        inherit: false,
        ..SessionOptions::default()
    };
    let mut session =
        SamplingSession::open(&[clock, faults], &Target::Task(tid), &opts).expect("open");
    assert_eq!(session.instances(), 2 * session.ring_cpus().len());
    go_tx.send(()).unwrap();
    worker.join().unwrap();
    let mut records = Vec::new();
    session.finish(&mut records).unwrap();
    let s = samples(&records);
    let clock_n = s.iter().filter(|s| s.event == Some(0)).count();
    let fault_n = s.iter().filter(|s| s.event == Some(1)).count();
    assert!(clock_n >= 50, "{clock_n} cpu-clock samples");
    assert!(fault_n >= 64 * 64, "{fault_n} page-fault samples");
    assert!(s.iter().all(|s| s.event.is_some()));
    // Only page-fault samples carry ADDR: parsed with the right layout.
    assert!(s
        .iter()
        .all(|x| (x.event == Some(1)) == x.addr.is_some() && x.tid == tid as u32));
    for w in s.windows(2) {
        assert!(w[0].time <= w[1].time);
    }
}

/// A watermark wakes the session's wait once enough bytes are in a ring,
/// and not before.
#[test]
fn watermark_wakes_the_session() {
    let faults = SessionEvent {
        event: page_faults(),
        sample: SampleConfig {
            sample_type: sample_type::IP | sample_type::TID,
            period: Period::Count(1),
            wakeup: Wakeup::Watermark(8 * 1024),
            ..SampleConfig::default()
        },
    };
    let opts = SessionOptions {
        inherit: false,
        // Pin to one CPU so all records go to one ring.
        cpus: vec![0],
        ..SessionOptions::default()
    };
    // Run on CPU 0 so that the per-CPU event sees the faults.
    // SAFETY: an all-zero cpu_set_t is valid; CPU_SET writes within it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { libc::CPU_SET(0, &mut set) };
    // SAFETY: pins the calling thread; `set` is a live local of the right size.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    assert_eq!(rc, 0);
    let mut session =
        SamplingSession::open(&[faults], &Target::Task(gettid()), &opts).expect("open");
    let st = session.wait(Some(Duration::ZERO)).unwrap();
    assert!(!st.woken, "woken before any record");
    // Each sample is 8 + 8 (identifier) + 8 + 8 + 8 (time) = 40 bytes: 512
    // faults are 20 KiB, past the 8 KiB watermark.
    let mut pages = vec![0u8; 512 * 4096];
    for i in (0..pages.len()).step_by(4096) {
        pages[i] = std::hint::black_box(1);
    }
    std::hint::black_box(&pages);
    let st = session.wait(Some(Duration::from_secs(10))).unwrap();
    assert!(st.woken, "no wakeup after 20 KiB of records");
    let mut records = Vec::new();
    session.finish(&mut records).unwrap();
    assert!(samples(&records).len() >= 512);
}

/// The self-profiler samples both worker threads of this process, including
/// one started after it.
#[test]
fn self_profiler_sees_both_threads() {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let early_tx = tid_tx.clone();
    let early = std::thread::spawn(move || {
        early_tx.send(gettid()).unwrap();
        go_rx.recv().unwrap();
        spin_cpu(Duration::from_millis(300));
    });
    let early_tid = tid_rx.recv().unwrap() as u32;
    let profiler = SelfProfiler::start(1000).expect("start");
    let late = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        spin_cpu(Duration::from_millis(300));
    });
    let late_tid = tid_rx.recv().unwrap() as u32;
    go_tx.send(()).unwrap();
    early.join().unwrap();
    late.join().unwrap();
    let profile = profiler.stop().expect("stop");
    for t in [early_tid, late_tid] {
        let n = profile.threads.get(&t).copied().unwrap_or(0);
        assert!(n >= 100, "thread {t}: {n} samples; {:?}", profile.threads);
    }
    assert_eq!(profile.lost, 0);
    assert_eq!(profile.unparsed, 0);
    assert_eq!(profile.stacks.values().sum::<u64>(), profile.samples);
}

#[cfg(feature = "tokio")]
#[test]
fn async_stream_yields_the_records_of_a_command() {
    use futures_core::Stream;
    let mut cmd = PreparedCommand::new(&child_argv("spin")).expect("fork");
    let opts = SessionOptions {
        enable_on_exec: true,
        ..SessionOptions::default()
    };
    let ev = SessionEvent {
        event: cpu_clock(),
        sample: at_hz(1000),
    };
    let session = SamplingSession::open(&[ev], &Target::Task(cmd.pid()), &opts).expect("open");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let records = rt.block_on(async move {
        let mut stream = session.into_stream().expect("stream");
        cmd.start().expect("start");
        let mut out = Vec::new();
        while let Some(r) =
            std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await
        {
            out.push(r.expect("record"));
        }
        cmd.wait().unwrap();
        (out, cmd.pid() as u32)
    });
    let (records, pid) = records;
    let n = samples(&records).iter().filter(|s| s.pid == pid).count();
    assert!(n >= 100, "{n} samples through the stream");
    for w in records.windows(2) {
        assert!(w[0].time <= w[1].time);
    }
}
