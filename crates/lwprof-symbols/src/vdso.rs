//! The vDSO: the small ELF image the kernel maps into every process as
//! `[vdso]` (`clock_gettime`, `gettimeofday`, ...). Its `.dynsym` names its
//! functions, and its file offsets are its mapping offsets (it is mapped
//! whole, at pgoff 0), so it is symbolized as any ELF file once its bytes
//! are at hand.
//!
//! Parsing here takes text and bytes: [`vdso_range`] finds the mapping in
//! `/proc/PID/maps` text and [`VdsoImage::parse`] checks an image and reads
//! its build id. [`read_running`] is the one function that reads `/proc`
//! (maps, then the bytes through `/proc/PID/mem` with `pread`, no `unsafe`).
//! This module does not keep images: the build-id cache does
//! ([`super::BuildIdCache::add_from`], perf's `[vdso]/ID/vdso` layout).

use crate::elf::ElfSymbols;

/// The name the kernel and perf give the vDSO mapping and DSO.
pub const VDSO_NAME: &str = "[vdso]";

/// The file name perf gives a vDSO image in its build-id cache
/// (`~/.debug/[vdso]/BUILDID/vdso`).
pub const VDSO_CACHE_FILE: &str = "vdso";

/// A vDSO image is a few pages; anything larger is not one.
const MAX_IMAGE: u64 = 1 << 20;

/// Why bytes are not a usable vDSO image.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VdsoError {
    /// The bytes do not start as an ELF file does.
    #[error("the [vdso] bytes are not an ELF image")]
    NotElf,
    /// The ELF image could not be parsed.
    #[error("the [vdso] image is damaged ({0})")]
    Damaged(String),
}

/// A vDSO image, checked, with its build id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VdsoImage {
    bytes: Vec<u8>,
    build_id: Option<Vec<u8>>,
}

impl VdsoImage {
    /// Checks that `bytes` (the whole `[vdso]` mapping) is an ELF image and
    /// reads its GNU build id (at most 20 bytes, as perf.data keeps them).
    pub fn parse(bytes: Vec<u8>) -> Result<Self, VdsoError> {
        if !bytes.starts_with(b"\x7fELF") {
            return Err(VdsoError::NotElf);
        }
        let elf = ElfSymbols::parse(&bytes).map_err(|e| VdsoError::Damaged(e.to_string()))?;
        let build_id = elf.build_id.map(|mut id| {
            id.truncate(20);
            id
        });
        Ok(Self { bytes, build_id })
    }

    /// The image's bytes (an ELF file).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The image's GNU build id, if it has one.
    pub fn build_id(&self) -> Option<&[u8]> {
        self.build_id.as_deref()
    }
}

/// The address range (start, end) of the `[vdso]` line of `/proc/PID/maps`
/// text; `None` when there is none, or it is not a plausible image size.
pub fn vdso_range(maps: &str) -> Option<(u64, u64)> {
    let line = maps
        .lines()
        .find(|l| l.split_whitespace().nth(5) == Some(VDSO_NAME))?;
    let range = line.split_whitespace().next()?;
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    (end > start && end - start <= MAX_IMAGE).then_some((start, end))
}

/// The vDSO image of a running process (`None`: this process), read from
/// `/proc/PID/maps` and `/proc/PID/mem`. Every process of one boot and one
/// ABI has the same image, so lwprof's own is the one its 64-bit targets
/// ran. `None` when the process has no vDSO or `/proc` cannot be read.
pub fn read_running(pid: Option<u32>) -> Option<VdsoImage> {
    use std::os::unix::fs::FileExt;
    let proc_dir = match pid {
        Some(p) => format!("/proc/{p}"),
        None => "/proc/self".to_string(),
    };
    let maps = std::fs::read_to_string(format!("{proc_dir}/maps")).ok()?;
    let (start, end) = vdso_range(&maps)?;
    let mem = std::fs::File::open(format!("{proc_dir}/mem")).ok()?;
    let mut bytes = vec![0u8; (end - start) as usize];
    mem.read_exact_at(&mut bytes, start).ok()?;
    VdsoImage::parse(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vdso_line_of_maps_gives_its_range() {
        let maps = "55d0c0000000-55d0c0001000 r-xp 00001000 08:01 42  /usr/bin/cat\n\
                    7ffd1e7f1000-7ffd1e7f5000 r--p 00000000 00:00 0    [vvar]\n\
                    7ffd1e7f5000-7ffd1e7f7000 r-xp 00000000 00:00 0    [vdso]\n";
        assert_eq!(vdso_range(maps), Some((0x7ffd1e7f5000, 0x7ffd1e7f7000)));
        assert_eq!(vdso_range("7f00-7e00 r-xp 0 00:00 0 [vdso]\n"), None);
        assert_eq!(
            vdso_range("1000-2000 r-xp 0 00:00 0 /tmp/[vdso]\n"),
            None,
            "a file named so is not the vDSO"
        );
        assert_eq!(vdso_range(""), None);
    }

    #[test]
    fn bytes_that_are_not_elf_are_refused() {
        assert_eq!(
            VdsoImage::parse(vec![0; 8192]).err(),
            Some(VdsoError::NotElf)
        );
        assert!(matches!(
            VdsoImage::parse(b"\x7fELF\x02\x01\x01".to_vec()),
            Err(VdsoError::Damaged(_))
        ));
    }

    #[test]
    fn the_running_vdso_names_clock_gettime() {
        // x86-64 and arm64 Linux map a vDSO into every process.
        let image = read_running(None).expect("a [vdso] in /proc/self/maps");
        assert!(image.build_id().is_some_and(|id| !id.is_empty()));
        let elf = ElfSymbols::parse(image.bytes()).expect("ELF");
        let names: Vec<&str> = elf.symbols().iter().map(|s| s.name.as_str()).collect();
        assert!(
            names.iter().any(|n| n.ends_with("clock_gettime")),
            "{names:?}"
        );
        // File offsets are addresses: the image is linked at 0, mapped whole.
        let sym = elf
            .symbols()
            .iter()
            .find(|s| s.name.ends_with("clock_gettime"))
            .expect("symbol");
        assert_eq!(elf.file_offset_to_address(sym.address), Some(sym.address));
    }
}
