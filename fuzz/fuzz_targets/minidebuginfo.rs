//! Arbitrary bytes as a `.gnu_debugdata` section (xz data holding an ELF
//! file) and as a whole binary that may carry one. Decompression is bounded
//! (1 MiB here, to keep runs fast; the limit is what is tested, not its
//! size): nothing may panic, no output may pass the limit, and symbols
//! found are sorted and look-ups of their addresses answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lwprof_symbols::minidebuginfo::{symbols_of_binary, symbols_of_section};

const LIMIT: usize = 1 << 20;

fuzz_target!(|input: &[u8]| {
    for found in [
        symbols_of_section(input, LIMIT).ok(),
        symbols_of_binary(input, LIMIT).ok().flatten(),
    ]
    .into_iter()
    .flatten()
    {
        let symbols = found.symbols();
        assert!(symbols.windows(2).all(|w| w[0].address < w[1].address));
        for s in symbols.iter().take(64) {
            assert!(found.symbol_at(s.address).is_some(), "{s:?}");
        }
    }
});
