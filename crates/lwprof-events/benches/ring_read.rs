//! In-place iteration over a crafted full ring of ~100-byte records, against
//! a memcpy of the same bytes (seed 000: copying samples costs next to
//! nothing next to memcpy bandwidth; reading them in place costs less).
//!
//! The ring is made by `Ring::anonymous` and filled by its `RingWriter`, so
//! no perf fd is needed. Each iteration rewinds the tail and walks every
//! record (header checks, lost/throttle accounting, and one u64 read per
//! record so the walk cannot be optimised away).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lwprof_events::ring::Ring;
use lwprof_records::abi::record_type;
use lwprof_records::RecordBuilder;
use std::hint::black_box;

const DATA_PAGES: usize = 128; // 512 KiB: perf's default per-CPU ring
const RECORD: usize = 104; // IP|TID|TIME|ADDR|CPU|PERIOD + a short callchain

fn bench(c: &mut Criterion) {
    let (mut ring, mut writer) = Ring::anonymous(DATA_PAGES, 0, false).expect("anonymous ring");
    // Start off a page boundary so some records wrap.
    let start = 40u64;
    writer.set_positions(start, start);
    let mut n = 0u64;
    loop {
        let mut payload = vec![0u8; RECORD - 8];
        payload[..8].copy_from_slice(&n.to_ne_bytes());
        let rec = RecordBuilder::new()
            .bytes(&payload)
            .finish(record_type::SAMPLE, 0)
            .expect("record");
        if !writer.write(&rec) {
            break;
        }
        n += 1;
    }
    let head = writer.head();
    let bytes = head - start;
    let source = vec![7u8; bytes as usize];
    let mut dest = vec![0u8; bytes as usize];

    let mut g = c.benchmark_group("ring_read");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("in_place_iterate", |b| {
        b.iter(|| {
            writer.set_positions(head, start);
            let mut batch = ring.read();
            let mut sum = 0u64;
            for r in batch.records() {
                sum = sum.wrapping_add(r.read_u64(8).unwrap_or(0));
            }
            black_box(sum)
        })
    });
    g.bench_function("memcpy_same_bytes", |b| {
        b.iter(|| {
            dest.copy_from_slice(black_box(&source));
            black_box(dest[dest.len() / 2])
        })
    });
    g.finish();
    eprintln!("ring_read: {n} records of {RECORD} bytes, {bytes} bytes per iteration");
}

criterion_group!(benches, bench);
criterion_main!(benches);
