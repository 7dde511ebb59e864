//! The build-id cache: a copy of every binary a recording sampled, kept by
//! build id, so that a report after the binary was rebuilt or upgraded still
//! finds the code that ran.
//!
//! The layout is perf's (`perf buildid-cache`), so perf and lwprof share one
//! cache: `ROOT/<absolute path>/<build id>/elf` holds the file (a hard link
//! when it can be, else a copy) and `ROOT/.build-id/<xx>/<rest of the id>`
//! is a relative symlink to its directory. ROOT is `$PERF_BUILDID_DIR`, else
//! `~/.debug`.
//!
//! This module only stores and finds files; it does not check that a file
//! it is asked to add has the build id it is filed under (the caller read
//! it), nor prune the cache.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::hex;

/// A build-id cache rooted at a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildIdCache {
    root: PathBuf,
}

/// What [`BuildIdCache::add`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// The build id was already in the cache.
    AlreadyThere,
    /// The file was hard-linked into the cache.
    Linked,
    /// The file was copied into the cache.
    Copied,
}

impl BuildIdCache {
    /// A cache rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// perf's default root: `$PERF_BUILDID_DIR`, else `$HOME/.debug`.
    pub fn default_root() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("PERF_BUILDID_DIR").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(d));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".debug"))
    }

    /// The cache at [`BuildIdCache::default_root`].
    pub fn default_cache() -> Option<Self> {
        Self::default_root().map(Self::new)
    }

    /// The cache's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `ROOT/.build-id/xx/yyyy`: the link to the directory of a build id.
    pub fn link_path(&self, build_id: &[u8]) -> Option<PathBuf> {
        let h = hex(build_id);
        (h.len() > 2).then(|| self.root.join(".build-id").join(&h[..2]).join(&h[2..]))
    }

    /// The cached binary with this build id, if the cache has it.
    pub fn find(&self, build_id: &[u8]) -> Option<PathBuf> {
        let elf = self.link_path(build_id)?.join("elf");
        elf.is_file().then_some(elf)
    }

    /// The cached separate debug file of this build id, if the cache has it.
    pub fn find_debug(&self, build_id: &[u8]) -> Option<PathBuf> {
        let debug = self.link_path(build_id)?.join("debug");
        debug.is_file().then_some(debug)
    }

    /// Keeps `debug` (the separate debug file of the binary cached under
    /// `build_id`) beside it, as `debug`, unless it is there already. The
    /// binary must have been added first.
    pub fn add_debug(&self, build_id: &[u8], debug: &Path) -> io::Result<Added> {
        if self.find_debug(build_id).is_some() {
            return Ok(Added::AlreadyThere);
        }
        let dir = self.link_path(build_id).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "build id shorter than 2 bytes")
        })?;
        let target = dir.join("debug");
        match std::fs::hard_link(debug, &target) {
            Ok(()) => Ok(Added::Linked),
            Err(_) => {
                let tmp = dir.join(".debug.tmp");
                std::fs::copy(debug, &tmp)?;
                std::fs::rename(&tmp, &target)?;
                Ok(Added::Copied)
            }
        }
    }

    /// Files `path` (an absolute path whose build id is `build_id`) into the
    /// cache, unless that build id is there already.
    pub fn add(&self, path: &Path, build_id: &[u8]) -> io::Result<Added> {
        if self.find(build_id).is_some() {
            return Ok(Added::AlreadyThere);
        }
        let link = self.link_path(build_id).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "build id shorter than 2 bytes")
        })?;
        let relative = path
            .strip_prefix("/")
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "not an absolute path"))?;
        let dir = self.root.join(relative).join(hex(build_id));
        std::fs::create_dir_all(&dir)?;
        let elf = dir.join("elf");
        // A leftover from an interrupted add is replaced.
        let _ = std::fs::remove_file(&elf);
        let added = match std::fs::hard_link(path, &elf) {
            Ok(()) => Added::Linked,
            Err(_) => {
                let tmp = dir.join(".elf.tmp");
                std::fs::copy(path, &tmp)?;
                std::fs::rename(&tmp, &elf)?;
                Added::Copied
            }
        };
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // `../../<path>/<build id>`, relative as perf writes it, so the cache
        // can be moved as a whole.
        let target = Path::new("../..").join(relative).join(hex(build_id));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link)?;
        Ok(added)
    }
}

/// The GNU build id of an ELF file, read from its PT_NOTE segments only (a
/// few hundred bytes, not the whole file: recording stays fast to finish).
pub fn read_build_id(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).ok()?;
    let mut eh = [0u8; 64];
    f.read_exact(&mut eh).ok()?;
    // 64-bit little-endian ELF only (the machines lwprof records on).
    if &eh[..4] != b"\x7fELF" || eh[4] != 2 || eh[5] != 1 {
        return None;
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or([0; 4]));
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let phoff = u64_at(&eh, 32);
    let phentsize = u16_at(&eh, 54) as usize;
    let phnum = u16_at(&eh, 56) as usize;
    if phentsize < 56 || phnum > 256 {
        return None;
    }
    let mut ph = vec![0u8; phentsize * phnum];
    f.seek(SeekFrom::Start(phoff)).ok()?;
    f.read_exact(&mut ph).ok()?;
    for i in 0..phnum {
        let e = &ph[i * phentsize..];
        if u32_at(e, 0) != 4 {
            continue; // not PT_NOTE
        }
        let (off, size) = (u64_at(e, 8), u64_at(e, 32).min(1 << 16));
        let mut notes = vec![0u8; size as usize];
        f.seek(SeekFrom::Start(off)).ok()?;
        f.read_exact(&mut notes).ok()?;
        if let Some(mut id) = super::build_id_from_notes(&notes) {
            // perf.data's BUILD_ID entries hold at most 20 bytes.
            id.truncate(20);
            return Some(id);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_files_are_found_by_build_id_in_perfs_layout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("prog");
        std::fs::write(&bin, b"old code").expect("write");
        let cache = BuildIdCache::new(dir.path().join("debug"));
        let id = [0xab, 0xcd, 0xef, 0x01];
        assert_eq!(cache.find(&id), None);
        assert_eq!(cache.add(&bin, &id).expect("add"), Added::Linked);
        assert_eq!(
            cache.add(&bin, &id).expect("add again"),
            Added::AlreadyThere
        );
        // The binary is rebuilt in place (a new file at the same path).
        std::fs::remove_file(&bin).expect("rm");
        std::fs::write(&bin, b"new code").expect("rewrite");
        let found = cache.find(&id).expect("cached");
        assert_eq!(std::fs::read(&found).expect("read"), b"old code");
        let link = dir.path().join("debug/.build-id/ab/cdef01");
        let target = std::fs::read_link(&link).expect("symlink");
        let rel = bin.strip_prefix("/").expect("absolute");
        assert_eq!(target, Path::new("../..").join(rel).join("abcdef01"));
        assert!(cache.add(Path::new("relative"), &[1, 2, 3]).is_err());
    }
}
