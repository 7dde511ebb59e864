//! Ring buffers, wakeups, budgets and security controls against the real
//! kernel (software events only: they work without a hardware PMU, as root
//! in CI). Every test uses only the public API, as the sessions layer will.

use lwprof_events::budget::{Budget, Limits, SizePolicy};
use lwprof_events::counter::{CountOptions, Counter};
use lwprof_events::poll::{Poller, Readiness};
use lwprof_events::ring::{Ring, RingOptions};
use lwprof_events::sampling::{Period, SampleConfig, SamplingEvent, Wakeup};
use lwprof_events::security::{self, FilterScope, PerfDenyFilter};
use lwprof_events::{Error, EventConfig, RawData};
use lwprof_records::abi::record_type::{LOST as RECORD_LOST, SAMPLE as RECORD_SAMPLE};
use lwprof_records::record::{Endianness, RecordHeader};
use perf_event_open_sys::bindings as pb;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

const PAGE: usize = 4096;
const IP_TID_TIME: u64 = (pb::PERF_SAMPLE_IP | pb::PERF_SAMPLE_TID | pb::PERF_SAMPLE_TIME) as u64;

fn page_faults() -> EventConfig {
    EventConfig::software("page-faults", pb::PERF_COUNT_SW_PAGE_FAULTS as u64)
}

fn every_fault(sample_type: u64) -> SampleConfig {
    SampleConfig {
        sample_type,
        period: Period::Count(1),
        wakeup: Wakeup::Events(1),
        disabled: true,
        ..SampleConfig::default()
    }
}

fn gettid() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}

/// Anonymous memory whose pages fault once each when first written
/// (transparent huge pages off, so one fault per 4 KiB page).
struct Pages {
    ptr: *mut u8,
    len: usize,
}

impl Pages {
    fn new(n: usize) -> Pages {
        let len = n * PAGE;
        // SAFETY: a fresh private anonymous mapping; nothing else is affected.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        // SAFETY: advice on the mapping we just made.
        unsafe { libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE) };
        Pages {
            ptr: ptr.cast(),
            len,
        }
    }

    fn addr(&self, i: usize) -> u64 {
        self.ptr as u64 + (i * PAGE) as u64
    }

    /// Writes one byte into pages `range`: one page fault each.
    fn touch(&self, range: std::ops::Range<usize>) {
        for i in range {
            assert!(i * PAGE < self.len);
            // SAFETY: inside our mapping; volatile so the write happens.
            unsafe { std::ptr::write_volatile(self.ptr.add(i * PAGE), 1) };
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: our mapping, no longer used.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

// SAFETY: the mapping is plain memory; tests hand it to one thread at a time.
unsafe impl Send for Pages {}

fn opts(data_pages: usize) -> RingOptions {
    RingOptions {
        data_pages,
        ..RingOptions::default()
    }
}

struct Sample {
    ip: u64,
    pid: u32,
    tid: u32,
    time: u64,
    /// The u64 after TIME (ADDR or CPU, when asked for).
    next: Option<u64>,
}

fn sample(r: &RawData<'_>) -> Option<Sample> {
    let h = RecordHeader::parse(*r, Endianness::NATIVE)?;
    if h.record_type != RECORD_SAMPLE {
        return None;
    }
    Some(Sample {
        ip: r.read_u64(8)?,
        pid: r.read_u32(16)?,
        tid: r.read_u32(20)?,
        time: r.read_u64(24)?,
        next: r.read_u64(32),
    })
}

/// Drains the ring; returns the samples (and checks each is `size` bytes).
fn drain(ring: &mut Ring, size: u16, out: &mut Vec<Sample>, split: &mut u64) {
    let mut batch = ring.read();
    for r in batch.records() {
        let h = RecordHeader::parse(r, Endianness::NATIVE).unwrap();
        if h.record_type == RECORD_SAMPLE {
            assert_eq!(h.size, size, "sample size for the sample_type");
            *split += matches!(r, RawData::Split(..)) as u64;
            out.push(sample(&r).unwrap());
        }
    }
}

#[test]
fn samples_are_read_in_place_with_ip_tid_time() {
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).unwrap();
    let mut ring = ev.map_ring(&opts(16)).unwrap();
    assert_eq!(ring.data_size(), 16 * PAGE);
    assert!(ring.shrunk().is_none());
    let pages = Pages::new(200);
    ev.enable().unwrap();
    pages.touch(0..200);
    ev.disable().unwrap();
    let mut samples = Vec::new();
    drain(&mut ring, 32, &mut samples, &mut 0);
    let tid = gettid();
    let pid = std::process::id();
    assert!(
        samples.len() >= 200,
        "one sample per fault: {}",
        samples.len()
    );
    for s in &samples {
        assert_eq!((s.pid, s.tid), (pid, tid));
        assert_ne!(s.ip, 0);
        assert_ne!(s.time, 0);
    }
    assert_eq!(ring.stats().lost, 0);
    assert_eq!(
        samples.len() as u64,
        ev.read_count().unwrap(),
        "every counted fault was sampled"
    );
    assert_eq!(
        ev.self_count(&ring).unwrap(),
        ev.read_count().unwrap(),
        "no rdpmc here: read(2)"
    );
    assert_eq!(ring.pending_bytes(), 0);
}

#[test]
fn a_full_one_page_ring_reports_every_lost_sample() {
    let counting = Counter::open(
        &page_faults(),
        0,
        -1,
        &CountOptions {
            inherit: false,
            disabled: true,
            enable_on_exec: false,
        },
    )
    .unwrap();
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).unwrap();
    let mut ring = ev.map_ring(&opts(1)).unwrap();
    let pages = Pages::new(20_001);
    counting.enable().unwrap();
    ev.enable().unwrap();
    pages.touch(0..20_000); // 20k samples of 32 bytes into 4 KiB, not drained
    let mut samples = Vec::new();
    drain(&mut ring, 32, &mut samples, &mut 0);
    // The kernel reports a loss with the next record it can write: make one.
    pages.touch(20_000..20_001);
    ev.disable().unwrap();
    counting.disable().unwrap();
    drain(&mut ring, 32, &mut samples, &mut 0);

    let stats = ring.stats().clone();
    let generated = ev.read_count().unwrap();
    assert!(generated >= 20_001, "{generated}");
    assert!(stats.lost > 10_000, "a 1-page ring overflows: {stats:?}");
    assert!(stats.lost_records >= 1);
    assert_eq!(
        stats.lost_for(ev.id()),
        stats.lost,
        "LOST carries this event's id"
    );
    assert_eq!(
        stats.throttles, 0,
        "period-1 software events are not throttled"
    );
    assert_eq!(
        samples.len() as u64 + stats.lost,
        generated,
        "received + reported lost = what the event counted"
    );
    // The separate counting event ran slightly longer (enabled first,
    // disabled last): it may see a few more faults, never fewer.
    let counted = counting.read().unwrap().value;
    eprintln!(
        "received {} lost {} ({} LOST records) generated {generated} counted {counted}",
        samples.len(),
        stats.lost,
        stats.lost_records
    );
    assert!(
        counted >= generated && counted - generated <= 16,
        "counting event {counted} vs sampling event {generated}"
    );
}

#[test]
fn overwrite_snapshot_returns_the_newest_records_in_order() {
    let st = IP_TID_TIME | pb::PERF_SAMPLE_ADDR as u64;
    let cfg = SampleConfig {
        write_backward: true,
        ..every_fault(st)
    };
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &cfg).unwrap();
    let mut ring = ev
        .map_ring(&RingOptions {
            overwrite: true,
            ..opts(1)
        })
        .unwrap();
    let n = 1000;
    let pages = Pages::new(n);
    ev.enable().unwrap();
    pages.touch(0..n);
    let mut snap = ring.snapshot(false).unwrap();
    let mut ours = Vec::new();
    let mut records = 0;
    for r in snap.records() {
        records += 1;
        if let Some(s) = sample(&r) {
            let addr = s.next.unwrap();
            if addr >= pages.addr(0) && addr < pages.addr(n) {
                ours.push(((addr - pages.addr(0)) / PAGE as u64) as usize);
            }
        }
    }
    drop(snap);
    ev.disable().unwrap();
    // 4 KiB of 40-byte samples: about 100 of the 1000 are still there.
    assert!(
        records <= PAGE / 40 && ours.len() >= 50,
        "{records} records, {} ours",
        ours.len()
    );
    assert_eq!(*ours.last().unwrap(), n - 1, "the newest fault is last");
    // Consecutive pages, oldest first; a fault the kernel retried (under
    // load, when the mmap lock was contended) is recorded twice.
    assert!(
        ours.windows(2).all(|w| w[1] == w[0] + 1 || w[1] == w[0]),
        "the newest records, oldest first: {ours:?}"
    );
    assert!(!ring.is_paused());
}

#[test]
fn epoll_wakes_only_after_the_watermark() {
    let cfg = SampleConfig {
        wakeup: Wakeup::Watermark(4096),
        ..every_fault(IP_TID_TIME)
    };
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &cfg).unwrap();
    let ring = ev.map_ring(&opts(4)).unwrap();
    let mut poller = Poller::new().unwrap();
    poller.add(ring.fd().unwrap(), 42).unwrap();
    let pages = Pages::new(400);
    ev.enable().unwrap();
    pages.touch(0..40); // ~1280 bytes of samples: below the watermark
    let mut out = Vec::new();
    poller.wait(Some(Duration::ZERO), &mut out).unwrap();
    assert!(out.is_empty(), "no wakeup below the watermark: {out:?}");
    assert!(ring.pending_bytes() < 4096);
    pages.touch(40..400); // ~12800 bytes: crosses it
    ev.disable().unwrap();
    let got = wait_for(&mut poller, |r| r.readable);
    assert_eq!(got.token, 42);
    assert!(
        ring.pending_bytes() > 4096,
        "woken with more than the watermark in the ring"
    );
}

#[test]
fn epoll_wakes_after_wakeup_events_samples() {
    let cfg = SampleConfig {
        wakeup: Wakeup::Events(64),
        ..every_fault(IP_TID_TIME)
    };
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &cfg).unwrap();
    let mut ring = ev.map_ring(&opts(8)).unwrap();
    let mut poller = Poller::new().unwrap();
    poller.add(ring.fd().unwrap(), 1).unwrap();
    let pages = Pages::new(200);
    ev.enable().unwrap();
    pages.touch(0..20);
    let mut out = Vec::new();
    poller.wait(Some(Duration::ZERO), &mut out).unwrap();
    assert!(out.is_empty(), "20 samples < 64: {out:?}");
    pages.touch(20..200);
    ev.disable().unwrap();
    wait_for(&mut poller, |r| r.readable);
    assert!(ring.read().records().count() >= 64);
}

/// Waits (at most 30 s per call, a hang guard, not a timing assertion) until
/// a readiness matching `want` is reported.
fn wait_for(poller: &mut Poller, want: impl Fn(&Readiness) -> bool) -> Readiness {
    for _ in 0..20 {
        let mut out = Vec::new();
        poller
            .wait(Some(Duration::from_secs(30)), &mut out)
            .unwrap();
        if let Some(r) = out.iter().find(|r| want(r)) {
            return *r;
        }
    }
    panic!("the expected readiness never came");
}

#[test]
fn epoll_reports_hangup_when_the_task_exits() {
    let mut child = std::process::Command::new("cat")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let cfg = SampleConfig {
        period: Period::Count(1_000_000),
        disabled: false,
        ..SampleConfig::default()
    };
    let task_clock = EventConfig::software("task-clock", pb::PERF_COUNT_SW_TASK_CLOCK as u64);
    let ev = SamplingEvent::open(&task_clock, child.id() as i32, -1, &cfg).unwrap();
    let ring = ev.map_ring(&opts(1)).unwrap();
    let mut poller = Poller::new().unwrap();
    poller.add(ring.fd().unwrap(), 9).unwrap();
    let mut out = Vec::new();
    poller.wait(Some(Duration::ZERO), &mut out).unwrap();
    assert!(
        !out.iter().any(|r| r.hangup),
        "cat is alive, blocked on stdin: {out:?}"
    );
    drop(child.stdin.take()); // EOF: cat exits
    let r = wait_for(&mut poller, |r| r.hangup);
    assert_eq!(r.token, 9);
    assert!(child.wait().unwrap().success());
}

#[test]
fn live_records_wrap_while_a_reader_drains_concurrently() {
    let (tid_tx, tid_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<(usize, usize)>();
    let (done_tx, done_rx) = mpsc::channel();
    let pages = Pages::new(20_001);
    let worker = std::thread::spawn(move || {
        tid_tx.send(gettid()).unwrap();
        while let Ok((from, to)) = go_rx.recv() {
            if from == to {
                break;
            }
            pages.touch(from..to);
            done_tx.send(()).unwrap();
        }
    });
    let tid = tid_rx.recv().unwrap();
    // 40-byte samples do not divide the 4 KiB ring: records wrap.
    let st = IP_TID_TIME | pb::PERF_SAMPLE_CPU as u64;
    let cfg = SampleConfig {
        disabled: false,
        ..every_fault(st)
    };
    let ev = SamplingEvent::open(&page_faults(), tid as i32, -1, &cfg).unwrap();
    let mut ring = ev.map_ring(&opts(1)).unwrap();
    let mut samples = Vec::new();
    let mut split = 0;
    // Two rounds: the reader drains while the worker faults; even if the
    // reader got no CPU during a round, the second round starts where the
    // first left the tail, so records cross the end of the ring.
    for round in [(0, 10_000), (10_000, 20_000)] {
        go_tx.send(round).unwrap();
        while done_rx.try_recv().is_err() {
            drain(&mut ring, 40, &mut samples, &mut split);
            std::thread::yield_now();
        }
        drain(&mut ring, 40, &mut samples, &mut split);
    }
    // One more fault with an empty ring flushes any pending loss count.
    go_tx.send((20_000, 20_001)).unwrap();
    done_rx.recv().unwrap();
    go_tx.send((0, 0)).unwrap();
    worker.join().unwrap();
    drain(&mut ring, 40, &mut samples, &mut split);
    assert!(
        samples.iter().all(|s| s.tid == tid),
        "only the worker's faults"
    );
    assert!(
        samples.len() > 200 && split > 0,
        "{} samples, {split} wrapped",
        samples.len()
    );
    assert_eq!(
        samples.len() as u64 + ring.stats().lost,
        ev.read_count().unwrap(),
        "received + lost = counted"
    );
}

#[test]
fn paused_output_is_reported_lost_after_resume() {
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).unwrap();
    let mut ring = ev.map_ring(&opts(8)).unwrap();
    let pages = Pages::new(101);
    ev.enable().unwrap();
    ring.pause().unwrap();
    pages.touch(0..100);
    ring.resume().unwrap();
    pages.touch(100..101);
    ev.disable().unwrap();
    let mut samples = Vec::new();
    let types: Vec<u32> = ring
        .read()
        .records()
        .map(|r| {
            RecordHeader::parse(r, Endianness::NATIVE)
                .unwrap()
                .record_type
        })
        .collect();
    assert!(types.contains(&RECORD_LOST), "{types:?}");
    drain(&mut ring, 32, &mut samples, &mut 0);
    let st = ring.stats();
    assert!(
        st.lost >= 100,
        "every fault while paused is reported lost: {st:?}"
    );
    assert_eq!(st.samples + st.lost, ev.read_count().unwrap());
}

#[test]
fn ring_sizes_follow_the_budget() {
    let limits = Limits::from_system();
    let budget = Budget::new(10, limits);
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).unwrap();
    let shrink = RingOptions {
        data_pages: 64,
        overwrite: false,
        policy: SizePolicy::Shrink,
        budget: Some(Arc::clone(&budget)),
    };
    let mut ring = ev.map_ring(&shrink).unwrap();
    assert_eq!(
        ring.data_size(),
        8 * limits.page_size,
        "10 pages: 1 user page + 8"
    );
    let w = ring.shrunk().expect("a shrink warning").clone();
    assert_eq!((w.requested_pages, w.granted_pages), (64, 8));
    assert!(w.to_string().contains("perf_event_mlock_kb"));
    assert_eq!(budget.used_pages(), 9);
    // The shrunk ring works.
    let pages = Pages::new(10);
    ev.enable().unwrap();
    pages.touch(0..10);
    ev.disable().unwrap();
    assert!(ring.read().records().count() >= 10);

    let ev2 = SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).unwrap();
    let fail = RingOptions {
        data_pages: 2,
        policy: SizePolicy::Fail,
        ..shrink.clone()
    };
    match ev2.map_ring(&fail) {
        Err(Error::Budget(e)) => {
            let text = e.to_string();
            assert!(text.contains("kernel.perf_event_mlock_kb"), "{text}");
            assert!(text.contains("RLIMIT_MEMLOCK"), "{text}");
            assert!(
                text.contains("sysctl -w") && text.contains("ulimit -l"),
                "{text}"
            );
            assert_eq!((e.in_use_pages, e.limit_pages), (9, 10));
        }
        other => panic!("expected a budget error, got {other:?}"),
    }
    drop(ring);
    assert_eq!(
        budget.used_pages(),
        0,
        "pages come back when the ring is dropped"
    );
    assert!(ev2.map_ring(&fail).is_ok());
}

#[test]
fn prctl_disable_stops_this_threads_counters() {
    let c = Counter::open(
        &page_faults(),
        0,
        -1,
        &CountOptions {
            inherit: false,
            disabled: false,
            enable_on_exec: false,
        },
    )
    .unwrap();
    let pages = Pages::new(300);
    pages.touch(0..100);
    let before = c.read().unwrap().value;
    assert!(before >= 100);
    security::disable_own_events().unwrap();
    let off = c.read().unwrap().value;
    pages.touch(100..200);
    let still = c.read().unwrap().value;
    security::enable_own_events().unwrap();
    pages.touch(200..300);
    let after = c.read().unwrap().value;
    assert_eq!(still, off, "no counting while disabled");
    assert!(
        after >= still + 100,
        "counting again after enable: {still} -> {after}"
    );
}

#[test]
fn seccomp_filter_denies_perf_event_open_to_the_child_and_its_children() {
    let filter = PerfDenyFilter::new().unwrap();
    let attr = page_faults().to_attr();
    // SAFETY: after fork the child only makes system calls (prctl, seccomp,
    // perf_event_open, fork, waitpid, _exit) on data prepared before the
    // fork, and always leaves through _exit: no allocation, no lock, no
    // return into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = (|| {
            if filter.apply(FilterScope::Thread).is_err() {
                return 10;
            }
            match lwprof_events::sys::perf_event_open(&attr, 0, -1, None, 0) {
                Err(e) if e.raw_os_error() == Some(libc::EACCES) => {}
                Err(_) => return 11,
                Ok(_) => return 12,
            }
            // A grandchild started afterwards inherits the filter.
            // SAFETY: as above.
            let g = unsafe { libc::fork() };
            if g == 0 {
                let c = match lwprof_events::sys::perf_event_open(&attr, 0, -1, None, 0) {
                    Err(e) if e.raw_os_error() == Some(libc::EACCES) => 0,
                    _ => 1,
                };
                // SAFETY: leaving the grandchild without unwinding.
                unsafe { libc::_exit(c) };
            }
            let mut status = 0;
            // SAFETY: waiting for our own child into a local.
            if g < 0 || unsafe { libc::waitpid(g, &mut status, 0) } != g {
                return 13;
            }
            if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
                0
            } else {
                14
            }
        })();
        // SAFETY: leaving the child without unwinding into the harness.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child into a local.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "child died: status {status}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "child exit code (see the codes above)"
    );
    // The parent was not filtered.
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME));
    assert!(ev.is_ok(), "{:?}", ev.err());
}

#[test]
fn seccomp_filter_installed_before_exec_stops_a_command() {
    let perf = "/usr/bin/perf";
    let run = |deny: bool| {
        let mut cmd = std::process::Command::new(perf);
        cmd.args(["stat", "-e", "page-faults", "-x,", "true"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        if deny {
            PerfDenyFilter::new().unwrap().install_before_exec(&mut cmd);
        }
        cmd.output().unwrap()
    };
    let free = run(false);
    assert!(
        free.status.success(),
        "perf stat works unfiltered: {free:?}"
    );
    let denied = run(true);
    assert!(
        !denied.status.success(),
        "perf stat must fail under the filter: {denied:?}"
    );
    // And this process still opens events.
    assert!(SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).is_ok());
}

#[test]
fn aux_area_needs_an_aux_pmu_and_gives_its_pages_back() {
    let budget = Budget::new(64, Limits::from_system());
    let ev = SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).unwrap();
    let mut ring = ev
        .map_ring(&RingOptions {
            budget: Some(Arc::clone(&budget)),
            ..opts(4)
        })
        .unwrap();
    assert_eq!(budget.used_pages(), 5);
    // page-faults has no AUX buffer: the kernel refuses the AUX mmap.
    let r = ring.map_aux(8, SizePolicy::Fail, Some(Arc::clone(&budget)));
    assert!(r.is_err(), "{r:?}");
    assert_eq!(budget.used_pages(), 5, "the failed AUX area holds no pages");
    assert_eq!(ring.aux_size(), 0);
    assert!(ring.aux_read().is_none());
    // The data ring still works.
    let pages = Pages::new(4);
    ev.enable().unwrap();
    pages.touch(0..4);
    ev.disable().unwrap();
    assert!(ring.read().records().count() >= 4);
}

#[test]
fn thread_scoped_filter_denies_only_that_thread_and_the_advice_says_why() {
    let filtered = std::thread::spawn(|| {
        security::deny_perf_events(FilterScope::Thread).unwrap();
        SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).err()
    })
    .join()
    .unwrap();
    match filtered {
        Some(Error::Permission { errno, advice, .. }) => {
            assert_eq!(errno, "EACCES");
            assert!(advice.contains("seccomp"), "{advice}");
        }
        other => panic!("expected EACCES from the filter, got {other:?}"),
    }
    // Other threads of the process are not filtered.
    assert!(SamplingEvent::open(&page_faults(), 0, -1, &every_fault(IP_TID_TIME)).is_ok());
}
