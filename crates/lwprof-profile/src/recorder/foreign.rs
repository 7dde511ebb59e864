//! Binaries of processes in another mount namespace (a container): a
//! mapped path that lwprof cannot see, or that holds another file here (its
//! device and inode differ from the MMAP2 record's), is opened while the
//! process lives, through `/proc/PID/map_files/START-END` (the very file
//! mapped) or else `/proc/PID/root/PATH`. The open file is kept until the
//! recording ends, so it can be copied into the build-id cache even after
//! the container and its mounts are gone, and its build id is written into
//! the MMAP2 record (`PERF_RECORD_MISC_MMAP_BUILD_ID`, as `perf record
//! --buildid-mmap` writes it), so reports find the copy by build id.
//!
//! It does not enter namespaces (no `setns`), and it does not look at
//! processes that exited before their MMAP2 record was read.

use lwprof_events::record::{Mmap2FileId, Mmap2Record};
use lwprof_symbols::buildid_cache::Added;
use lwprof_symbols::BuildIdCache;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// At most this many files are held open.
const MAX_OPEN: usize = 256;

/// Offset of `maj` in an MMAP2 record (header, pid, tid, addr, len, pgoff).
const FILE_ID_OFFSET: usize = 40;

/// `PERF_RECORD_MISC_MMAP_BUILD_ID`.
const MISC_MMAP_BUILD_ID: u16 = lwprof_records::abi::misc::MMAP_BUILD_ID;

/// A binary seen only through its process.
#[derive(Debug)]
struct ForeignFile {
    /// The path as recorded.
    path: Vec<u8>,
    file: File,
}

/// The foreign binaries of a recording (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct ForeignBinaries {
    /// Per (path, dev, inode): the build id of a foreign file, `None` for a
    /// file lwprof sees itself (or could not open).
    verdicts: HashMap<(Vec<u8>, u64, u64), Option<Vec<u8>>>,
    /// By build id.
    files: HashMap<Vec<u8>, ForeignFile>,
}

/// `makedev` as glibc computes it from a major and minor number.
fn makedev(maj: u32, min: u32) -> u64 {
    let (maj, min) = (u64::from(maj), u64::from(min));
    ((maj & 0xfff) << 8) | ((maj & !0xfff) << 32) | (min & 0xff) | ((min & !0xff) << 12)
}

/// True when `path` here is not the file `(dev, ino)` the process mapped.
fn not_visible_here(path: &Path, dev: u64, ino: u64) -> bool {
    match std::fs::metadata(path) {
        Ok(m) => m.dev() != dev || m.ino() != ino,
        Err(_) => true,
    }
}

/// The file a process mapped at `start..end`, opened through its `/proc`.
fn open_through_process(pid: u32, start: u64, end: u64, path: &Path) -> Option<File> {
    let map_file = format!("/proc/{pid}/map_files/{start:x}-{end:x}");
    if let Ok(f) = File::open(map_file) {
        return Some(f);
    }
    let relative = path.strip_prefix("/").ok()?;
    File::open(Path::new(&format!("/proc/{pid}/root")).join(relative)).ok()
}

/// The MMAP2 record `record` with its device and inode replaced by a build
/// id (the same 24 bytes), as the kernel writes it for `attr.build_id`.
pub(crate) fn with_build_id(record: &[u8], id: &[u8]) -> Option<Vec<u8>> {
    let mut out = record.to_vec();
    let misc = out.get_mut(4..6)?;
    let bits = u16::from_ne_bytes([misc[0], misc[1]]) | MISC_MMAP_BUILD_ID;
    misc.copy_from_slice(&bits.to_ne_bytes());
    let field = out.get_mut(FILE_ID_OFFSET..FILE_ID_OFFSET + 24)?;
    let len = id.len().min(20);
    field.fill(0);
    field[0] = len as u8;
    field[4..4 + len].copy_from_slice(&id[..len]);
    Some(out)
}

impl ForeignBinaries {
    /// Looks at an MMAP2 record; the build id of its file when the file is
    /// foreign (then the caller writes [`with_build_id`] instead).
    pub(crate) fn mmap2(&mut self, m: &Mmap2Record<'_>) -> Option<Vec<u8>> {
        let Mmap2FileId::Inode { maj, min, ino, .. } = m.file_id else {
            return None;
        };
        let path = m.filename.as_contiguous();
        if !path.starts_with(b"/") || m.is_data {
            return None;
        }
        let dev = makedev(maj, min);
        let key = (path.to_vec(), dev, ino);
        if let Some(v) = self.verdicts.get(&key) {
            return v.clone();
        }
        let verdict = self.examine(m, &path, dev, ino);
        self.verdicts.insert(key, verdict.clone());
        verdict
    }

    fn examine(&mut self, m: &Mmap2Record<'_>, path: &[u8], dev: u64, ino: u64) -> Option<Vec<u8>> {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(path));
        if !not_visible_here(p, dev, ino) {
            return None;
        }
        let end = m.addr.checked_add(m.len)?;
        let mut file = open_through_process(m.pid, m.addr, end, p)?;
        let id = lwprof_symbols::buildid_cache::read_build_id_from(&mut file)?;
        if !self.files.contains_key(&id) && self.files.len() < MAX_OPEN {
            self.files.insert(
                id.clone(),
                ForeignFile {
                    path: path.to_vec(),
                    file,
                },
            );
        }
        Some(id)
    }

    /// (path, build id) of every foreign binary.
    pub(crate) fn build_ids(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.files
            .iter()
            .map(|(id, f)| (f.path.as_slice(), id.as_slice()))
    }

    /// Copies into the cache the foreign binaries whose path `hit` says had
    /// samples; returns how many were added.
    pub(crate) fn cache(&mut self, cache_root: &Path, hit: impl Fn(&[u8]) -> bool) -> usize {
        use std::os::unix::ffi::OsStrExt;
        let cache = BuildIdCache::new(cache_root);
        let mut added = 0;
        for (id, f) in &mut self.files {
            if !hit(&f.path) || f.file.seek(SeekFrom::Start(0)).is_err() {
                continue;
            }
            let name = PathBuf::from(std::ffi::OsStr::from_bytes(&f.path));
            if let Ok(Added::Copied | Added::Linked) = cache.add_from(&name, "elf", &mut f.file, id)
            {
                added += 1;
            }
        }
        added
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makedev_matches_the_device_of_a_mapped_file() {
        assert_eq!(makedev(259, 0x1234), 0x0121_0334);
        // The test binary's own mapping: /proc/self/maps says maj:min in hex.
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        let line = maps
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .nth(5)
                    .is_some_and(|p| p.starts_with('/'))
            })
            .expect("a file mapping");
        let f: Vec<&str> = line.split_whitespace().collect();
        let (maj, min) = f[3].split_once(':').expect("maj:min");
        let maj = u32::from_str_radix(maj, 16).expect("hex");
        let min = u32::from_str_radix(min, 16).expect("hex");
        let meta = std::fs::metadata(f[5]).expect("stat");
        assert_eq!(makedev(maj, min), meta.dev(), "{line}");
        assert!(!not_visible_here(Path::new(f[5]), meta.dev(), meta.ino()));
        assert!(not_visible_here(
            Path::new(f[5]),
            meta.dev(),
            meta.ino() + 1
        ));
    }

    #[test]
    fn a_build_id_replaces_device_and_inode() {
        let mut rec = vec![0u8; 80];
        rec[..4].copy_from_slice(&10u32.to_ne_bytes());
        rec[4..6].copy_from_slice(&2u16.to_ne_bytes());
        rec[FILE_ID_OFFSET..FILE_ID_OFFSET + 24].fill(0xee);
        let out = with_build_id(&rec, &[0xab; 20]).expect("long enough");
        let misc = u16::from_ne_bytes([out[4], out[5]]);
        assert_eq!(misc, 2 | MISC_MMAP_BUILD_ID);
        assert_eq!(out[FILE_ID_OFFSET], 20);
        assert_eq!(&out[FILE_ID_OFFSET + 1..FILE_ID_OFFSET + 4], &[0, 0, 0]);
        assert_eq!(&out[FILE_ID_OFFSET + 4..FILE_ID_OFFSET + 24], &[0xab; 20]);
        assert_eq!(&out[FILE_ID_OFFSET + 24..], &rec[FILE_ID_OFFSET + 24..]);
        assert_eq!(with_build_id(&rec[..50], &[1; 20]), None);
    }
}
