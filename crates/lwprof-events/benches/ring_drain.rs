//! Drain cost of a real ring full of frame-pointer samples: walk and parse
//! every record (fixed fields decoded, call chain walked) versus memcpy of
//! the same bytes out of the same ring, in the same run.
//!
//! The ring is made by `Ring::anonymous` (512 KiB of data, perf's default per
//! CPU) and filled by its `RingWriter` with samples of
//! IP|TID|TIME|CPU|PERIOD|CALLCHAIN and 10 to 20 frames (~176 bytes each),
//! starting at a position where one record wraps the end of the buffer, so
//! the seam is drained too. Each iteration rewinds the tail and drains every
//! record, as a profiler does on each wakeup. No kernel is involved: the
//! numbers are the reader's and the parser's alone.
//!
//! Variants: `memcpy` (the unread bytes copied out, `ReadBatch::unread`),
//! `walk` (records iterated, headers only), `by_hand` (a reference, not an
//! API: the fields read at offsets hard-coded for this one sample type),
//! `parse_record` (the general parser, through `Record`), `parser.parse`
//! (the same `Record`s from a `RecordParser`), `parser.parse_sample` (the
//! fast path: samples only, no `Record`), `parser.parse_sample+fold` (the
//! same, the call chain walked with `fold`, as `sum`/`extend`/`collect` do,
//! instead of a `for` loop), and `parser.decode_sample` (every fixed field
//! decoded in one pass into a `SampleHead`, the call chain folded).
//! Every parsing variant must see the same sum.
//!
//! Criterion reports time per iteration and samples per second; after the
//! criterion runs, a short interleaved measurement (each round drains with
//! every variant in turn, one untimed warm-up drain then three timed, so
//! load on the machine hits them alike; short rounds, so the median is a
//! round nobody preempted) prints ns per sample and the ratio to memcpy (the
//! issue's target: at most 3x and under 50 ns).

use criterion::{criterion_group, Criterion, Throughput};
use lwprof_events::raw::RawData;
use lwprof_events::record::{
    parse_record, sample_type as st, Record, RecordParseInfo, RecordParser,
};
use lwprof_events::ring::{ReadBatch, Ring, RingWriter};
use std::hint::black_box;
use std::time::Instant;

const DATA_PAGES: usize = 128; // 512 KiB: perf's default per-CPU ring

const SAMPLE_TYPE: u64 = st::IP | st::TID | st::TIME | st::CPU | st::PERIOD | st::CALLCHAIN;

/// Sample `i` of the stream: a record of 10 to 20 frames.
fn craft_sample(i: u64, x: u64) -> Vec<u8> {
    let frames = 10 + (x % 11) as usize;
    let size = 8 + 8 + 8 + 8 + 8 + 8 + 8 + frames * 8;
    let mut rec = Vec::with_capacity(size);
    rec.extend_from_slice(&lwprof_records::abi::record_type::SAMPLE.to_ne_bytes());
    rec.extend_from_slice(&2u16.to_ne_bytes()); // PERF_RECORD_MISC_USER
    rec.extend_from_slice(&(size as u16).to_ne_bytes());
    rec.extend_from_slice(&(0x40_0000 + x % 0x10000).to_ne_bytes()); // ip
    rec.extend_from_slice(&1000u32.to_ne_bytes()); // pid
    rec.extend_from_slice(&1001u32.to_ne_bytes()); // tid
    rec.extend_from_slice(&(i * 1000).to_ne_bytes()); // time
    rec.extend_from_slice(&1u32.to_ne_bytes()); // cpu
    rec.extend_from_slice(&0u32.to_ne_bytes()); // res
    rec.extend_from_slice(&100_000u64.to_ne_bytes()); // period
    rec.extend_from_slice(&(frames as u64).to_ne_bytes()); // callchain.nr
    for f in 0..frames {
        rec.extend_from_slice(&(0x40_0000 + (x >> f) % 0x10000).to_ne_bytes());
    }
    rec
}

/// A full ring and the positions to rewind it to.
struct Fixture {
    ring: Ring,
    writer: RingWriter,
    start: u64,
    head: u64,
    samples: usize,
    bytes: usize,
}

impl Fixture {
    /// Fills a fresh ring from `start` until the next sample does not fit.
    fn fill(start: u64) -> Fixture {
        let (ring, mut writer) = Ring::anonymous(DATA_PAGES, 0, false).expect("anonymous ring");
        writer.set_positions(start, start);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut samples = 0;
        loop {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if !writer.write(&craft_sample(samples as u64, x)) {
                break;
            }
            samples += 1;
        }
        let head = writer.head();
        Fixture {
            ring,
            writer,
            start,
            head,
            samples,
            bytes: (head - start) as usize,
        }
    }

    /// A full ring in which one sample wraps the end of the buffer.
    fn new() -> Fixture {
        for start in (8..4096).step_by(8) {
            let mut f = Fixture::fill(start);
            let mut batch = f.batch();
            let split = batch
                .records()
                .filter(|r| matches!(r, RawData::Split(..)))
                .count();
            drop(batch);
            if split == 1 {
                return f;
            }
        }
        panic!("no start position puts a sample across the seam");
    }

    /// The whole ring, unread again.
    fn batch(&mut self) -> ReadBatch<'_> {
        self.writer.set_positions(self.head, self.start);
        self.ring.read()
    }
}

/// The fixed fields and the call chain of a sample, folded into a sum so
/// that nothing is optimised away.
macro_rules! fold_sample {
    ($sum:ident, $s:expr) => {{
        let s = $s;
        $sum = $sum
            .wrapping_add(s.ip().unwrap_or(0))
            .wrapping_add(u64::from(s.pid().unwrap_or(0)))
            .wrapping_add(u64::from(s.tid().unwrap_or(0)))
            .wrapping_add(s.time().unwrap_or(0))
            .wrapping_add(u64::from(s.cpu().unwrap_or(0)))
            .wrapping_add(s.period().unwrap_or(0));
        if let Some(cc) = s.callchain() {
            for ip in cc.iter() {
                $sum = $sum.wrapping_add(ip);
            }
        }
    }};
}

/// The same, walking the call chain with `fold` (as `sum`, `extend` and
/// `collect` do) rather than a `for` loop.
macro_rules! fold_sample_folding {
    ($sum:ident, $s:expr) => {{
        let s = $s;
        $sum = $sum
            .wrapping_add(s.ip().unwrap_or(0))
            .wrapping_add(u64::from(s.pid().unwrap_or(0)))
            .wrapping_add(u64::from(s.tid().unwrap_or(0)))
            .wrapping_add(s.time().unwrap_or(0))
            .wrapping_add(u64::from(s.cpu().unwrap_or(0)))
            .wrapping_add(s.period().unwrap_or(0));
        if let Some(cc) = s.callchain() {
            $sum = cc.iter().fold($sum, u64::wrapping_add);
        }
    }};
}

/// Copies the unread bytes of the ring out, as `perf record` does.
#[inline(never)]
fn drain_memcpy(batch: &mut ReadBatch<'_>, out: &mut [u8]) -> u64 {
    let bytes = batch.unread();
    bytes.copy_to(&mut out[..bytes.len()]);
    out[out.len() / 2] as u64
}

/// Walks the records without parsing them (header and stats only).
#[inline(never)]
fn drain_walk(batch: &mut ReadBatch<'_>) -> u64 {
    let mut sum = 0u64;
    for r in batch.records() {
        sum = sum.wrapping_add(r.len() as u64);
    }
    sum
}

/// `parse_record` on every record: the general parser, through `Record`.
#[inline(never)]
fn drain_parse_record(batch: &mut ReadBatch<'_>, info: &RecordParseInfo) -> u64 {
    let mut sum = 0u64;
    for r in batch.records() {
        if let Ok(Record::Sample(s)) = parse_record(r, info) {
            fold_sample!(sum, s);
        }
    }
    sum
}

/// `RecordParser::parse`: the same `Record`s, with the layout precomputed.
#[inline(never)]
fn drain_parser(batch: &mut ReadBatch<'_>, parser: &RecordParser) -> u64 {
    let mut sum = 0u64;
    for r in batch.records() {
        if let Ok(Record::Sample(s)) = parser.parse(r) {
            fold_sample!(sum, s);
        }
    }
    sum
}

/// `RecordParser::parse_sample`: samples only, without `Record`.
#[inline(never)]
fn drain_parse_sample(batch: &mut ReadBatch<'_>, parser: &RecordParser) -> u64 {
    let mut sum = 0u64;
    for r in batch.records() {
        if let Ok(Some(s)) = parser.parse_sample(r) {
            fold_sample!(sum, s);
        }
    }
    sum
}

/// `RecordParser::parse_sample`, the call chain walked with `fold`.
#[inline(never)]
fn drain_parse_sample_fold(batch: &mut ReadBatch<'_>, parser: &RecordParser) -> u64 {
    let mut sum = 0u64;
    for r in batch.records() {
        if let Ok(Some(s)) = parser.parse_sample(r) {
            fold_sample_folding!(sum, s);
        }
    }
    sum
}

/// `RecordParser::decode_sample`: the fixed fields decoded in one pass into
/// a `SampleHead`, the call chain walked with `fold`.
#[inline(never)]
fn drain_decode_sample(batch: &mut ReadBatch<'_>, parser: &RecordParser) -> u64 {
    let mut sum = 0u64;
    for r in batch.records() {
        if let Ok(Some(s)) = parser.decode_sample(r) {
            let h = s.head;
            sum = sum
                .wrapping_add(h.ip.unwrap_or(0))
                .wrapping_add(u64::from(h.pid.unwrap_or(0)))
                .wrapping_add(u64::from(h.tid.unwrap_or(0)))
                .wrapping_add(h.time.unwrap_or(0))
                .wrapping_add(u64::from(h.cpu.unwrap_or(0)))
                .wrapping_add(h.period.unwrap_or(0));
            if let Some(cc) = s.callchain {
                sum = cc.iter().fold(sum, u64::wrapping_add);
            }
        }
    }
    sum
}

/// Hand-written reference (not an API): the same fields read straight from
/// the bytes at offsets known for this one sample type, native order only.
#[inline(never)]
fn drain_by_hand(batch: &mut ReadBatch<'_>) -> u64 {
    let mut sum = 0u64;
    let rd = |b: &[u8], at: usize| -> u64 {
        b.get(at..at + 8)
            .and_then(|c| c.try_into().ok())
            .map_or(0, u64::from_ne_bytes)
    };
    let mut wrapped = Vec::new();
    for r in batch.records() {
        let b: &[u8] = match r {
            RawData::Single(b) => b,
            split => {
                // The one sample across the seam, copied.
                wrapped.clear();
                wrapped.extend_from_slice(&split.as_contiguous());
                &wrapped
            }
        };
        if rd(b, 0) as u32 != lwprof_records::abi::record_type::SAMPLE {
            continue;
        }
        let t = rd(b, 16);
        sum = sum
            .wrapping_add(rd(b, 8))
            .wrapping_add(t & 0xffff_ffff)
            .wrapping_add(t >> 32)
            .wrapping_add(rd(b, 24))
            .wrapping_add(rd(b, 32) & 0xffff_ffff)
            .wrapping_add(rd(b, 40));
        let nr = rd(b, 48) as usize;
        if let Some(cc) = b.get(56..56 + nr * 8) {
            for c in cc.chunks_exact(8) {
                sum = sum.wrapping_add(u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])));
            }
        }
    }
    sum
}

type Drain = fn(&mut ReadBatch<'_>, &RecordParseInfo, &mut [u8]) -> u64;

fn variants() -> Vec<(&'static str, Drain)> {
    vec![
        ("memcpy", |b, _, out| drain_memcpy(b, out)),
        ("walk", |b, _, _| drain_walk(b)),
        ("by_hand", |b, _, _| drain_by_hand(b)),
        ("parse_record", |b, i, _| drain_parse_record(b, i)),
        ("parser.parse", |b, i, _| {
            drain_parser(b, &RecordParser::new(i))
        }),
        ("parser.parse_sample", |b, i, _| {
            drain_parse_sample(b, &RecordParser::new(i))
        }),
        ("parser.parse_sample+fold", |b, i, _| {
            drain_parse_sample_fold(b, &RecordParser::new(i))
        }),
        ("parser.decode_sample", |b, i, _| {
            drain_decode_sample(b, &RecordParser::new(i))
        }),
    ]
}

fn bench(c: &mut Criterion) {
    let mut fx = Fixture::new();
    let info = RecordParseInfo::new(SAMPLE_TYPE);
    let mut out = vec![0u8; fx.bytes];
    // Every variant sees the same sum of the same samples.
    let want = drain_parse_record(&mut fx.batch(), &info);
    assert_ne!(want, 0);

    let mut group = c.benchmark_group("ring_drain");
    group.throughput(Throughput::Elements(fx.samples as u64));
    for (name, f) in variants() {
        let mut batch = fx.batch();
        let sum = f(&mut batch, &info, &mut out);
        drop(batch);
        if !matches!(name, "memcpy" | "walk") {
            assert_eq!(sum, want, "{name} saw other samples");
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut batch = fx.batch();
                black_box(f(&mut batch, &info, &mut out))
            })
        });
    }
    group.finish();
    eprintln!(
        "ring_drain: {} samples, {} bytes ({} per sample) in a {} KiB ring, one wrapping the seam",
        fx.samples,
        fx.bytes,
        fx.bytes / fx.samples,
        DATA_PAGES * 4
    );
}

/// Interleaved rounds of every variant; the median of each, per sample.
fn summary() {
    let mut fx = Fixture::new();
    let info = RecordParseInfo::new(SAMPLE_TYPE);
    let mut out = vec![0u8; fx.bytes];
    let vs = variants();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); vs.len()];
    const ROUNDS: usize = 301;
    const REPS: usize = 3;
    for _ in 0..ROUNDS {
        for (k, (_, f)) in vs.iter().enumerate() {
            // One untimed drain first, so each variant is timed warm (its
            // own buffers in cache, as in criterion's loop), not after
            // whatever the previous variant left in the cache.
            black_box(f(&mut fx.batch(), &info, &mut out));
            let t = Instant::now();
            for _ in 0..REPS {
                let mut batch = fx.batch();
                black_box(f(&mut batch, &info, &mut out));
            }
            let ns = t.elapsed().as_nanos() as f64 / (REPS * fx.samples) as f64;
            times[k].push(ns);
        }
    }
    let medians: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    let memcpy = medians[0];
    eprintln!("ring_drain summary (median of {ROUNDS} interleaved rounds of {REPS} warm drains, ns per sample):");
    for ((name, _), m) in vs.iter().zip(&medians) {
        eprintln!("  {name:<26} {m:7.2} ns/sample  {:5.2}x memcpy", m / memcpy);
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
