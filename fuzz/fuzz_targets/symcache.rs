//! Arbitrary bytes through the symbol cache reader: as they are (which the
//! checks almost always refuse) and with the CRC-32 field recomputed, so the
//! lengths and every table lookup see the bytes. Lookups probe 0, the last
//! address and each 8-byte word of the input (and its neighbours). Nothing
//! may panic, loop without end or read out of bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_symbols::symcache::SymbolCacheView;
use lwprof_symbols::DemangleOptions;

fn probe(bytes: &[u8]) {
    let Ok(view) = SymbolCacheView::parse(bytes) else {
        return;
    };
    let _ = (view.build_id(), view.has_dwarf(), view.range_count());
    let mut probes = vec![0, 1, u64::MAX - 1, u64::MAX];
    for w in bytes.chunks_exact(8).take(64) {
        let a = u64::from_le_bytes(w.try_into().unwrap_or_default());
        probes.extend([a, a.wrapping_sub(1), a.wrapping_add(1)]);
    }
    for a in probes {
        let _ = view.file_offset_to_address(a);
        let _ = view.symbol_at(a);
        let _ = view.nearest_symbol(a);
        let frames = view.frames(a, DemangleOptions::default());
        if let Some(outer) = frames.last() {
            assert!(!outer.inlined, "the outermost frame is not inlined");
        }
        let _ = view.location(a);
    }
}

fuzz_target!(|input: &[u8]| {
    probe(input);
    if input.len() >= 16 {
        let mut fixed = input.to_vec();
        let crc = crc32fast::hash(&fixed[16..]);
        fixed[12..16].copy_from_slice(&crc.to_le_bytes());
        probe(&fixed);
    }
});
