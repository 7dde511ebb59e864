//! Drain cost of a ring full of frame-pointer samples: parse every record
//! (and walk its call chain) versus memcpy of the same bytes.
//!
//! The ring is crafted in memory (IP|TID|TIME|CPU|PERIOD|CALLCHAIN, 10 to 20
//! frames), so the numbers are the parser's alone, with no kernel in them.
//! Criterion reports time per iteration; divide by `SAMPLES` for per sample.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lwprof_events::raw::RawData;
use lwprof_events::record::{
    sample_type as st, RawRecord, Record, RecordParseInfo, PERF_RECORD_SAMPLE,
};
use std::hint::black_box;

const SAMPLES: usize = 4096;

fn craft_ring() -> Vec<u8> {
    let mut ring = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..SAMPLES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let frames = 10 + (x % 11) as usize;
        let size = 8 + 8 + 8 + 8 + 8 + 8 + 8 + frames * 8;
        ring.extend_from_slice(&PERF_RECORD_SAMPLE.to_ne_bytes());
        ring.extend_from_slice(&2u16.to_ne_bytes());
        ring.extend_from_slice(&(size as u16).to_ne_bytes());
        ring.extend_from_slice(&(0x40_0000 + x % 0x10000).to_ne_bytes()); // ip
        ring.extend_from_slice(&1000u32.to_ne_bytes()); // pid
        ring.extend_from_slice(&1001u32.to_ne_bytes()); // tid
        ring.extend_from_slice(&(i as u64 * 1000).to_ne_bytes()); // time
        ring.extend_from_slice(&1u32.to_ne_bytes()); // cpu
        ring.extend_from_slice(&0u32.to_ne_bytes());
        ring.extend_from_slice(&100_000u64.to_ne_bytes()); // period
        ring.extend_from_slice(&(frames as u64).to_ne_bytes());
        for f in 0..frames {
            ring.extend_from_slice(&(0x40_0000 + (x >> f) % 0x10000).to_ne_bytes());
        }
    }
    ring
}

/// Walks the ring record by record, as a ring reader does; returns a sum so
/// nothing is optimised away.
#[inline(never)]
fn drain(data: RawData<'_>, info: &RecordParseInfo, walk_frames: bool) -> u64 {
    let mut at = 0;
    let mut sum = 0u64;
    while at < data.len() {
        let Some(rest) = data.slice(at, data.len() - at) else {
            break;
        };
        let Ok(raw) = RawRecord::from_data(rest, info.endianness) else {
            break;
        };
        at += usize::from(raw.header.size);
        if let Ok(Record::Sample(s)) = raw.parse(info) {
            sum = sum
                .wrapping_add(s.ip().unwrap_or(0))
                .wrapping_add(s.time().unwrap_or(0));
            if let Some(cc) = s.callchain() {
                if walk_frames {
                    for f in cc.iter() {
                        sum = sum.wrapping_add(f);
                    }
                } else {
                    sum = sum.wrapping_add(cc.len() as u64);
                }
            }
        }
    }
    sum
}

fn bench(c: &mut Criterion) {
    let ring = craft_ring();
    let info =
        RecordParseInfo::new(st::IP | st::TID | st::TIME | st::CPU | st::PERIOD | st::CALLCHAIN);
    let mut group = c.benchmark_group("ring_drain");
    group.throughput(Throughput::Elements(SAMPLES as u64));
    let mut out = vec![0u8; ring.len()];
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            out.copy_from_slice(black_box(&ring));
            black_box(&out);
        })
    });
    for walk in [false, true] {
        let name = if walk { "parse+frames" } else { "parse" };
        group.bench_function(BenchmarkId::new(name, "contiguous"), |b| {
            b.iter(|| drain(black_box(RawData::Single(&ring)), &info, walk))
        });
        // The same bytes wrapped at an odd point, as a ring that has wrapped.
        let (a, z) = ring.split_at(ring.len() / 2 + 4);
        group.bench_function(BenchmarkId::new(name, "split"), |b| {
            b.iter(|| drain(black_box(RawData::new(a, z)), &info, walk))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
