//! Symbol cache files: where an entry lives (`DIR/HEX.v1`, one per build id;
//! `DIR/HEX.nodwarf.v1` for reports without DWARF, whose symbol tables can
//! differ), how it is written (a temp file in the same directory, then
//! rename(2): readers and concurrent writers see a whole file or none; a file
//! is never modified in place) and read (memory-mapped with
//! [`lwprof_events::mapped::MappedFile`], checked by [`super::Layout`]).
//!
//! A file that fails the checks is ignored, and the next load replaces it.
//! Writing is best effort: a failure costs the next report only speed.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use lwprof_events::mapped::MappedFile;

use super::{Layout, SymbolCacheView};
use crate::demangle::DemangleOptions;
use crate::dso::{assemble_frames, DsoSymbols};
use crate::kallsyms::MAX_SYMBOL_SPAN;
use crate::{hex, KernelSymbols, ResolvedFrame};

/// A symbol cache directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolCache {
    dir: PathBuf,
}

impl SymbolCache {
    /// The cache in `dir` (created when the first entry is written).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The file of a build id's entry.
    pub fn entry_path(&self, build_id: &[u8], dwarf: bool) -> PathBuf {
        let kind = if dwarf { "" } else { ".nodwarf" };
        self.dir
            .join(format!("{}{kind}.v{}", hex(build_id), super::VERSION))
    }

    /// The entry of a build id, when there is a whole, valid one for it.
    ///
    /// An entry whose load found no separate debug file is not used when
    /// `debug_file_now` says there is one for the build id now (installed or
    /// fetched since).
    pub fn open(
        &self,
        build_id: &[u8],
        dwarf: bool,
        debug_file_now: impl FnOnce() -> bool,
    ) -> Option<CachedDso> {
        let map = MappedFile::open(&self.entry_path(build_id, dwarf)).ok()?;
        let layout = Layout::parse(map.bytes()).ok()?;
        let view = SymbolCacheView::with_layout(map.bytes(), layout);
        if view.build_id() != build_id {
            return None;
        }
        if view.lacks_debug_file() && debug_file_now() {
            return None;
        }
        Some(CachedDso {
            map,
            layout,
            cache: HashMap::new(),
        })
    }

    /// Write an entry: to a temp file in the directory, renamed into place.
    pub fn write(&self, build_id: &[u8], dwarf: bool, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.entry_path(build_id, dwarf);
        self.write_to(&path, bytes)?;
        Ok(path)
    }

    fn write_to(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let temp = self
            .dir
            .join(format!(".{name}.tmp.{}.{nanos}", std::process::id()));
        let written = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            f.write_all(bytes)?;
            std::fs::rename(&temp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written
    }

    /// Build and write the entry of a loaded DSO, then map it: the mapped
    /// entry answers as the DSO does, from less memory. `None` when it could
    /// not be built or written (the DSO is then used as loaded).
    /// `no_debug_file`: the load looked for a separate debug file and found
    /// none.
    pub fn store(
        &self,
        build_id: &[u8],
        dwarf: bool,
        dso: &DsoSymbols,
        no_debug_file: bool,
    ) -> Option<CachedDso> {
        let mut bytes = super::build(build_id, dso.elf(), dso.dwarf()).ok()?;
        if no_debug_file {
            super::build::mark_no_debug_file(&mut bytes);
        }
        self.write(build_id, dwarf, &bytes).ok()?;
        self.open(build_id, dwarf, || false)
    }
}

impl SymbolCache {
    /// The file of the running kernel's kallsyms entry (`key` is
    /// [`crate::kallsyms::running_kernel_cache_name`]).
    pub fn kernel_entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.v{}", super::VERSION))
    }

    /// The kallsyms entry for `key`, when there is a whole, valid one.
    pub fn open_kernel(&self, key: &str) -> Option<CachedKernelSymbols> {
        let map = MappedFile::open(&self.kernel_entry_path(key)).ok()?;
        let layout = Layout::parse(map.bytes()).ok()?;
        (SymbolCacheView::with_layout(map.bytes(), layout).build_id() == key.as_bytes())
            .then_some(CachedKernelSymbols { map, layout })
    }

    /// Write the kallsyms entry for `key` and map it; `None` when it could
    /// not be built or written.
    pub fn store_kernel(&self, key: &str, kernel: &KernelSymbols) -> Option<CachedKernelSymbols> {
        let bytes = super::build::build_kernel(key.as_bytes(), kernel).ok()?;
        let path = self.kernel_entry_path(key);
        self.write_to(&path, &bytes).ok()?;
        self.open_kernel(key)
    }
}

/// The running kernel's code symbols from a mapped kallsyms entry; looks up
/// as [`KernelSymbols::lookup`] does.
#[derive(Debug)]
pub struct CachedKernelSymbols {
    map: MappedFile,
    layout: Layout,
}

impl CachedKernelSymbols {
    /// The symbol an address is in: start, name and module.
    pub fn lookup(&self, address: u64) -> Option<(u64, String, Option<String>)> {
        let view = SymbolCacheView::with_layout(self.map.bytes(), self.layout);
        let (start, name, module) = view.nearest_symbol(address)?;
        (address - start < MAX_SYMBOL_SPAN).then(|| {
            (
                start,
                name.into_owned(),
                module.map(std::borrow::Cow::into_owned),
            )
        })
    }
}

/// One DSO's symbols from a mapped cache entry, with a per-address cache of
/// the frames found; answers as [`DsoSymbols`] does.
#[derive(Debug)]
pub struct CachedDso {
    map: MappedFile,
    layout: Layout,
    cache: HashMap<u64, Vec<ResolvedFrame>>,
}

impl CachedDso {
    /// The entry's lookups.
    pub fn view(&self) -> SymbolCacheView<'_> {
        SymbolCacheView::with_layout(self.map.bytes(), self.layout)
    }

    /// Frames (innermost first) at a file offset, as
    /// [`DsoSymbols::resolve_file_offset`].
    pub fn resolve_file_offset(
        &mut self,
        file_offset: u64,
        opts: DemangleOptions,
    ) -> Vec<ResolvedFrame> {
        match self.view().file_offset_to_address(file_offset) {
            Some(address) => self.resolve_address(address, opts),
            None => Vec::new(),
        }
    }

    /// Frames (innermost first) at an address as the file was linked, as
    /// [`DsoSymbols::resolve_address`].
    pub fn resolve_address(&mut self, address: u64, opts: DemangleOptions) -> Vec<ResolvedFrame> {
        if let Some(hit) = self.cache.get(&address) {
            return hit.clone();
        }
        let view = self.view();
        let frames = assemble_frames(
            address,
            view.symbol_at(address),
            view.frames(address, opts),
            || view.location(address),
            opts,
        );
        self.cache.insert(address, frames.clone());
        frames
    }
}

/// A DSO as the symbolizer holds it: parsed from its files, or from the cache.
#[derive(Debug)]
pub(crate) enum LoadedDso {
    /// Read and parsed.
    Parsed(Box<DsoSymbols>),
    /// Mapped from the symbol cache.
    Cached(CachedDso),
}

impl LoadedDso {
    /// Frames (innermost first) at a file offset.
    pub(crate) fn resolve_file_offset(
        &mut self,
        file_offset: u64,
        opts: DemangleOptions,
    ) -> Vec<ResolvedFrame> {
        match self {
            Self::Parsed(d) => d.resolve_file_offset(file_offset, opts),
            Self::Cached(c) => c.resolve_file_offset(file_offset, opts),
        }
    }

    /// The `.dwo` files that look-ups needed and could not use, since the
    /// last call (entries are never built from split DWARF: none).
    pub(crate) fn take_split_dwarf_misses(&self) -> Vec<crate::SplitDwarfMiss> {
        match self {
            Self::Parsed(d) => d.take_split_dwarf_misses(),
            Self::Cached(_) => Vec::new(),
        }
    }
}

/// The cache directory's entries (for tests and tools): paths of `*.vN`.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == format!("v{}", super::VERSION).as_str())
        })
        .collect();
    out.sort();
    out
}
