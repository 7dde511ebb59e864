//! Seed 004's claim, measured: reading N counters as one group with one
//! read(2) against reading the same N counters one by one, and against a
//! bare read(2) of a single counter. Software events on the calling thread,
//! so this runs on machines without a hardware PMU.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lwprof_events::counter::{CountOptions, Counter, Group};
use lwprof_events::EventConfig;
use perf_event_open_sys::bindings as pb;
use std::hint::black_box;
use std::os::fd::AsFd;

fn events(n: usize) -> Vec<EventConfig> {
    let kinds = [
        ("page-faults", pb::PERF_COUNT_SW_PAGE_FAULTS),
        ("context-switches", pb::PERF_COUNT_SW_CONTEXT_SWITCHES),
        ("cpu-migrations", pb::PERF_COUNT_SW_CPU_MIGRATIONS),
        ("minor-faults", pb::PERF_COUNT_SW_PAGE_FAULTS_MIN),
        ("major-faults", pb::PERF_COUNT_SW_PAGE_FAULTS_MAJ),
        ("alignment-faults", pb::PERF_COUNT_SW_ALIGNMENT_FAULTS),
        ("emulation-faults", pb::PERF_COUNT_SW_EMULATION_FAULTS),
        ("task-clock", pb::PERF_COUNT_SW_TASK_CLOCK),
    ];
    (0..n)
        .map(|i| {
            let (name, c) = kinds[i % kinds.len()];
            EventConfig::software(name, c as u64)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let opts = CountOptions {
        inherit: false,
        disabled: false,
        enable_on_exec: false,
    };
    let mut g = c.benchmark_group("group_read");
    // The baseline: one bare read(2) of one counter into a stack buffer.
    let single = Counter::open(&events(1)[0], 0, -1, &opts).unwrap();
    g.bench_function("bare_read_1", |b| {
        let mut buf = [0u64; 4];
        b.iter(|| lwprof_events::sys::read_into(single.as_fd(), black_box(&mut buf)).unwrap())
    });
    for n in [1usize, 4, 8, 16] {
        let evs = events(n);
        let group = Group::open(&evs, 0, -1, &opts).unwrap();
        let mut out = vec![0u64; n];
        g.bench_with_input(BenchmarkId::new("group", n), &n, |b, _| {
            b.iter(|| group.read_into(black_box(&mut out)).unwrap())
        });
        let singles: Vec<Counter> = evs
            .iter()
            .map(|e| Counter::open(e, 0, -1, &opts).unwrap())
            .collect();
        g.bench_with_input(BenchmarkId::new("one_by_one", n), &n, |b, _| {
            b.iter(|| {
                let mut sum = 0u64;
                for s in &singles {
                    sum = sum.wrapping_add(s.read().unwrap().value);
                }
                black_box(sum)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
