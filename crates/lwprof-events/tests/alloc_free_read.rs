//! Seed 004: reading a group of counters, or one counter, never touches the
//! heap. A counting global allocator proves it on the real kernel.

use lwprof_events::counter::{CountOptions, Counter, Group};
use lwprof_events::EventConfig;
use perf_event_open_sys::bindings as pb;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on the reading thread only: the harness's own threads may
    /// allocate meanwhile (a loaded machine makes that likely), and their
    /// allocations are not the reads'.
    static TRACKING: Cell<bool> = const { Cell::new(false) };
}

fn tracking() -> bool {
    TRACKING.try_with(Cell::get).unwrap_or(false)
}

fn track(on: bool) {
    TRACKING.with(|t| t.set(on));
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if tracking() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        if tracking() {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn sw(name: &str, c: u32) -> EventConfig {
    EventConfig::software(name, c as u64)
}

/// One test function, so no other test thread runs reads while we count.
#[test]
fn group_and_single_reads_do_not_allocate() {
    let opts = CountOptions {
        inherit: false,
        disabled: false,
        enable_on_exec: false,
    };
    let mut events = vec![
        sw("task-clock", pb::PERF_COUNT_SW_TASK_CLOCK),
        sw("page-faults", pb::PERF_COUNT_SW_PAGE_FAULTS),
        sw("context-switches", pb::PERF_COUNT_SW_CONTEXT_SWITCHES),
        sw("cpu-migrations", pb::PERF_COUNT_SW_CPU_MIGRATIONS),
    ];
    while events.len() < 16 {
        events.push(sw("dummy", pb::PERF_COUNT_SW_DUMMY));
    }
    let group = Group::open(&events, 0, -1, &opts).unwrap();
    let single = Counter::open(&events[0], 0, -1, &opts).unwrap();
    let mut out = [0u64; 16];
    // Warm up (first calls may touch lazily initialised std state).
    group.read_into(&mut out).unwrap();
    let _ = group.read().unwrap();
    let _ = single.read().unwrap();

    ALLOCS.store(0, Ordering::SeqCst);
    track(true);
    let mut total = 0u64;
    for _ in 0..1000 {
        let (enabled, _) = group.read_into(&mut out).unwrap();
        total = total.wrapping_add(enabled).wrapping_add(out[0]);
        let v = group.read().unwrap();
        total = total.wrapping_add(v.values[1]);
        total = total.wrapping_add(single.read().unwrap().value);
    }
    track(false);
    let allocs = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(allocs, 0, "{allocs} allocations in 3000 reads");
    // The reads returned real counts: task-clock ran.
    assert!(total > 0);
    assert!(out[0] > 0, "task-clock of the group is {}", out[0]);

    // The allocator really counts: an allocation while tracking is seen.
    track(true);
    let v: Vec<u64> = Vec::with_capacity(std::hint::black_box(8));
    track(false);
    drop(v);
    assert!(ALLOCS.load(Ordering::SeqCst) >= 1);
}
