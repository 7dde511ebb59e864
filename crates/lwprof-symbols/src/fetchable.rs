//! What a DSO lacks on this machine that a fetcher (debuginfod) could bring:
//! its binary (gone, or rebuilt since recording) or, for a stripped binary,
//! a separate debug file. And where fetched files are read from: the
//! debuginfod client cache, in elfutils' layout (`CACHE/HEX/debuginfo`,
//! `CACHE/HEX/executable`; an empty file there is elfutils' record of a
//! failed fetch, not a file).
//!
//! It only looks: it reads build-id notes and section headers, never a whole
//! file, and fetches nothing (the network is `lwprof-debuginfod`'s, asked by
//! the CLI). It keeps no state and warns about nothing: the symbolizer warns
//! when it loads the DSO.

use crate::{debug_file_candidates, hex, read_build_id, BuildIdCache, DebugFileSource, Symbolizer};
use object::Object;
use std::path::{Path, PathBuf};

/// The debuginfod cache's `CACHE/HEX/ARTIFACT` (`debuginfo` or
/// `executable`) when it holds a file: not when it is missing or is an
/// empty negative-cache entry.
pub fn debuginfod_file(cache: &Path, build_id: &[u8], artifact: &str) -> Option<PathBuf> {
    if build_id.is_empty() {
        return None;
    }
    let path = cache.join(hex(build_id)).join(artifact);
    let meta = std::fs::metadata(&path).ok()?;
    (meta.is_file() && meta.len() > 0).then_some(path)
}

/// What a DSO lacks here, as [`Symbolizer::missing_files`] finds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MissingFiles {
    /// No file with the recorded build id: not at the recorded path, not in
    /// the build-id cache, not in the debuginfod cache.
    pub executable: bool,
    /// The binary is stripped (no `.symtab`) or missing, and no separate
    /// debug file with its build id was found.
    pub debuginfo: bool,
}

impl MissingFiles {
    /// Whether anything is missing.
    pub fn any(&self) -> bool {
        self.executable || self.debuginfo
    }
}

/// Whether an ELF file has a `.symtab`, and its `.gnu_debuglink` name; read
/// through a cache of the ranges `object` asks for (headers only).
fn sections(path: &Path) -> Option<(bool, Option<String>)> {
    let file = std::fs::File::open(path).ok()?;
    let cache = object::ReadCache::new(file);
    let elf = object::File::parse(&cache).ok()?;
    let link = elf
        .gnu_debuglink()
        .ok()
        .flatten()
        .map(|(name, _)| String::from_utf8_lossy(name).into_owned());
    Some((elf.section_by_name(".symtab").is_some(), link))
}

fn has_build_id(path: &Path, build_id: &[u8]) -> bool {
    read_build_id(path).as_deref() == Some(build_id)
}

impl Symbolizer {
    /// What the DSO recorded at `path` with `build_id` lacks on this
    /// machine: so that a caller that can fetch files by build id knows what
    /// to fetch before symbolizing. Nothing is missing when the binary with
    /// that build id is found and has a `.symtab`, or a debug file with that
    /// build id is found (the candidates the symbolizer reads, the build-id
    /// cache and the debuginfod cache).
    pub fn missing_files(&self, path: &str, build_id: &[u8]) -> MissingFiles {
        let config = self.config();
        let real = self.real_path(path);
        // A file without a build id cannot be checked: the symbolizer trusts
        // the path, and so does this.
        let at_path = real.is_file()
            && read_build_id(&real).is_none_or(|found| found == build_id)
            && sections(&real).is_some();
        let binary = if at_path {
            Some(real.clone())
        } else {
            let cached = config
                .build_id_cache
                .as_ref()
                .and_then(|root| BuildIdCache::new(root.clone()).find(build_id));
            cached
                .or_else(|| {
                    config
                        .debuginfod_cache
                        .as_deref()
                        .and_then(|c| debuginfod_file(c, build_id, "executable"))
                })
                .filter(|p| has_build_id(p, build_id))
        };
        let found = binary.as_deref().and_then(sections);
        if let Some((true, _)) = found {
            return MissingFiles::default();
        }
        let link = found.and_then(|(_, link)| link);
        let mut debug =
            debug_file_candidates(&real, Some(build_id), link.as_deref(), &config.debug_roots);
        if let Some(root) = &config.build_id_cache {
            let found = BuildIdCache::new(root.clone()).find_debug(build_id);
            debug.extend(found.map(|p| (p, DebugFileSource::BuildId)));
        }
        if let Some(cache) = &config.debuginfod_cache {
            let found = debuginfod_file(cache, build_id, "debuginfo");
            debug.extend(found.map(|p| (p, DebugFileSource::BuildId)));
        }
        // A debuglink target without a build id is checked by CRC when it
        // is loaded; here it counts as found.
        let debug_found = debug.iter().any(|(p, source)| {
            p.is_file()
                && match read_build_id(p) {
                    Some(found) => found == build_id,
                    None => *source == DebugFileSource::DebugLink,
                }
        });
        MissingFiles {
            executable: binary.is_none(),
            debuginfo: !debug_found,
        }
    }
}
