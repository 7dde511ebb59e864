//! Arbitrary bytes as an ELF file, symbolized with DWARF on: symbols
//! (with synthesized PLT stubs), load segments, line tables and inline
//! frames, split DWARF (the same bytes as `.dwo` and `.dwp`). Addresses and file offsets asked: 0, 1, u64::MAX - 1, u64::MAX,
//! the edges of every load segment and of the first symbols. Nothing may
//! panic, and no frame may be nameless.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use lwprof_symbols::{DemangleOptions, DsoSymbols, DwarfInfo, ElfSymbols};

fuzz_target!(|input: &[u8]| {
    let Ok(elf) = ElfSymbols::parse(input) else {
        return;
    };
    // A damaged DWARF leaves the symbol table: lookups go on. Split DWARF
    // is followed, the input standing for every `.dwo` and `.dwp` asked for.
    let dwarf = DwarfInfo::parse(input).ok().map(|mut d| {
        let bytes: Arc<[u8]> = Arc::from(input);
        d.follow_split_dwarf(
            std::path::Path::new("/fuzz/binary"),
            Box::new(move |_| Ok(Arc::clone(&bytes))),
        );
        d
    });
    let mut dso = DsoSymbols::new(elf, dwarf);
    let mut probes = vec![0, 1, u64::MAX - 1, u64::MAX];
    for s in dso.elf().segments.iter().take(16) {
        probes.extend([
            s.file_offset,
            s.file_offset.wrapping_add(s.file_size).wrapping_sub(1),
            s.file_offset.wrapping_add(s.file_size),
            s.address,
        ]);
    }
    for s in dso.elf().symbols().iter().take(64) {
        probes.extend([
            s.address,
            s.address.wrapping_sub(1),
            s.address.wrapping_add(s.size),
        ]);
    }
    let opts = [
        DemangleOptions::default(),
        DemangleOptions {
            disabled: true,
            ..DemangleOptions::default()
        },
    ];
    for (i, a) in probes.into_iter().enumerate() {
        let opts = opts[i % 2];
        let _ = dso.elf().file_offset_to_address(a);
        let _ = dso.elf().symbol_at(a);
        for frames in [
            dso.resolve_address(a, opts),
            dso.resolve_file_offset(a, opts),
        ] {
            assert!(
                frames.iter().all(|f| !f.function.is_empty()),
                "{a:#x}: {frames:?}"
            );
        }
    }
});
