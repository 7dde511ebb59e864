//! DWARF line tables and inline frames with `addr2line` (gimli).
//!
//! [`DwarfInfo`] is built from the bytes of an ELF file that carries DWARF
//! (the binary itself or its separate debug file); the sections are copied
//! into shared buffers, so the file bytes can be dropped afterwards.
//! Split DWARF (`.dwo` files and `.dwp` packages) is followed through a
//! reader the caller supplies ([`DwarfInfo::follow_split_dwarf`]; the
//! parsing is in the `split_dwarf` module); supplementary files (`dwz`) are
//! not.

use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex};

use addr2line::{LookupContinuation, LookupResult, SplitDwarfLoad};
use object::{Object, ObjectSection};

use super::demangle::{demangle, DemangleOptions};
use super::split_dwarf::SplitDwarf;
pub use super::split_dwarf::{SplitDwarfMiss, SplitDwarfReader};
use crate::ResolvedFrame;

pub(crate) type Reader = gimli::EndianArcSlice<gimli::RunTimeEndian>;

/// The DWARF of one file, ready for address lookups.
pub struct DwarfInfo {
    context: addr2line::Context<Reader>,
    /// The sections the context reads (shared with it), for the symbol
    /// cache's walk of every address range (`crate::symcache`).
    sections: Arc<gimli::Dwarf<Reader>>,
    endian: gimli::RunTimeEndian,
    split: Option<Mutex<SplitDwarf>>,
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
        let endian = endian_of(&file);
        let sections = Arc::new(gimli::Dwarf::load(section_loader(&file, endian, false))?);
        Ok(Self {
            context: addr2line::Context::from_arc_dwarf(sections.clone())?,
            sections,
            endian,
            split: None,
        })
    }

    /// The DWARF sections (for the symbol cache's builder).
    pub(crate) fn sections(&self) -> &gimli::Dwarf<Reader> {
        &self.sections
    }

    /// Follow this file's split DWARF (`gcc -gsplit-dwarf`): `.dwo` files
    /// at the skeleton units' `DW_AT_comp_dir/DW_AT_dwo_name` or next to
    /// `binary`, and the package `BINARY.dwp`. `read` gives a file's bytes
    /// (or says why it cannot); it is asked once per unit, when a look-up
    /// first needs one. Units whose `.dwo` is missing keep their skeleton's
    /// line table: see [`DwarfInfo::take_split_dwarf_misses`].
    pub fn follow_split_dwarf(&mut self, binary: &Path, read: SplitDwarfReader) {
        self.split = Some(Mutex::new(SplitDwarf::new(binary, read)));
    }

    /// The `.dwo` files that look-ups needed and could not use, since the
    /// last call.
    pub fn take_split_dwarf_misses(&self) -> Vec<SplitDwarfMiss> {
        self.split
            .as_ref()
            .and_then(|s| s.lock().ok().map(|mut s| s.take_misses()))
            .unwrap_or_default()
    }

    /// The split DWARF a look-up asks for, if it can be had.
    fn split_unit(&self, load: SplitDwarfLoad<Reader>) -> Option<Arc<gimli::Dwarf<Reader>>> {
        let mut split = self.split.as_ref()?.lock().ok()?;
        split.load(load, self.endian)
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
        let mut lookup = self.context.find_frames(address);
        let found = loop {
            match lookup {
                LookupResult::Output(found) => break found,
                LookupResult::Load { load, continuation } => {
                    lookup = continuation.resume(self.split_unit(load));
                }
            }
        };
        if let Ok(mut iter) = found {
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

/// The byte order of an object file, for gimli.
pub(crate) fn endian_of(file: &object::File<'_>) -> gimli::RunTimeEndian {
    if file.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    }
}

/// Loads a file's DWARF sections for gimli by their names (`.debug_info`,
/// or in a split DWARF file `.debug_info.dwo`); absent ones are empty.
pub(crate) fn section_loader<'a>(
    file: &'a object::File<'_>,
    endian: gimli::RunTimeEndian,
    split: bool,
) -> impl FnMut(gimli::SectionId) -> Result<Reader, gimli::Error> + 'a {
    move |id: gimli::SectionId| {
        // Lines and inline frames need none of the variable locations,
        // macros or name indexes, which are the largest sections of
        // optimized code (and compressed in distribution debug files):
        // leave them unread. Split files are read whole: a package's index
        // must find each unit's part of every section.
        use gimli::SectionId as S;
        let name = if split {
            id.dwo_name()
        } else {
            Some(id.name())
        };
        let skipped = !split
            && matches!(
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
            );
        let bytes = match name {
            Some(name) if !skipped => file
                .section_by_name(name)
                .and_then(|s| s.uncompressed_data().ok())
                .unwrap_or(Cow::Borrowed(&[])),
            _ => Cow::Borrowed(&[][..]),
        };
        Ok(gimli::EndianArcSlice::new(Arc::from(&*bytes), endian))
    }
}
