//! ELF symbol tables and load segments, parsed from bytes with the `object`
//! crate.
//!
//! [`ElfSymbols`] holds what symbolization needs from one ELF file: function
//! symbols from `.symtab` and `.dynsym` sorted for binary search, the
//! `PT_LOAD` segments that turn a file offset into the address the file was
//! linked at (so PIE executables and shared objects work whatever their load
//! base), the GNU build id and the `.gnu_debuglink`. It does no I/O and keeps
//! no reference to the bytes. DWARF is in [`super::dwarf`].

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SectionKind, SymbolKind};

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
        let text_sections: Vec<object::SectionIndex> = file
            .sections()
            .filter(|s| s.kind() == SectionKind::Text)
            .map(|s| s.index())
            .collect();
        let mut symbols: Vec<ElfSymbol> = file
            .symbols()
            .chain(file.dynamic_symbols())
            .filter(|s| {
                !s.is_undefined()
                    && s.address() != 0
                    && match s.kind() {
                        SymbolKind::Text => true,
                        // Hand-written assembly often has untyped symbols.
                        SymbolKind::Unknown => s
                            .section_index()
                            .is_some_and(|i| text_sections.contains(&i)),
                        _ => false,
                    }
            })
            .filter_map(|s| {
                let name = s.name().ok()?;
                (!name.is_empty()).then(|| ElfSymbol {
                    address: s.address(),
                    size: s.size(),
                    name: name.to_string(),
                })
            })
            .collect();
        sort_symbols(&mut symbols);
        Ok(Self {
            build_id,
            debuglink,
            segments,
            has_debug_info,
            has_symtab,
            symbols,
        })
    }

    /// The symbols, sorted by address.
    pub fn symbols(&self) -> &[ElfSymbol] {
        &self.symbols
    }

    /// Add the symbols of another file for the same code (a debug file's
    /// full `.symtab` next to a stripped file's `.dynsym`).
    pub fn merge_symbols(&mut self, other: &ElfSymbols) {
        self.symbols.extend(other.symbols.iter().cloned());
        sort_symbols(&mut self.symbols);
    }

    /// The address (as linked) of a file offset: the `PT_LOAD` segment that
    /// contains the offset maps it. A file without segments maps offsets
    /// unchanged.
    pub fn file_offset_to_address(&self, offset: u64) -> Option<u64> {
        if self.segments.is_empty() {
            return Some(offset);
        }
        self.segments
            .iter()
            .find(|s| offset >= s.file_offset && offset - s.file_offset < s.file_size)
            .map(|s| offset - s.file_offset + s.address)
    }

    /// The function symbol covering an address (as linked). A symbol without
    /// a size covers up to the next symbol.
    pub fn symbol_at(&self, address: u64) -> Option<&ElfSymbol> {
        let i = self.symbols.partition_point(|s| s.address <= address);
        let sym = self.symbols.get(i.checked_sub(1)?)?;
        if sym.size == 0 || address - sym.address < sym.size {
            Some(sym)
        } else {
            None
        }
    }
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
        sort_symbols(&mut e.symbols);
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
        assert_eq!(e.symbol_at(0x9999).map(|s| &*s.name), Some("c"));
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
}
