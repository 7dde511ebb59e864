//! Split DWARF (`gcc -gsplit-dwarf`): the skeleton units of a binary name
//! `.dwo` files that hold the rest of each unit's DWARF (functions, inline
//! frames), or a `dwp` package `BINARY.dwp` holds them all.
//!
//! [`SplitDwarf`] answers addr2line's [`SplitDwarfLoad`] requests for a
//! [`super::DwarfInfo`]: from the package when there is one, else from the
//! `.dwo` at `DW_AT_comp_dir/DW_AT_dwo_name`, else from the file of that name
//! next to the binary; a `.dwo` whose DWO id is not the skeleton's is not
//! used. It parses bytes only: the files are read by the
//! [`SplitDwarfReader`] its owner supplies (the symbolizer's reads each file
//! once). It does not search debug roots or debuginfod for `.dwo` files, and
//! reads no type units.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use addr2line::SplitDwarfLoad;
use gimli::Reader as _;

use super::dwarf::{endian_of, section_loader, Reader};

/// Gives the bytes of a file by path, or why it cannot (`"no such file"`).
pub type SplitDwarfReader = Box<dyn FnMut(&Path) -> Result<Arc<[u8]>, String> + Send>;

/// A `.dwo` file a look-up needed and could not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitDwarfMiss {
    /// Where it was looked for first (`DW_AT_comp_dir/DW_AT_dwo_name`).
    pub dwo: PathBuf,
    /// Why it was not used.
    pub reason: String,
}

/// The split DWARF of one binary, loaded as look-ups need it.
pub(crate) struct SplitDwarf {
    binary: PathBuf,
    read: SplitDwarfReader,
    /// `BINARY.dwp`, once looked for.
    package: Option<Option<gimli::DwarfPackage<Reader>>>,
    misses: Vec<SplitDwarfMiss>,
}

impl SplitDwarf {
    pub(crate) fn new(binary: &Path, read: SplitDwarfReader) -> Self {
        Self {
            binary: binary.to_path_buf(),
            read,
            package: None,
            misses: Vec::new(),
        }
    }

    pub(crate) fn take_misses(&mut self) -> Vec<SplitDwarfMiss> {
        std::mem::take(&mut self.misses)
    }

    /// The split unit a skeleton unit asks for, or `None` (and a miss) when
    /// it cannot be had.
    pub(crate) fn load(
        &mut self,
        load: SplitDwarfLoad<Reader>,
        endian: gimli::RunTimeEndian,
    ) -> Option<Arc<gimli::Dwarf<Reader>>> {
        if let Some(package) = self.package(endian) {
            if let Ok(Some(mut unit)) = package.find_cu(load.dwo_id, &load.parent) {
                keep_parent_line_strings(&mut unit, &load.parent);
                return Some(Arc::new(unit));
            }
        }
        let name = load.path.as_ref().map(path_of)?;
        let dir = load.comp_dir.as_ref().map(path_of).unwrap_or_default();
        let primary = dir.join(&name);
        let mut candidates = vec![primary.clone()];
        if let (Some(file), Some(here)) = (name.file_name(), self.binary.parent()) {
            candidates.push(here.join(file));
        }
        candidates.dedup();
        let mut first_error = None;
        for path in &candidates {
            let bytes = match (self.read)(path) {
                Ok(bytes) => bytes,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            return match parse_dwo(&bytes, &load, endian) {
                Ok(unit) => Some(unit),
                Err(reason) => {
                    self.misses.push(SplitDwarfMiss {
                        dwo: path.clone(),
                        reason,
                    });
                    None
                }
            };
        }
        let elsewhere = candidates
            .get(1)
            .and_then(|p| p.parent())
            .map(|d| format!(", nor is it in {}", d.display()))
            .unwrap_or_default();
        let error = first_error.unwrap_or_default();
        self.misses.push(SplitDwarfMiss {
            dwo: primary,
            reason: format!("cannot be read ({error}){elsewhere}"),
        });
        None
    }

    /// `BINARY.dwp`, read and parsed on first use; a missing or damaged
    /// package is no package.
    fn package(&mut self, endian: gimli::RunTimeEndian) -> Option<&gimli::DwarfPackage<Reader>> {
        if self.package.is_none() {
            let mut path = self.binary.clone().into_os_string();
            path.push(".dwp");
            let parsed = (self.read)(Path::new(&path))
                .ok()
                .and_then(|bytes| parse_package(&bytes, endian));
            self.package = Some(parsed);
        }
        self.package.as_ref().and_then(Option::as_ref)
    }
}

/// A path from a DWARF string (as bytes: paths need not be UTF-8).
fn path_of(r: &Reader) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(
        &r.to_slice().unwrap_or_default(),
    ))
}

/// A `.dwo` file's unit, checked against the skeleton's DWO id.
fn parse_dwo(
    bytes: &[u8],
    load: &SplitDwarfLoad<Reader>,
    endian: gimli::RunTimeEndian,
) -> Result<Arc<gimli::Dwarf<Reader>>, String> {
    let file = object::File::parse(bytes).map_err(|e| format!("is not ELF ({e})"))?;
    if endian_of(&file) != endian {
        return Err("has the other byte order".into());
    }
    let mut dwarf = gimli::Dwarf::load(section_loader(&file, endian, true))
        .map_err(|e: gimli::Error| format!("has bad DWARF ({e})"))?;
    let header = dwarf
        .units()
        .next()
        .map_err(|e| format!("has bad DWARF ({e})"))?
        .ok_or("has no compilation unit")?;
    let unit = dwarf
        .unit(header)
        .map_err(|e| format!("has bad DWARF ({e})"))?;
    match unit.dwo_id {
        Some(id) if id == load.dwo_id => {}
        found => {
            return Err(format!(
                "is another build (DWO id {}, the binary's is {:#x}; rebuilt since?)",
                found.map_or_else(|| "none".into(), |f| format!("{:#x}", f.0)),
                load.dwo_id.0
            ))
        }
    }
    dwarf.make_dwo(&load.parent);
    keep_parent_line_strings(&mut dwarf, &load.parent);
    Ok(Arc::new(dwarf))
}

/// addr2line reads a split unit's line table (the skeleton's, in the
/// binary) with the split unit's sections, and gcc's DWARF 5 line tables
/// name their files in `.debug_line_str`, which only the binary has (there
/// is no `.debug_line_str.dwo`): without the binary's, a split unit has no
/// source lines at all. The split file never refers to it otherwise.
fn keep_parent_line_strings(split: &mut gimli::Dwarf<Reader>, parent: &gimli::Dwarf<Reader>) {
    split.debug_line_str = parent.debug_line_str.clone();
}

/// A `dwp` package's index and sections.
fn parse_package(
    bytes: &[u8],
    endian: gimli::RunTimeEndian,
) -> Option<gimli::DwarfPackage<Reader>> {
    let file = object::File::parse(bytes).ok()?;
    if endian_of(&file) != endian {
        return None;
    }
    let empty = gimli::EndianArcSlice::new(Arc::from(&[][..]), endian);
    gimli::DwarfPackage::load(section_loader(&file, endian, true), empty).ok()
}
