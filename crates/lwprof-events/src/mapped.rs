//! A read-only memory mapping of a whole file ([`MappedFile`]), for the
//! caches other crates read in place (lwprof-symbols' symbol cache) without
//! `unsafe` of their own.
//!
//! It maps private and read-only, and gives out the bytes as a `&[u8]`. It
//! does not write, lock or watch the file; whoever reads the bytes must
//! parse them as untrusted input (bounds-checked), since a file can hold
//! anything.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::ptr::NonNull;

/// A file's bytes, mapped read-only (`PROT_READ`, `MAP_PRIVATE`) and unmapped
/// on drop. An empty file maps to an empty slice (mmap(2) refuses length 0).
#[derive(Debug)]
pub struct MappedFile {
    /// `None` for an empty file.
    ptr: Option<NonNull<u8>>,
    len: usize,
}

// SAFETY: the mapping is read-only memory owned by this value; any thread
// may read it, and only `Drop` (with `&mut self`) unmaps it.
unsafe impl Send for MappedFile {}
// SAFETY: as above: shared access is reads only.
unsafe impl Sync for MappedFile {}

impl MappedFile {
    /// Map the whole file at `path` as it is now.
    ///
    /// Use it only for files that are replaced by `rename(2)` and never
    /// written or truncated in place (see the SAFETY note in the body).
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| io::Error::other("file larger than the address space"))?;
        if len == 0 {
            return Ok(Self { ptr: None, len: 0 });
        }
        // SAFETY: a fresh read-only private mapping at an address of the
        // kernel's choosing; no existing memory is affected. The fd may be
        // closed afterwards: the mapping keeps its own reference to the file.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        match NonNull::new(p.cast::<u8>()) {
            Some(ptr) => Ok(Self {
                ptr: Some(ptr),
                len,
            }),
            None => {
                // SAFETY: the mapping was just made and nothing refers to it.
                unsafe { libc::munmap(p, len) };
                Err(io::Error::other("mmap placed the file at address 0"))
            }
        }
    }

    /// The mapped bytes.
    pub fn bytes(&self) -> &[u8] {
        match self.ptr {
            // SAFETY: `ptr..ptr+len` is a live read-only mapping owned by
            // self, unmapped only in Drop, so it outlives the borrow. The
            // bytes stay valid and unchanging because lwprof only ever
            // replaces the files it maps by rename(2) (the old inode stays
            // mapped, with its old contents) and never writes or truncates
            // them in place; MAP_PRIVATE also keeps our view from writes
            // through other mappings. What remains: a foreign process that
            // truncates the file would make reads past the new end fault
            // (SIGBUS), and one that writes it in place could change bytes
            // under a reader, who parses them bounds-checked as untrusted
            // input anyway.
            Some(ptr) => unsafe { std::slice::from_raw_parts(ptr.as_ptr(), self.len) },
            None => &[],
        }
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        if let Some(ptr) = self.ptr {
            // SAFETY: we own this mapping and every borrow of its bytes (tied
            // to &self) has ended.
            unsafe { libc::munmap(ptr.as_ptr().cast(), self.len) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_file_and_an_empty_one() {
        let dir = std::env::temp_dir().join(format!("lwprof-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let full = dir.join("full");
        std::fs::write(&full, b"hello mapping").expect("write");
        let m = MappedFile::open(&full).expect("map");
        assert_eq!(m.bytes(), b"hello mapping");
        assert_eq!(m.len(), 13);
        // Replacing the file by rename leaves the mapping's bytes alone.
        let new = dir.join("new");
        std::fs::write(&new, b"other").expect("write");
        std::fs::rename(&new, &full).expect("rename");
        assert_eq!(m.bytes(), b"hello mapping");
        let empty = dir.join("empty");
        std::fs::write(&empty, b"").expect("write");
        let e = MappedFile::open(&empty).expect("map empty");
        assert!(e.is_empty() && e.bytes().is_empty());
        assert!(MappedFile::open(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
