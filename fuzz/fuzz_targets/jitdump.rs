//! Arbitrary bytes through the jitdump parser, both byte orders (the magic
//! decides), then the address table and lookups at every load's and move's
//! edges, 0 and u64::MAX. Nothing may panic; a lookup's name is a loaded
//! function's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_symbols::JitDump;

fuzz_target!(|input: &[u8]| {
    let Ok(dump) = JitDump::parse(input) else {
        return;
    };
    let table = dump.symbols();
    let mut probes = vec![0, 1, u64::MAX - 1, u64::MAX];
    for l in dump.loads.iter().take(64) {
        let last = l.code_addr.saturating_add(l.code_size.saturating_sub(1));
        probes.extend([
            l.code_addr,
            l.code_addr.wrapping_sub(1),
            last,
            last.wrapping_add(1),
        ]);
    }
    for m in dump.moves.iter().take(64) {
        probes.extend([
            m.old_code_addr,
            m.new_code_addr,
            m.new_code_addr.saturating_add(m.code_size),
        ]);
    }
    for a in probes {
        if let Some(s) = table.lookup(a) {
            assert!(
                dump.loads.iter().any(|l| l.name == s.name),
                "{a:#x}: {}",
                s.name
            );
        }
    }
});
