//! Damaged ELF files from fuzzing (`tests/data/regressions/`, also seeds of
//! the `elf_symbolize` fuzz target), symbolized from bytes with DWARF on.
//! The test profile has overflow checks on, so arithmetic that wraps
//! panics here rather than giving a wrong answer in release.

use lwprof_symbols::{DemangleOptions, DsoSymbols};

const OPTS: DemangleOptions = DemangleOptions {
    keep_rust_hash: false,
    disabled: false,
};

fn regression(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Symbols, and DWARF when it loads.
fn load(bytes: &[u8]) -> DsoSymbols {
    let mut dso = DsoSymbols::parse(bytes).expect("still an ELF file");
    // A damaged DWARF is an error to report, not a reason to stop.
    let _ = dso.load_dwarf(bytes);
    dso
}

/// Defect 17: `elf_symbolize-1.bin`'s one `PT_LOAD` says p_offset
/// 0x65642e0000000000, p_vaddr 0x726464615f677562 and p_filesz
/// 0xa8000000000001a8, so file offsets inside it map past the end of the
/// address space; `offset - p_offset + p_vaddr` overflowed.
#[test]
fn elf_file_offset_to_address_does_not_overflow() {
    let bytes = regression("elf_symbolize-1.bin");
    let mut dso = load(&bytes);
    let seg = *dso
        .elf()
        .segments
        .iter()
        .find(|s| s.file_offset == 0x6564_2e00_0000_0000)
        .expect("the damaged segment");
    // The first offset whose address would be 2^64.
    let wraps = seg.file_offset + (u64::MAX - seg.address) + 1;
    assert!(
        wraps - seg.file_offset < seg.file_size,
        "inside the segment"
    );
    assert_eq!(dso.elf().file_offset_to_address(wraps), None);
    assert_eq!(dso.elf().file_offset_to_address(wraps - 1), Some(u64::MAX));
    let last = seg.file_offset.saturating_add(seg.file_size - 1);
    for offset in [
        0,
        1,
        seg.file_offset,
        wraps - 1,
        wraps,
        wraps + 1,
        last,
        u64::MAX,
    ] {
        let frames = dso.resolve_file_offset(offset, OPTS);
        assert!(
            frames.iter().all(|f| !f.function.is_empty()),
            "{offset:#x}: {frames:?}"
        );
    }
}

/// Defect 17: `elf_symbolize-2.bin` has no `PT_LOAD` left, so file offsets
/// are addresses, and a lookup at u64::MAX reached addr2line 0.24, whose
/// `probe + 1` overflows. The address is not asked; the rest still works
/// (its line table is damaged: llvm-addr2line says `work` at `??:0` too).
#[test]
fn dwarf_lookup_at_the_last_address_is_guarded() {
    let bytes = regression("elf_symbolize-2.bin");
    let mut dso = DsoSymbols::parse(&bytes).expect("still an ELF file");
    dso.load_dwarf(&bytes).expect("its DWARF loads");
    assert!(dso.elf().segments.is_empty());
    assert!(dso.resolve_address(u64::MAX, OPTS).is_empty());
    assert!(dso.resolve_file_offset(u64::MAX, OPTS).is_empty());
    let work = dso.resolve_address(0x40_0110 + 4, OPTS);
    assert_eq!(
        work.last().map(|f| f.function.as_str()),
        Some("work"),
        "{work:?}"
    );
    assert!(dso.resolve_address(0, OPTS).is_empty());
}
