//! Arbitrary text through the perf map parser, then lookups at every
//! entry's edges, 0 and u64::MAX. Nothing may panic, and each lookup must
//! answer what a plain scan says: the last line whose range holds the
//! address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_symbols::PerfMap;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let map = PerfMap::parse(&text);
    let entries = map.entries();
    let mut probes = vec![0, 1, u64::MAX - 1, u64::MAX];
    for e in entries.iter().take(64) {
        let last = e.start.saturating_add(e.size - 1);
        probes.extend([e.start, e.start.wrapping_sub(1), last, last.wrapping_add(1)]);
    }
    for a in probes {
        let scan = entries
            .iter()
            .rev()
            .find(|e| a >= e.start && a - e.start < e.size);
        let got = map.lookup(a);
        assert!(
            match (got, scan) {
                (Some(g), Some(s)) => std::ptr::eq(g, s),
                (None, None) => true,
                _ => false,
            },
            "address {a:#x}: lookup {got:?}, scan {scan:?}"
        );
    }
});
