//! ELF symbol tables and load segments, parsed from bytes with the `object`
//! crate.
//!
//! [`ElfSymbols`] holds what symbolization needs from one ELF file: function
//! symbols from `.symtab` and `.dynsym` sorted for binary search, the
//! `PT_LOAD` segments that turn a file offset into the address the file was
//! linked at (so PIE executables and shared objects work whatever their load
//! base), the GNU build id and the `.gnu_debuglink`. It does no I/O and keeps
//! no reference to the bytes. DWARF is in [`super::dwarf`].
//!
//! Which symbols, as perf 6.1 takes them (`dso__load_sym`,
//! `symbols__fixup_end`): functions (`STT_FUNC`, `STT_GNU_IFUNC`) and
//! labels (`STT_NOTYPE`, such as ld.so's `_dl_start_user`, only in a section
//! whose name contains "text"), defined in an allocated section, not
//! absolute, named; not the ARM mapping symbols (`$x`, `$d`...). PLT stubs
//! are synthesized ([`super::plt`]). A symbol of size 0 extends to the next
//! symbol, and the last one to the end of the page after its own.

use object::elf;
use object::read::elf::{ElfFile, FileHeader, SectionHeader, Sym};
use object::{Endianness, Object, ObjectSection, ObjectSegment, ObjectSymbol};

/// A function symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfSymbol {
    /// Its address (as linked).
    pub address: u64,
    /// Its size; 0 when the symbol table does not say.
    pub size: u64,
    /// Its raw (mangled) name.
    pub name: String,
}

/// A `PT_LOAD` program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    /// `p_offset`.
    pub file_offset: u64,
    /// `p_filesz`.
    pub file_size: u64,
    /// `p_vaddr`.
    pub address: u64,
}

/// The `.gnu_debuglink` of a stripped file: where its debug file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugLink {
    /// The debug file's name (no directory).
    pub file_name: String,
    /// The CRC-32 of the debug file.
    pub crc: u32,
}

/// What symbolization takes from one ELF file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElfSymbols {
    /// The GNU build id (`.note.gnu.build-id`).
    pub build_id: Option<Vec<u8>>,
    /// The `.gnu_debuglink`, if any.
    pub debuglink: Option<DebugLink>,
    /// The `PT_LOAD` segments.
    pub segments: Vec<LoadSegment>,
    /// True when the file carries DWARF (`.debug_info` with contents).
    pub has_debug_info: bool,
    /// True when the file has a full symbol table (`.symtab`); a stripped
    /// file has only `.dynsym`, without its local functions.
    pub has_symtab: bool,
    symbols: Vec<ElfSymbol>,
    /// Where each symbol ends (exclusive): its size, or for a zero-size
    /// symbol the next symbol's address.
    ends: Vec<u64>,
}

impl ElfSymbols {
    /// Parse an ELF file.
    pub fn parse(data: &[u8]) -> Result<Self, object::Error> {
        let file = object::File::parse(data)?;
        let build_id = file.build_id().ok().flatten().map(<[u8]>::to_vec);
        let debuglink = file
            .gnu_debuglink()
            .ok()
            .flatten()
            .map(|(name, crc)| DebugLink {
                file_name: String::from_utf8_lossy(name).into_owned(),
                crc,
            });
        let segments = file
            .segments()
            .map(|s| {
                let (file_offset, file_size) = s.file_range();
                LoadSegment {
                    file_offset,
                    file_size,
                    address: s.address(),
                }
            })
            .collect();
        let has_symtab = file.section_by_name(".symtab").is_some();
        let has_debug_info = file
            .section_by_name(".debug_info")
            .is_some_and(|s| s.file_range().is_some_and(|(_, size)| size > 0));
        let symbols = match &file {
            object::File::Elf32(f) => elf_symbols(f),
            object::File::Elf64(f) => elf_symbols(f),
            _ => Vec::new(),
        };
        let mut out = Self {
            build_id,
            debuglink,
            segments,
            has_debug_info,
            has_symtab,
            symbols,
            ends: Vec::new(),
        };
        out.finish();
        Ok(out)
    }

    /// Sort, keep one symbol per address, and size the zero-size ones.
    fn finish(&mut self) {
        sort_symbols(&mut self.symbols);
        self.ends = symbol_ends(&self.symbols);
    }

    /// The symbols, sorted by address.
    pub fn symbols(&self) -> &[ElfSymbol] {
        &self.symbols
    }

    /// Where each symbol of [`Self::symbols`] ends (exclusive), as
    /// [`Self::symbol_at`] sizes them (for the symbol cache).
    pub(crate) fn symbol_ends(&self) -> &[u64] {
        &self.ends
    }

    /// Add the symbols of another file for the same code (a debug file's
    /// full `.symtab` next to a stripped file's `.dynsym`).
    pub fn merge_symbols(&mut self, other: &ElfSymbols) {
        self.symbols.extend(other.symbols.iter().cloned());
        self.finish();
    }

    /// The address (as linked) of a file offset: the `PT_LOAD` segment that
    /// contains the offset maps it. A file without segments maps offsets
    /// unchanged. `None` when no segment holds the offset, or when a
    /// (damaged) segment would map it past the end of the address space.
    pub fn file_offset_to_address(&self, offset: u64) -> Option<u64> {
        if self.segments.is_empty() {
            return Some(offset);
        }
        self.segments
            .iter()
            .find(|s| offset >= s.file_offset && offset - s.file_offset < s.file_size)
            .and_then(|s| (offset - s.file_offset).checked_add(s.address))
    }

    /// The function symbol covering an address (as linked). A symbol without
    /// a size covers up to the next symbol (the last one, to the end of the
    /// page after its own), as perf sizes them.
    pub fn symbol_at(&self, address: u64) -> Option<&ElfSymbol> {
        let i = self.symbols.partition_point(|s| s.address <= address);
        let i = i.checked_sub(1)?;
        let sym = self.symbols.get(i)?;
        (address < *self.ends.get(i)?).then_some(sym)
    }
}

/// The function symbols and labels of an ELF file, and its PLT stubs.
fn elf_symbols<Elf: FileHeader<Endian = Endianness>>(file: &ElfFile<'_, Elf>) -> Vec<ElfSymbol> {
    let endian = file.endian();
    let sections = file.elf_section_table();
    let machine = file.elf_header().e_machine(endian);
    let mut ifuncs: Vec<u64> = Vec::new();
    let mut symbols: Vec<ElfSymbol> = Vec::new();
    for s in file.symbols().chain(file.dynamic_symbols()) {
        let st_type = s.elf_symbol().st_type();
        let label = match st_type {
            elf::STT_FUNC | elf::STT_GNU_IFUNC => false,
            elf::STT_NOTYPE => true,
            _ => continue,
        };
        // Defined in a section (not undefined, absolute or common).
        let Some(section) = s.section_index().and_then(|i| sections.section(i).ok()) else {
            continue;
        };
        let flags: u64 = section.sh_flags(endian).into();
        if flags & u64::from(elf::SHF_ALLOC) == 0 {
            continue;
        }
        if label {
            let name = sections.section_name(endian, section).unwrap_or_default();
            if !name.windows(4).any(|w| w == b"text") {
                continue;
            }
        }
        let Ok(name) = s.name() else {
            continue;
        };
        if name.is_empty()
            || (matches!(machine, elf::EM_ARM | elf::EM_AARCH64) && is_mapping_symbol(name))
        {
            continue;
        }
        let mut address = s.address();
        // Thumb functions have bit 0 set.
        if machine == elf::EM_ARM && st_type == elf::STT_FUNC {
            address &= !1;
        }
        if address == 0 {
            continue;
        }
        if st_type == elf::STT_GNU_IFUNC {
            ifuncs.push(address);
        }
        symbols.push(ElfSymbol {
            address,
            size: s.size(),
            name: name.to_string(),
        });
    }
    sort_symbols(&mut symbols);
    ifuncs.sort_unstable();
    let ifunc_name = |address: u64| -> Option<String> {
        ifuncs.binary_search(&address).ok()?;
        let i = symbols.binary_search_by_key(&address, |s| s.address).ok()?;
        Some(symbols[i].name.clone())
    };
    let plt = super::plt::plt_symbols(file, &ifunc_name);
    symbols.extend(plt);
    symbols
}

/// ARM's mapping symbols (`$a`, `$d`, `$t`, `$x`, optionally `.suffix`):
/// they mark code and data, not functions.
fn is_mapping_symbol(name: &str) -> bool {
    let b = name.as_bytes();
    b.first() == Some(&b'$')
        && b.get(1).is_some_and(|c| b"adtx".contains(c))
        && matches!(b.get(2), None | Some(b'.'))
}

/// Where each (sorted, one per address) symbol ends: a sized one after its
/// size, a zero-size one at the next symbol, the last zero-size one at the
/// end of the page after the one it starts in (perf's `symbols__fixup_end`).
fn symbol_ends(symbols: &[ElfSymbol]) -> Vec<u64> {
    symbols
        .iter()
        .enumerate()
        .map(|(i, s)| match (s.size, symbols.get(i + 1)) {
            (0, Some(next)) => next.address,
            (0, None) => s
                .address
                .checked_next_multiple_of(4096)
                .and_then(|a| a.checked_add(4096))
                .unwrap_or(u64::MAX),
            (size, _) => s.address.saturating_add(size),
        })
        .collect()
}

/// Sort by address; at one address keep one symbol, preferring a sized one
/// and then the shortest name (`memcpy` over `__memcpy_avx_unaligned`).
fn sort_symbols(symbols: &mut Vec<ElfSymbol>) {
    symbols.sort_by(|a, b| {
        a.address
            .cmp(&b.address)
            .then_with(|| (b.size != 0).cmp(&(a.size != 0)))
            .then_with(|| a.name.len().cmp(&b.name.len()))
            .then_with(|| a.name.cmp(&b.name))
    });
    symbols.dedup_by(|later, first| later.address == first.address);
}

/// The GNU build id in an ELF note section's bytes (a PT_NOTE segment, a `.note` section, `/sys/kernel/notes`), in
/// native byte order.
pub fn build_id_from_notes(notes: &[u8]) -> Option<Vec<u8>> {
    let u32_at = |o: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(notes.get(o..o + 4)?.try_into().ok()?))
    };
    let mut at = 0usize;
    while at + 12 <= notes.len() {
        let namesz = u32_at(at)? as usize;
        let descsz = u32_at(at + 4)? as usize;
        let kind = u32_at(at + 8)?;
        let name_end = at + 12 + namesz.div_ceil(4) * 4;
        let desc_end = name_end.checked_add(descsz.div_ceil(4) * 4)?;
        if desc_end > notes.len() {
            return None;
        }
        if kind == 3 && notes.get(at + 12..at + 12 + namesz) == Some(b"GNU\0") {
            return Some(notes[name_end..name_end + descsz].to_vec());
        }
        at = desc_end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_with(symbols: Vec<ElfSymbol>, segments: Vec<LoadSegment>) -> ElfSymbols {
        let mut e = ElfSymbols {
            segments,
            symbols,
            ..ElfSymbols::default()
        };
        e.finish();
        e
    }

    #[test]
    fn symbol_lookup_respects_sizes_and_duplicates() {
        let sym = |address, size, name: &str| ElfSymbol {
            address,
            size,
            name: name.into(),
        };
        let e = elf_with(
            vec![
                sym(0x2000, 0x10, "b"),
                sym(0x1000, 0x20, "alias_of_a_long"),
                sym(0x1000, 0x20, "a"),
                sym(0x3000, 0, "c"),
            ],
            vec![],
        );
        assert_eq!(e.symbols().len(), 3);
        assert_eq!(e.symbol_at(0x1000).map(|s| &*s.name), Some("a"));
        assert_eq!(e.symbol_at(0x101f).map(|s| &*s.name), Some("a"));
        assert!(
            e.symbol_at(0x1020).is_none(),
            "past the end of a sized symbol"
        );
        assert!(e.symbol_at(0xfff).is_none());
        // The last zero-size symbol ends with the page after its own.
        assert_eq!(e.symbol_at(0x3fff).map(|s| &*s.name), Some("c"));
        assert!(e.symbol_at(0x4000).is_none());
    }

    /// Defect 11 (second half): zero-size symbols extend to the next symbol,
    /// as perf's `symbols__fixup_end` sizes them, whatever the next one is.
    #[test]
    fn zero_size_labels_extend_to_the_next_symbol() {
        let sym = |address, size, name: &str| ElfSymbol {
            address,
            size,
            name: name.into(),
        };
        let e = elf_with(
            vec![
                sym(0x1ab70, 0, "_start"),
                sym(0x1ab78, 0, "_dl_start_user"),
                sym(0x1ab90, 0x20, "_dl_sized"),
                sym(0x1b000, 0, "_etext"),
                sym(u64::MAX - 8, 0, "at_the_top"),
            ],
            vec![],
        );
        let at = |a| e.symbol_at(a).map(|s| s.name.as_str());
        assert_eq!(at(0x1ab77), Some("_start"));
        assert_eq!(at(0x1ab78), Some("_dl_start_user"));
        assert_eq!(at(0x1ab8f), Some("_dl_start_user"));
        assert_eq!(at(0x1abaf), Some("_dl_sized"));
        assert_eq!(at(0x1abb0), None, "past a sized symbol: nothing");
        assert_eq!(at(0x1bfff), Some("_etext"));
        assert_eq!(at(u64::MAX - 1), Some("at_the_top"));
        assert_eq!(at(u64::MAX), None, "ends are exclusive");
    }

    #[test]
    fn file_offset_maps_through_the_containing_load_segment() {
        let e = elf_with(
            vec![],
            vec![
                LoadSegment {
                    file_offset: 0,
                    file_size: 0x600,
                    address: 0,
                },
                LoadSegment {
                    file_offset: 0x1000,
                    file_size: 0x200,
                    address: 0x1000,
                },
                LoadSegment {
                    file_offset: 0x2de8,
                    file_size: 0x100,
                    address: 0x3de8,
                },
            ],
        );
        assert_eq!(e.file_offset_to_address(0x1010), Some(0x1010));
        assert_eq!(e.file_offset_to_address(0x2df0), Some(0x3df0));
        assert_eq!(e.file_offset_to_address(0x800), None);
    }

    /// Defect 17: a damaged segment (`tests/data/regressions/
    /// elf_symbolize-1.bin` has p_offset 0x65642e0000000000, p_vaddr
    /// 0x726464615f677562, p_filesz 0xa8000000000001a8) maps offsets past
    /// the end of the address space; the sum overflowed.
    #[test]
    fn file_offset_to_address_does_not_overflow() {
        let e = elf_with(
            vec![],
            vec![LoadSegment {
                file_offset: 0x6564_2e00_0000_0000,
                file_size: 0xa800_0000_0000_01a8,
                address: 0x7264_6461_5f67_7562,
            }],
        );
        assert_eq!(
            e.file_offset_to_address(0x6564_2e00_0000_0010),
            Some(0x7264_6461_5f67_7572)
        );
        assert_eq!(e.file_offset_to_address(u64::MAX), None);
        assert_eq!(e.file_offset_to_address(0), None);
    }
}
