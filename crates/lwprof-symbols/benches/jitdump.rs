//! Building a jitdump's address table at the size of a real JIT's dump:
//! 200,000 functions, each with its `JIT_CODE_DEBUG_INFO` record (two source
//! lines) before its `JIT_CODE_LOAD`, and one function in eight moved
//! (`JIT_CODE_MOVE`) after all loads, as a JIT that compacts its code heap
//! does. About 20 MB of records, generated in memory (no file I/O).
//!
//! `symbols` is `JitDump::symbols` on the parsed dump (the table a report
//! builds once per dump); `parse` is `JitDump::parse` of the bytes;
//! `lookup` resolves 10,000 addresses spread over the table.

use criterion::{criterion_group, criterion_main, Criterion};
use lwprof_symbols::JitDump;
use std::hint::black_box;

const FUNCTIONS: u64 = 200_000;
const CODE_SIZE: u64 = 0x40;
const BASE: u64 = 0x7f00_0000_0000;
const MOVED_BASE: u64 = 0x7e00_0000_0000;

fn record(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(16 + body.len() as u32).to_le_bytes());
    out.extend_from_slice(&1u64.to_le_bytes());
    out.extend_from_slice(body);
}

fn jitdump_bytes() -> Vec<u8> {
    let mut out = Vec::with_capacity(24 << 20);
    for v in [0x4A69_5444u32, 1, 40, 62, 0, 77] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    let mut body = Vec::new();
    for i in 0..FUNCTIONS {
        let addr = BASE + i * CODE_SIZE;
        body.clear();
        body.extend_from_slice(&addr.to_le_bytes());
        body.extend_from_slice(&2u64.to_le_bytes());
        for (k, name) in [(0u64, &b"script.js"[..]), (0x10, &[0xff][..])] {
            body.extend_from_slice(&(addr + k).to_le_bytes());
            body.extend_from_slice(&((i as u32 % 5000) + 1).to_le_bytes());
            body.extend_from_slice(&0u32.to_le_bytes());
            body.extend_from_slice(name);
            body.push(0);
        }
        record(&mut out, 2, &body);
        body.clear();
        body.extend_from_slice(&77u32.to_le_bytes());
        body.extend_from_slice(&77u32.to_le_bytes());
        for v in [addr, addr, CODE_SIZE, i] {
            body.extend_from_slice(&v.to_le_bytes());
        }
        body.extend_from_slice(format!("js:function_{i}").as_bytes());
        body.push(0);
        body.extend(std::iter::repeat_n(0x90u8, CODE_SIZE as usize));
        record(&mut out, 0, &body);
    }
    for i in (0..FUNCTIONS).step_by(8) {
        let old = BASE + i * CODE_SIZE;
        let new = MOVED_BASE + i * CODE_SIZE;
        body.clear();
        body.extend_from_slice(&77u32.to_le_bytes());
        body.extend_from_slice(&77u32.to_le_bytes());
        for v in [new, old, new, CODE_SIZE, i] {
            body.extend_from_slice(&v.to_le_bytes());
        }
        record(&mut out, 1, &body);
    }
    out
}

fn bench(c: &mut Criterion) {
    let bytes = jitdump_bytes();
    let dump = JitDump::parse(&bytes).expect("generated jitdump parses");
    assert_eq!(dump.loads.len() as u64, FUNCTIONS);
    let mut g = c.benchmark_group("jitdump_200k");
    g.sample_size(10);
    g.bench_function("parse", |b| {
        b.iter(|| JitDump::parse(black_box(&bytes)).map(|d| d.loads.len()))
    });
    g.bench_function("symbols", |b| b.iter(|| black_box(&dump).symbols()));
    let table = dump.symbols();
    let probes: Vec<u64> = (0..10_000u64)
        .map(|i| {
            let f = i * (FUNCTIONS / 10_000) + 1;
            BASE + f * CODE_SIZE + 8
        })
        .collect();
    assert!(table.lookup(probes[0]).is_some());
    g.bench_function("lookup_10k", |b| {
        b.iter(|| {
            probes
                .iter()
                .filter(|&&a| table.lookup(black_box(a)).is_some())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
