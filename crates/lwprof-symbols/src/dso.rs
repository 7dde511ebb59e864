//! One DSO's symbols ready for lookups: its [`ElfSymbols`] (merged with a
//! separate debug file's, when there is one) and its DWARF, with a cache of
//! the frames found per address.
//!
//! [`DsoSymbols::parse`] and [`DsoSymbols::load_dwarf`] take the bytes of an
//! ELF file, so lookups can be made (and fuzzed) without the file reading,
//! build-id checks and debug-file search of [`super::Symbolizer`], which
//! builds its `DsoSymbols` with [`DsoSymbols::new`]. No I/O here.

use std::borrow::Cow;
use std::collections::HashMap;

use super::demangle::{demangle, DemangleOptions};
use super::dwarf::{DwarfError, DwarfInfo, SplitDwarfMiss};
use super::elf::ElfSymbols;
use crate::ResolvedFrame;

/// A DSO's symbol table and DWARF, with a per-address cache.
pub struct DsoSymbols {
    elf: ElfSymbols,
    dwarf: Option<DwarfInfo>,
    cache: HashMap<u64, Vec<ResolvedFrame>>,
}

impl std::fmt::Debug for DsoSymbols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsoSymbols")
            .field("symbols", &self.elf.symbols().len())
            .field("dwarf", &self.dwarf.is_some())
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl DsoSymbols {
    /// Lookups over symbols (and DWARF) already parsed.
    pub fn new(elf: ElfSymbols, dwarf: Option<DwarfInfo>) -> Self {
        Self {
            elf,
            dwarf,
            cache: HashMap::new(),
        }
    }

    /// The symbols of one ELF file's bytes, without DWARF.
    pub fn parse(bytes: &[u8]) -> Result<Self, object::Error> {
        Ok(Self::new(ElfSymbols::parse(bytes)?, None))
    }

    /// Add the DWARF of an ELF file's bytes (this file's, or its separate
    /// debug file's), when it has any. On an error the lookups go on with
    /// the symbol table alone.
    pub fn load_dwarf(&mut self, bytes: &[u8]) -> Result<(), DwarfError> {
        self.dwarf = Some(DwarfInfo::parse(bytes)?);
        self.cache.clear();
        Ok(())
    }

    /// The `.dwo` files that look-ups needed and could not use, since the
    /// last call (see [`DwarfInfo::follow_split_dwarf`]).
    pub fn take_split_dwarf_misses(&self) -> Vec<SplitDwarfMiss> {
        self.dwarf
            .as_ref()
            .map(DwarfInfo::take_split_dwarf_misses)
            .unwrap_or_default()
    }

    /// The symbol table.
    pub fn elf(&self) -> &ElfSymbols {
        &self.elf
    }

    /// Frames (innermost first) at a file offset (the offset of a sample
    /// in its mapping, `address - start + pgoff`). Empty when nothing
    /// resolves.
    pub fn resolve_file_offset(
        &mut self,
        file_offset: u64,
        opts: DemangleOptions,
    ) -> Vec<ResolvedFrame> {
        match self.elf.file_offset_to_address(file_offset) {
            Some(address) => self.resolve_address(address, opts),
            None => Vec::new(),
        }
    }

    /// The DWARF, when loaded.
    pub fn dwarf(&self) -> Option<&DwarfInfo> {
        self.dwarf.as_ref()
    }

    /// Frames (innermost first) at an address as the file was linked.
    /// Empty when nothing resolves.
    pub fn resolve_address(&mut self, address: u64, opts: DemangleOptions) -> Vec<ResolvedFrame> {
        if let Some(hit) = self.cache.get(&address) {
            return hit.clone();
        }
        let symbol = self
            .elf
            .symbol_at(address)
            .map(|s| (s.address, Cow::Borrowed(s.name.as_str())));
        let dwarf = self.dwarf.as_ref();
        let frames = dwarf.map(|d| d.frames(address, opts)).unwrap_or_default();
        let frames = assemble_frames(
            address,
            symbol,
            frames,
            || dwarf.and_then(|d| d.location(address)),
            opts,
        );
        self.cache.insert(address, frames.clone());
        frames
    }
}

/// The frames of an address from its symbol (start and raw name), its DWARF
/// frames (innermost first, names demangled) and, for an address without
/// DWARF frames, its line-table location: the one rule for both the parsed
/// DSOs and the symbol cache's.
pub(crate) fn assemble_frames(
    address: u64,
    symbol: Option<(u64, Cow<'_, str>)>,
    mut frames: Vec<ResolvedFrame>,
    location: impl FnOnce() -> Option<(Option<String>, Option<u32>)>,
    opts: DemangleOptions,
) -> Vec<ResolvedFrame> {
    let offset = symbol.as_ref().and_then(|(a, _)| address.checked_sub(*a));
    let symbol = symbol.map(|(_, name)| demangle(&name, opts).into_owned());
    if frames.is_empty() {
        if let Some(name) = symbol {
            let (file, line) = location().unwrap_or_default();
            frames.push(ResolvedFrame {
                function: name,
                file,
                line,
                ..ResolvedFrame::default()
            });
        }
    } else {
        let last = frames.len() - 1;
        // The outermost frame is the real function: its symbol-table name
        // is the full demangled path (`crate::module::f`), as perf shows
        // it; DWARF's name for it may be the short one.
        if let Some(s) = &symbol {
            if !s.is_empty() {
                frames[last].function = s.clone();
            }
        }
        for (i, f) in frames.iter_mut().enumerate() {
            if f.function.is_empty() {
                f.function = match (&symbol, i == last) {
                    (Some(s), true) => s.clone(),
                    _ => format!("{address:#x}"),
                };
            }
        }
    }
    if let Some(last) = frames.last_mut() {
        last.symbol_offset = offset;
    }
    frames
}
