//! Building a symbol cache entry from a DSO's parsed [`ElfSymbols`] and
//! [`DwarfInfo`].
//!
//! The DWARF table is made by asking addr2line itself, so the cache answers
//! what the direct path answers by construction, not by a second reading of
//! DWARF. addr2line's answer for an address depends only on where the
//! address falls among the begin and end addresses of the units' ranges
//! (`DW_AT_ranges`, `low_pc`/`high_pc`, `.debug_aranges`, line sequences),
//! of the `DW_TAG_subprogram` and `DW_TAG_inlined_subroutine` ranges, and
//! among the line-table rows: every lookup it makes is a binary search
//! comparing the address with those. So the answer is constant from one such
//! boundary to the next, and one query per boundary (a gimli walk collects
//! them; extra boundaries cost only time) gives the whole table. In a
//! sequence whose row addresses go down somewhere (a damaged line program),
//! addr2line's row search also depends on exact matches, so every row's
//! address plus one is a boundary too.
//!
//! Not cached (the builder says why): DWARF with split units (`.dwo`; their
//! DIEs are elsewhere), and anything gimli cannot walk.

use rustc_hash::FxHashMap as HashMap;

use super::{
    FLAG_DWARF, HEADER_LEN, KIND_FRAMES, KIND_LOCATION, KIND_NOTHING, MAGIC, MAX_BUILD_ID, NONE,
    VERSION,
};
use crate::demangle::DemangleOptions;
use crate::dwarf::{DwarfInfo, Reader};
use crate::elf::{ElfSymbols, LoadSegment};
use crate::kallsyms::KernelSymbols;

/// Why an entry was not built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The build id is empty or longer than a header holds.
    #[error("build id of {0} bytes cannot key a cache entry")]
    BuildId(usize),
    /// The DWARF has split units, whose DIEs the builder does not walk.
    #[error("split DWARF is not cached")]
    SplitDwarf,
    /// gimli could not walk the DWARF.
    #[error("DWARF walk failed: {0}")]
    Dwarf(#[from] gimli::Error),
    /// A table does not fit the format's 32-bit counts.
    #[error("too large for the cache format")]
    TooLarge,
}

const RAW: DemangleOptions = DemangleOptions {
    keep_rust_hash: true,
    disabled: true,
};

#[derive(Default)]
struct Strings {
    blob: Vec<u8>,
    index: HashMap<String, u32>,
}

impl Strings {
    fn intern(&mut self, s: &str) -> Result<u32, BuildError> {
        if let Some(&at) = self.index.get(s) {
            return Ok(at);
        }
        let at = self.append(s)?;
        self.index.insert(s.to_string(), at);
        Ok(at)
    }

    /// A string stored without looking for an equal one (kallsyms names are
    /// nearly all distinct: hashing them costs more than it saves).
    fn append(&mut self, s: &str) -> Result<u32, BuildError> {
        let at = u32::try_from(self.blob.len()).map_err(|_| BuildError::TooLarge)?;
        let len = u32::try_from(s.len()).map_err(|_| BuildError::TooLarge)?;
        if at == NONE {
            return Err(BuildError::TooLarge);
        }
        self.blob.extend_from_slice(&len.to_le_bytes());
        self.blob.extend_from_slice(s.as_bytes());
        Ok(at)
    }

    fn optional(&mut self, s: Option<&str>) -> Result<u32, BuildError> {
        s.map_or(Ok(NONE), |s| self.intern(s))
    }
}

/// function, file, line, has-line, parent.
type NodeKey = [u32; 5];

#[derive(Default)]
struct Tables {
    strings: Strings,
    nodes: Vec<NodeKey>,
    node_index: HashMap<NodeKey, u32>,
    /// start, node, kind.
    ranges: Vec<(u64, u32, u32)>,
}

impl Tables {
    fn node(
        &mut self,
        function: &str,
        file: Option<&str>,
        line: Option<u32>,
        parent: u32,
    ) -> Result<u32, BuildError> {
        let function = if function.is_empty() {
            NONE
        } else {
            self.strings.intern(function)?
        };
        let key = [
            function,
            self.strings.optional(file)?,
            line.unwrap_or(0),
            u32::from(line.is_some()),
            parent,
        ];
        if let Some(&i) = self.node_index.get(&key) {
            return Ok(i);
        }
        let i = u32::try_from(self.nodes.len()).map_err(|_| BuildError::TooLarge)?;
        if i == NONE {
            return Err(BuildError::TooLarge);
        }
        self.nodes.push(key);
        self.node_index.insert(key, i);
        Ok(i)
    }

    /// addr2line's answer at `address`, as a range starting there.
    fn query(&mut self, dwarf: &DwarfInfo, address: u64) -> Result<(), BuildError> {
        let frames = dwarf.frames(address, RAW);
        let (node, kind) = if frames.is_empty() {
            match dwarf.location(address) {
                Some((file, line)) => (self.node("", file.as_deref(), line, NONE)?, KIND_LOCATION),
                None => (NONE, KIND_NOTHING),
            }
        } else {
            let mut parent = NONE;
            for f in frames.iter().rev() {
                parent = self.node(&f.function, f.file.as_deref(), f.line, parent)?;
            }
            (parent, KIND_FRAMES)
        };
        match self.ranges.last() {
            Some(&(_, n, k)) if n == node && k == kind => {}
            _ => self.ranges.push((address, node, kind)),
        }
        Ok(())
    }
}

/// The bytes of a cache entry for a DSO: its (merged) symbol table and, when
/// it has DWARF, every address's frames.
pub fn build(
    build_id: &[u8],
    elf: &ElfSymbols,
    dwarf: Option<&DwarfInfo>,
) -> Result<Vec<u8>, BuildError> {
    if build_id.is_empty() || build_id.len() > MAX_BUILD_ID {
        return Err(BuildError::BuildId(build_id.len()));
    }
    let mut t = Tables::default();
    if let Some(d) = dwarf {
        for address in boundaries(d.sections())? {
            t.query(d, address)?;
        }
    }
    let mut symbols = Vec::with_capacity(elf.symbols().len() * 24);
    for (s, end) in elf.symbols().iter().zip(elf.symbol_ends()) {
        symbols.extend_from_slice(&s.address.to_le_bytes());
        symbols.extend_from_slice(&end.to_le_bytes());
        symbols.extend_from_slice(&t.strings.intern(&s.name)?.to_le_bytes());
        symbols.extend_from_slice(&NONE.to_le_bytes());
    }
    encode(
        build_id,
        dwarf.is_some(),
        &elf.segments,
        &symbols,
        elf.symbols().len(),
        t,
    )
}

/// The bytes of a kallsyms entry: the code symbols (in their order, sorted
/// by address) with their modules, keyed by `key` (at most 64 bytes, the
/// running kernel's cache name).
pub fn build_kernel(key: &[u8], kernel: &KernelSymbols) -> Result<Vec<u8>, BuildError> {
    if key.is_empty() || key.len() > MAX_BUILD_ID {
        return Err(BuildError::BuildId(key.len()));
    }
    let mut t = Tables::default();
    let mut symbols = Vec::with_capacity(kernel.len() * 24);
    for s in kernel.symbols() {
        symbols.extend_from_slice(&s.address.to_le_bytes());
        symbols.extend_from_slice(&s.address.to_le_bytes());
        symbols.extend_from_slice(&t.strings.append(&s.name)?.to_le_bytes());
        symbols.extend_from_slice(&t.strings.optional(s.module.as_deref())?.to_le_bytes());
    }
    encode(key, false, &[], &symbols, kernel.len(), t)
}

fn encode(
    build_id: &[u8],
    dwarf: bool,
    segments: &[LoadSegment],
    symbols: &[u8],
    symbol_count: usize,
    t: Tables,
) -> Result<Vec<u8>, BuildError> {
    let count = |n: usize| u32::try_from(n).map_err(|_| BuildError::TooLarge);
    let mut out = Vec::with_capacity(
        HEADER_LEN
            + symbols.len()
            + t.ranges.len() * 16
            + t.nodes.len() * 20
            + t.strings.blob.len(),
    );
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // CRC, set below
    let flags = if dwarf { FLAG_DWARF } else { 0 };
    for word in [
        flags,
        count(build_id.len())?,
        count(segments.len())?,
        count(symbol_count)?,
        count(t.ranges.len())?,
        count(t.nodes.len())?,
        count(t.strings.blob.len())?,
        0,
    ] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(build_id);
    out.resize(HEADER_LEN, 0);
    for s in segments {
        for v in [s.file_offset, s.file_size, s.address] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.extend_from_slice(symbols);
    for &(start, node, kind) in &t.ranges {
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&node.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
    }
    for node in &t.nodes {
        for v in node {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.extend_from_slice(&t.strings.blob);
    let crc = crc32fast::hash(&out[16..]);
    out[12..16].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Every address where addr2line's answer may change, sorted, from 0.
fn boundaries(dwarf: &gimli::Dwarf<Reader>) -> Result<Vec<u64>, BuildError> {
    let mut out = vec![0];
    let mut aranges = dwarf.debug_aranges.headers();
    while let Some(header) = aranges.next()? {
        let mut entries = header.entries();
        while let Some(entry) = entries.next()? {
            let r = entry.range();
            out.extend([r.begin, r.end]);
        }
    }
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        if matches!(
            header.type_(),
            gimli::UnitType::Type { .. } | gimli::UnitType::SplitType { .. }
        ) {
            continue;
        }
        // addr2line skips a unit it cannot parse; so can the walk.
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        if unit.dwo_id.is_some() {
            return Err(BuildError::SplitDwarf);
        }
        let unit = gimli::UnitRef::new(dwarf, &unit);
        die_boundaries(unit, &mut out)?;
        if let Some(program) = unit.line_program.clone() {
            line_boundaries(program, &mut out)?;
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The begin and end of every range of the unit, subprogram and inlined
/// subroutine DIEs (`low_pc`, `high_pc`, `low_pc + size`, `DW_AT_ranges`).
fn die_boundaries(unit: gimli::UnitRef<'_, Reader>, out: &mut Vec<u64>) -> Result<(), BuildError> {
    let mut entries = unit.entries_raw(None)?;
    while !entries.is_empty() {
        let Some(abbrev) = entries.read_abbreviation()? else {
            continue;
        };
        if !matches!(
            abbrev.tag(),
            gimli::DW_TAG_compile_unit
                | gimli::DW_TAG_partial_unit
                | gimli::DW_TAG_skeleton_unit
                | gimli::DW_TAG_subprogram
                | gimli::DW_TAG_inlined_subroutine
        ) {
            entries.skip_attributes(abbrev.attributes())?;
            continue;
        }
        let (mut low, mut size) = (None, None);
        for spec in abbrev.attributes() {
            let attr = entries.read_attribute(*spec)?;
            match (attr.name(), attr.value()) {
                (gimli::DW_AT_low_pc, v) => {
                    low = unit.attr_address(v)?;
                    out.extend(low);
                }
                (gimli::DW_AT_high_pc, gimli::AttributeValue::Udata(n)) => size = Some(n),
                (gimli::DW_AT_high_pc, v) => out.extend(unit.attr_address(v)?),
                (gimli::DW_AT_ranges, v) => {
                    if let Some(offset) = unit.attr_ranges_offset(v)? {
                        let mut ranges = unit.ranges(offset)?;
                        while let Some(r) = ranges.next()? {
                            out.extend([r.begin, r.end]);
                        }
                    }
                }
                _ => {}
            }
        }
        if let (Some(low), Some(size)) = (low, size) {
            out.push(low.wrapping_add(size));
        }
    }
    Ok(())
}

/// Every row address and sequence end of a line program. In a sequence
/// whose addresses go down somewhere, every row's next address too.
fn line_boundaries(
    program: gimli::IncompleteLineProgram<Reader>,
    out: &mut Vec<u64>,
) -> Result<(), BuildError> {
    let mut rows = program.rows();
    let mut sequence: Vec<u64> = Vec::new();
    while let Some((_, row)) = rows.next_row()? {
        let address = row.address();
        out.push(address);
        if !row.end_sequence() {
            sequence.push(address);
            continue;
        }
        if sequence.windows(2).any(|w| w[1] < w[0]) {
            out.extend(sequence.iter().map(|a| a.wrapping_add(1)));
        }
        sequence.clear();
    }
    if sequence.windows(2).any(|w| w[1] < w[0]) {
        out.extend(sequence.iter().map(|a| a.wrapping_add(1)));
    }
    Ok(())
}

/// Set [`FLAG_NO_DEBUG_FILE`](super::FLAG_NO_DEBUG_FILE) in built entry
/// bytes (and their CRC).
pub fn mark_no_debug_file(bytes: &mut [u8]) {
    if bytes.len() < HEADER_LEN {
        return;
    }
    let flags = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]])
        | super::FLAG_NO_DEBUG_FILE;
    bytes[16..20].copy_from_slice(&flags.to_le_bytes());
    let crc = crc32fast::hash(&bytes[16..]);
    bytes[12..16].copy_from_slice(&crc.to_le_bytes());
}
