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
        self.find_named(build_id, "elf")
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
        let dir = self.entry_dir(path, build_id)?;
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
        self.link(path, build_id)?;
        Ok(added)
    }

    /// Files the bytes `read` gives (a binary read through
    /// `/proc/PID/map_files`, or a vDSO image) as `NAME/<build id>/FILE`,
    /// where NAME is the recorded path (`/usr/bin/app`, `[vdso]`) and FILE
    /// perf's name for it (`elf`, or `vdso` for a vDSO), unless that build
    /// id is there already.
    pub fn add_from(
        &self,
        name: &Path,
        file: &str,
        read: &mut impl io::Read,
        build_id: &[u8],
    ) -> io::Result<Added> {
        if self.find_named(build_id, file).is_some() {
            return Ok(Added::AlreadyThere);
        }
        let dir = self.entry_dir(name, build_id)?;
        let tmp = dir.join(format!(".{file}.tmp"));
        let mut out = File::create(&tmp)?;
        io::copy(read, &mut out)?;
        out.sync_all()?;
        std::fs::rename(&tmp, dir.join(file))?;
        self.link(name, build_id)?;
        Ok(Added::Copied)
    }

    /// The cached file `FILE` (`elf`, `vdso`) with this build id, if the
    /// cache has it.
    pub fn find_named(&self, build_id: &[u8], file: &str) -> Option<PathBuf> {
        let found = self.link_path(build_id)?.join(file);
        found.is_file().then_some(found)
    }

    /// `ROOT/<name without its leading slash>/<build id>`, created.
    fn entry_dir(&self, name: &Path, build_id: &[u8]) -> io::Result<PathBuf> {
        if hex(build_id).len() <= 2 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "build id shorter than 2 bytes",
            ));
        }
        let relative = relative_name(name)?;
        let dir = self.root.join(relative).join(hex(build_id));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// `ROOT/.build-id/xx/yyyy` -> `../../<name>/<build id>`, relative as
    /// perf writes it, so the cache can be moved as a whole.
    fn link(&self, name: &Path, build_id: &[u8]) -> io::Result<()> {
        let link = self.link_path(build_id).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "build id shorter than 2 bytes")
        })?;
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let target = Path::new("../..")
            .join(relative_name(name)?)
            .join(hex(build_id));
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, &link)
    }
}

/// A recorded name as a path under the cache root: an absolute path without
/// its `/`, or a kernel pseudo name such as `[vdso]` as it is.
fn relative_name(name: &Path) -> io::Result<&Path> {
    if let Ok(r) = name.strip_prefix("/") {
        return Ok(r);
    }
    let pseudo = name
        .to_str()
        .is_some_and(|n| n.starts_with('[') && n.ends_with(']') && !n.contains('/'));
    if pseudo {
        Ok(name)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not an absolute path",
        ))
    }
}

/// The GNU build id of an ELF file, read from its PT_NOTE segments only (a
/// few hundred bytes, not the whole file: recording stays fast to finish).
pub fn read_build_id(path: &std::path::Path) -> Option<Vec<u8>> {
    read_build_id_from(&mut File::open(path).ok()?)
}

/// [`read_build_id`] of an open file (one opened through
/// `/proc/PID/map_files`, say); reads from the start whatever the position.
pub fn read_build_id_from(f: &mut File) -> Option<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    f.seek(SeekFrom::Start(0)).ok()?;
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

    #[test]
    fn a_vdso_image_is_kept_as_perf_keeps_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = BuildIdCache::new(dir.path());
        let id = [0xc0, 0x0c, 0x1c, 0xc9];
        let image = b"\x7fELF image".to_vec();
        let add = |bytes: &[u8]| cache.add_from(Path::new("[vdso]"), "vdso", &mut &bytes[..], &id);
        assert_eq!(add(&image).expect("add"), Added::Copied);
        assert_eq!(add(b"other").expect("again"), Added::AlreadyThere);
        let kept = dir.path().join("[vdso]/c00c1cc9/vdso");
        assert_eq!(std::fs::read(&kept).expect("kept"), image);
        assert_eq!(
            cache.find_named(&id, "vdso"),
            Some(dir.path().join(".build-id/c0/0c1cc9/vdso"))
        );
        assert_eq!(cache.find(&id), None, "not an `elf` entry");
        let link = std::fs::read_link(dir.path().join(".build-id/c0/0c1cc9")).expect("link");
        assert_eq!(link, Path::new("../../[vdso]/c00c1cc9"));
        // A name that is neither absolute nor a pseudo name is refused.
        let err = cache.add_from(Path::new("../x"), "elf", &mut &image[..], &[1, 2, 3]);
        assert!(err.is_err());
    }
}
