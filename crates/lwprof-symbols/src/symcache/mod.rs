//! The persistent symbol cache: one DSO's symbol table and DWARF answers,
//! flattened into a versioned binary file per build id, so a later report
//! of the same build looks addresses up with binary searches over the mapped
//! bytes instead of reading and parsing the ELF file and its DWARF again.
//!
//! This module is the format and its lookups, sans-I/O: [`SymbolCacheView`]
//! takes a `&[u8]`, checks it (magic, version, lengths, CRC-32) and answers
//! bounds-checked, so no input makes it panic (fuzzed as `symcache`). Building
//! an entry is [`build`] (from [`ElfSymbols`](crate::ElfSymbols) and
//! [`DwarfInfo`](crate::DwarfInfo)); files, names and mapping are [`store`].
//!
//! # Format, version 1 (little-endian)
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | magic `lwpsymc\0` |
//! | 8..12 | format version (1) |
//! | 12..16 | CRC-32 of every byte after this field |
//! | 16..20 | flags: bit 0, the DSO had DWARF; bit 1, no debug file was found for it |
//! | 20..24 | build-id length (at most 64) |
//! | 24..44 | counts: segments, symbols, ranges, frame nodes; string bytes |
//! | 44..48 | zero |
//! | 48..112 | build id, zero-padded |
//!
//! Then the tables, back to back: `PT_LOAD` segments (file offset, file size,
//! address: 3 x u64); symbols sorted by address (address, end, name: u64,
//! u64, u32 string, u32 module string: none for ELF symbols); address ranges sorted by start (start u64,
//! node u32, kind u32; a range ends where the next starts); frame nodes
//! (function u32 string, file u32 string, line u32, has-line u32, parent u32
//! node or `u32::MAX`); strings (each a u32 length and its UTF-8 bytes; a
//! string reference is its offset, `u32::MAX` for none).
//!
//! A range's `kind` says what addr2line answered at its start (and so, by
//! construction, at every address up to the next range): 0 no frames and no
//! line, 1 frames (the node is the innermost; parents lead outwards, the
//! outermost has no parent and is the only one not inlined), 2 no frames but
//! a line-table location (the node's file and line). Names are stored raw
//! (mangled) and demangled at lookup, so one entry serves every
//! [`DemangleOptions`].
//!
//! The running kernel's kallsyms (code symbols, with their modules) use the
//! same format, keyed by `kallsyms-BUILDID-MODULESCRC` instead of a build id
//! ([`build::build_kernel`]).

pub mod build;
pub mod store;

use std::borrow::Cow;

use crate::demangle::{demangle, DemangleOptions};
use crate::ResolvedFrame;

pub use build::build;
pub use store::{CachedDso, SymbolCache};

/// The file magic.
pub const MAGIC: [u8; 8] = *b"lwpsymc\0";
/// The format version this build reads and writes.
pub const VERSION: u32 = 1;
/// The header's size.
pub const HEADER_LEN: usize = 112;
/// The longest build id a header holds.
pub const MAX_BUILD_ID: usize = 64;
const SEGMENT_LEN: usize = 24;
const SYMBOL_LEN: usize = 24;
const RANGE_LEN: usize = 16;
const NODE_LEN: usize = 20;
/// "None" for string and node references.
const NONE: u32 = u32::MAX;
/// Flag bit: the entry was built with DWARF.
pub const FLAG_DWARF: u32 = 1;
/// Flag bit: the load looked for a separate debug file and found none (a
/// debug file that appears later makes the entry out of date).
pub const FLAG_NO_DEBUG_FILE: u32 = 2;
/// Range kinds.
const KIND_NOTHING: u32 = 0;
const KIND_FRAMES: u32 = 1;
const KIND_LOCATION: u32 = 2;
/// The deepest inline chain a lookup follows (a guard against crafted
/// files; addr2line chains are a few dozen deep at most).
const MAX_DEPTH: usize = 1024;

/// Why cache bytes were not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymCacheError {
    /// Not a symbol cache file, or one cut short.
    #[error("not an lwprof symbol cache file (bad magic or too short)")]
    NotACache,
    /// Written by another format version.
    #[error("symbol cache format version {0}, this lwprof reads {VERSION}")]
    Version(u32),
    /// The lengths in the header do not add up to the file's.
    #[error("symbol cache lengths do not match the file size (torn or truncated file)")]
    Lengths,
    /// The checksum does not match.
    #[error("symbol cache checksum mismatch (corrupted file)")]
    Checksum,
}

/// Where the tables of a checked cache file are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    flags: u32,
    build_id_len: usize,
    segments: (usize, usize),
    symbols: (usize, usize),
    ranges: (usize, usize),
    nodes: (usize, usize),
    strings: (usize, usize),
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

impl Layout {
    /// Check a cache file's header, lengths and checksum.
    pub fn parse(bytes: &[u8]) -> Result<Self, SymCacheError> {
        if bytes.len() < HEADER_LEN || bytes[..8] != MAGIC {
            return Err(SymCacheError::NotACache);
        }
        let word = |at| u32_at(bytes, at).ok_or(SymCacheError::NotACache);
        let version = word(8)?;
        if version != VERSION {
            return Err(SymCacheError::Version(version));
        }
        let build_id_len = word(20)? as usize;
        if build_id_len > MAX_BUILD_ID {
            return Err(SymCacheError::Lengths);
        }
        let mut at = HEADER_LEN;
        let mut table = |count: u32, size: usize| -> Result<(usize, usize), SymCacheError> {
            let len = (count as usize)
                .checked_mul(size)
                .ok_or(SymCacheError::Lengths)?;
            let start = at;
            at = at.checked_add(len).ok_or(SymCacheError::Lengths)?;
            Ok((start, count as usize))
        };
        let segments = table(word(24)?, SEGMENT_LEN)?;
        let symbols = table(word(28)?, SYMBOL_LEN)?;
        let ranges = table(word(32)?, RANGE_LEN)?;
        let nodes = table(word(36)?, NODE_LEN)?;
        let strings = table(word(40)?, 1)?;
        if at != bytes.len() {
            return Err(SymCacheError::Lengths);
        }
        if word(12)? != crc32fast::hash(&bytes[16..]) {
            return Err(SymCacheError::Checksum);
        }
        Ok(Self {
            flags: word(16)?,
            build_id_len,
            segments,
            symbols,
            ranges,
            nodes,
            strings,
        })
    }
}

/// A frame node as stored.
struct Node<'a> {
    function: Option<Cow<'a, str>>,
    file: Option<Cow<'a, str>>,
    line: Option<u32>,
    parent: u32,
}

/// Lookups over the bytes of a checked cache file.
#[derive(Clone, Copy, Debug)]
pub struct SymbolCacheView<'a> {
    bytes: &'a [u8],
    layout: Layout,
}

impl<'a> SymbolCacheView<'a> {
    /// Check the bytes of a cache file (header, lengths, checksum).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SymCacheError> {
        Ok(Self {
            layout: Layout::parse(bytes)?,
            bytes,
        })
    }

    /// A view of bytes already checked by [`Layout::parse`] (reads stay
    /// bounds-checked whatever the bytes are).
    pub fn with_layout(bytes: &'a [u8], layout: Layout) -> Self {
        Self { bytes, layout }
    }

    /// The build id the entry was built for.
    pub fn build_id(&self) -> &'a [u8] {
        self.bytes
            .get(48..48 + self.layout.build_id_len)
            .unwrap_or_default()
    }

    /// True when the entry was built with DWARF.
    pub fn has_dwarf(&self) -> bool {
        self.layout.flags & FLAG_DWARF != 0
    }

    /// True when the load that built the entry looked for a separate debug
    /// file and found none.
    pub fn lacks_debug_file(&self) -> bool {
        self.layout.flags & FLAG_NO_DEBUG_FILE != 0
    }

    /// The number of address ranges (DWARF answers) in the entry.
    pub fn range_count(&self) -> usize {
        self.layout.ranges.1
    }

    fn record(&self, table: (usize, usize), size: usize, i: usize) -> Option<&'a [u8]> {
        if i >= table.1 {
            return None;
        }
        let at = table.0.checked_add(i.checked_mul(size)?)?;
        self.bytes.get(at..at.checked_add(size)?)
    }

    fn string(&self, reference: u32) -> Option<Cow<'a, str>> {
        if reference == NONE {
            return None;
        }
        let (start, len) = self.layout.strings;
        let blob = self.bytes.get(start..start.checked_add(len)?)?;
        let at = reference as usize;
        let n = u32_at(blob, at)? as usize;
        let s = blob.get(at.checked_add(4)?..at.checked_add(4)?.checked_add(n)?)?;
        Some(String::from_utf8_lossy(s))
    }

    /// The address (as linked) of a file offset, as
    /// [`ElfSymbols::file_offset_to_address`](crate::ElfSymbols::file_offset_to_address).
    pub fn file_offset_to_address(&self, offset: u64) -> Option<u64> {
        if self.layout.segments.1 == 0 {
            return Some(offset);
        }
        (0..self.layout.segments.1).find_map(|i| {
            let r = self.record(self.layout.segments, SEGMENT_LEN, i)?;
            let (file_offset, file_size, address) = (u64_at(r, 0)?, u64_at(r, 8)?, u64_at(r, 16)?);
            (offset >= file_offset && offset - file_offset < file_size)
                .then(|| (offset - file_offset).checked_add(address))
                .flatten()
        })
    }

    /// The symbol covering an address: its start and raw name, as
    /// [`ElfSymbols::symbol_at`](crate::ElfSymbols::symbol_at).
    pub fn symbol_at(&self, address: u64) -> Option<(u64, Cow<'a, str>)> {
        let table = self.layout.symbols;
        let start_of = |i: usize| {
            self.record(table, SYMBOL_LEN, i)
                .and_then(|r| u64_at(r, 0))
                .unwrap_or(u64::MAX)
        };
        let i = partition_point(table.1, |i| start_of(i) <= address).checked_sub(1)?;
        let r = self.record(table, SYMBOL_LEN, i)?;
        let (start, end) = (u64_at(r, 0)?, u64_at(r, 8)?);
        if start > address || address >= end {
            return None;
        }
        Some((start, self.string(u32_at(r, 16)?)?))
    }

    /// The nearest symbol at or below an address, whatever its end: start,
    /// name and module (the kallsyms form; see [`crate::KernelSymbols::lookup`]).
    pub fn nearest_symbol(
        &self,
        address: u64,
    ) -> Option<(u64, Cow<'a, str>, Option<Cow<'a, str>>)> {
        let table = self.layout.symbols;
        let start_of = |i: usize| {
            self.record(table, SYMBOL_LEN, i)
                .and_then(|r| u64_at(r, 0))
                .unwrap_or(u64::MAX)
        };
        let i = partition_point(table.1, |i| start_of(i) <= address).checked_sub(1)?;
        let r = self.record(table, SYMBOL_LEN, i)?;
        let start = u64_at(r, 0)?;
        if start > address {
            return None;
        }
        Some((
            start,
            self.string(u32_at(r, 16)?)?,
            self.string(u32_at(r, 20)?),
        ))
    }

    /// The range covering an address: (kind, node).
    fn range_at(&self, address: u64) -> Option<(u32, u32)> {
        // addr2line is not asked about the last address (see `DwarfInfo`).
        if address == u64::MAX {
            return None;
        }
        let table = self.layout.ranges;
        let start_of = |i: usize| {
            self.record(table, RANGE_LEN, i)
                .and_then(|r| u64_at(r, 0))
                .unwrap_or(u64::MAX)
        };
        let i = partition_point(table.1, |i| start_of(i) <= address).checked_sub(1)?;
        let r = self.record(table, RANGE_LEN, i)?;
        Some((u32_at(r, 12)?, u32_at(r, 8)?))
    }

    fn node(&self, i: u32) -> Option<Node<'a>> {
        let r = self.record(self.layout.nodes, NODE_LEN, i as usize)?;
        Some(Node {
            function: self.string(u32_at(r, 0)?),
            file: self.string(u32_at(r, 4)?),
            line: (u32_at(r, 12)? != 0).then_some(u32_at(r, 8)?),
            parent: u32_at(r, 16)?,
        })
    }

    /// The frames at an address (as linked), innermost first, as
    /// [`DwarfInfo::frames`](crate::DwarfInfo::frames) gives them.
    pub fn frames(&self, address: u64, opts: DemangleOptions) -> Vec<ResolvedFrame> {
        let mut out = Vec::new();
        let Some((KIND_FRAMES, mut at)) = self.range_at(address) else {
            return out;
        };
        while let Some(node) = self.node(at) {
            out.push(ResolvedFrame {
                function: node
                    .function
                    .map(|f| demangle(&f, opts).into_owned())
                    .unwrap_or_default(),
                file: node.file.map(Cow::into_owned),
                line: node.line,
                inlined: true,
                dso: None,
                symbol_offset: None,
            });
            // Parents come before their children: a chain always ends.
            if node.parent >= at || out.len() >= MAX_DEPTH {
                break;
            }
            at = node.parent;
        }
        if let Some(last) = out.last_mut() {
            last.inlined = false;
        }
        out
    }

    /// The line-table location of an address that has no frames, as
    /// [`DwarfInfo::location`](crate::DwarfInfo::location) gives it there.
    pub fn location(&self, address: u64) -> Option<(Option<String>, Option<u32>)> {
        let (kind, at) = self.range_at(address)?;
        if kind != KIND_LOCATION {
            return None;
        }
        let node = self.node(at)?;
        Some((node.file.map(Cow::into_owned), node.line))
    }
}

/// The first index in `0..n` where `pred` is false (`pred` true then false).
fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

#[cfg(test)]
mod tests;
