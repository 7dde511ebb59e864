//! DWARF line tables and inline frames with `addr2line` (gimli).
//!
//! [`DwarfInfo`] is built from the bytes of an ELF file that carries DWARF
//! (the binary itself or its separate debug file); the sections are copied
//! into shared buffers, so the file bytes can be dropped afterwards.
//! Split DWARF (`.dwo`) and supplementary files are not followed.

use std::borrow::Cow;
use std::sync::Arc;

use object::{Object, ObjectSection};

use super::demangle::{demangle, DemangleOptions};
use crate::ResolvedFrame;

pub(crate) type Reader = gimli::EndianArcSlice<gimli::RunTimeEndian>;

/// The DWARF of one file, ready for address lookups.
pub struct DwarfInfo {
    context: addr2line::Context<Reader>,
    /// The sections the context reads (shared with it), for the symbol
    /// cache's walk of every address range (`crate::symcache`).
    sections: Arc<gimli::Dwarf<Reader>>,
}

impl std::fmt::Debug for DwarfInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DwarfInfo").finish_non_exhaustive()
    }
}

/// Why DWARF could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DwarfError {
    /// The file is not ELF (or is damaged).
    #[error("not an ELF file: {0}")]
    Object(#[from] object::Error),
    /// The DWARF sections are damaged.
    #[error("bad DWARF: {0}")]
    Gimli(#[from] gimli::Error),
}

impl DwarfInfo {
    /// Load the DWARF sections of an ELF file (compressed sections are
    /// decompressed).
    pub fn parse(data: &[u8]) -> Result<Self, DwarfError> {
        let file = object::File::parse(data)?;
        let endian = if file.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
            // Lines and inline frames need none of the variable locations,
            // macros or name indexes, which are the largest sections of
            // optimized code (and compressed in distribution debug files):
            // leave them unread.
            use gimli::SectionId as S;
            if matches!(
                id,
                S::DebugLoc
                    | S::DebugLocLists
                    | S::DebugMacinfo
                    | S::DebugMacro
                    | S::DebugPubNames
                    | S::DebugPubTypes
                    | S::DebugFrame
                    | S::EhFrame
                    | S::EhFrameHdr
            ) {
                return Ok(gimli::EndianArcSlice::new(Arc::from(&[][..]), endian));
            }
            let bytes = file
                .section_by_name(id.name())
                .and_then(|s| s.uncompressed_data().ok())
                .unwrap_or(Cow::Borrowed(&[]));
            Ok(gimli::EndianArcSlice::new(Arc::from(&*bytes), endian))
        };
        let sections = Arc::new(gimli::Dwarf::load(load)?);
        Ok(Self {
            context: addr2line::Context::from_arc_dwarf(sections.clone())?,
            sections,
        })
    }

    /// The DWARF sections (for the symbol cache's builder).
    pub(crate) fn sections(&self) -> &gimli::Dwarf<Reader> {
        &self.sections
    }

    /// addr2line 0.24 looks up `[address, address + 1)` and overflows at
    /// `u64::MAX` (defect 17); no code can start at the last address, so it
    /// is not asked.
    fn can_ask(address: u64) -> bool {
        address.checked_add(1).is_some()
    }

    /// The frames at an address (as linked), innermost (most inlined) first;
    /// empty when no compilation unit covers it. A frame without a function
    /// name has an empty `function`.
    pub fn frames(&self, address: u64, opts: DemangleOptions) -> Vec<ResolvedFrame> {
        let mut out = Vec::new();
        if !Self::can_ask(address) {
            return out;
        }
        if let Ok(mut iter) = self.context.find_frames(address).skip_all_loads() {
            while let Ok(Some(frame)) = iter.next() {
                let function = frame
                    .function
                    .as_ref()
                    .and_then(|f| f.raw_name().ok())
                    .map(|n| demangle(n.as_ref(), opts).into_owned())
                    .unwrap_or_default();
                let (file, line) = frame
                    .location
                    .map(|l| (l.file.map(str::to_string), l.line))
                    .unwrap_or_default();
                out.push(ResolvedFrame {
                    function,
                    file,
                    line,
                    inlined: true,
                    dso: None,
                    symbol_offset: None,
                });
            }
        }
        if let Some(last) = out.last_mut() {
            last.inlined = false;
        }
        out
    }

    /// The source file and line of an address, from the line table alone.
    pub fn location(&self, address: u64) -> Option<(Option<String>, Option<u32>)> {
        if !Self::can_ask(address) {
            return None;
        }
        let loc = self.context.find_location(address).ok()??;
        Some((loc.file.map(str::to_string), loc.line))
    }
}
