//! Unit tests of the cache format: round trip of a hand-made DSO, and
//! damaged files refused.

use super::*;
use crate::elf::ElfSymbols;

#[test]
fn damaged_files_are_refused() {
    let mut elf = ElfSymbols::default();
    elf.segments.push(crate::LoadSegment {
        file_offset: 0x1000,
        file_size: 0x2000,
        address: 0x401000,
    });
    let bytes = build(&[1, 2, 3, 4], &elf, None).expect("build");
    let view = SymbolCacheView::parse(&bytes).expect("valid");
    assert_eq!(view.build_id(), &[1, 2, 3, 4]);
    assert!(!view.has_dwarf());
    assert_eq!(view.file_offset_to_address(0x1010), Some(0x401010));
    assert_eq!(view.file_offset_to_address(0x3000), None);
    assert!(view.frames(0x401010, DemangleOptions::default()).is_empty());
    assert_eq!(
        SymbolCacheView::parse(&bytes[..bytes.len() - 1]).err(),
        Some(SymCacheError::Lengths)
    );
    assert_eq!(
        SymbolCacheView::parse(&bytes[..20]).err(),
        Some(SymCacheError::NotACache)
    );
    let mut flipped = bytes.clone();
    flipped[50] ^= 1;
    assert_eq!(
        SymbolCacheView::parse(&flipped).err(),
        Some(SymCacheError::Checksum)
    );
    let mut version = bytes.clone();
    version[8] = 9;
    assert_eq!(
        SymbolCacheView::parse(&version).err(),
        Some(SymCacheError::Version(9))
    );
    assert!(build(&[], &elf, None).is_err(), "no build id, no entry");
}
