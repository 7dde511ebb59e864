//! MiniDebugInfo: the `.gnu_debugdata` section of a stripped binary (Fedora
//! and its relatives ship them), an xz-compressed ELF file whose `.symtab`
//! holds the local functions that `.dynsym` lacks.
//!
//! [`symbols_of_binary`] finds the section in a binary's bytes and
//! [`symbols_of_section`] decompresses it (pure-Rust, streaming xz:
//! `lzma-rust2`), up to a limit ([`MAX_DECOMPRESSED`] for real use), and parses the inner file's symbols with
//! [`ElfSymbols::parse`]. The inner file has no code, so its symbols'
//! addresses are the binary's linked addresses: merge them with
//! [`ElfSymbols::merge_symbols`]. No I/O here, and nothing but symbols:
//! MiniDebugInfo carries no DWARF, and its own segments and build id (if
//! any) are not used.

use object::{Object, ObjectSection};

use crate::elf::ElfSymbols;

/// The most bytes a `.gnu_debugdata` section may decompress to. Real ones
/// hold a symbol table and section headers, a few MiB for the largest
/// binaries; more is damage, or a bomb.
pub const MAX_DECOMPRESSED: usize = 64 << 20;

/// Why a `.gnu_debugdata` section could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MiniDebugInfoError {
    /// The binary itself is not ELF (or is damaged).
    #[error("the binary is not a usable ELF file ({0})")]
    Binary(object::Error),
    /// The section's contents cannot be read (compressed or out of bounds).
    #[error("the .gnu_debugdata section cannot be read ({0})")]
    Section(object::Error),
    /// The section is not valid xz data.
    #[error("the .gnu_debugdata section is not valid xz data ({0})")]
    Xz(String),
    /// The section's xz stream asks for a dictionary larger than the limit
    /// allows (a dictionary need not be larger than the output).
    #[error("the .gnu_debugdata section needs a dictionary over {limit_kib} KiB")]
    DictionaryTooLarge {
        /// The largest dictionary (and decoder state) allowed, in KiB.
        limit_kib: u32,
    },
    /// The section decompresses to more than the limit.
    #[error("the .gnu_debugdata section decompresses to more than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The decompressed data is not ELF.
    #[error("the decompressed .gnu_debugdata is not an ELF file ({0})")]
    InnerElf(object::Error),
}

/// The symbols of a binary's MiniDebugInfo, decompressing at most `limit`
/// bytes; `Ok(None)` when it has no `.gnu_debugdata` section.
pub fn symbols_of_binary(
    binary: &[u8],
    limit: usize,
) -> Result<Option<ElfSymbols>, MiniDebugInfoError> {
    let file = object::File::parse(binary).map_err(MiniDebugInfoError::Binary)?;
    let Some(section) = file.section_by_name(".gnu_debugdata") else {
        return Ok(None);
    };
    let xz = section.data().map_err(MiniDebugInfoError::Section)?;
    symbols_of_section(xz, limit).map(Some)
}

/// The symbols of the ELF file compressed in a `.gnu_debugdata` section's
/// bytes, decompressing at most `limit` bytes.
pub fn symbols_of_section(xz: &[u8], limit: usize) -> Result<ElfSymbols, MiniDebugInfoError> {
    let inner = decompress(xz, limit)?;
    ElfSymbols::parse(&inner).map_err(MiniDebugInfoError::InnerElf)
}

/// Decompress xz data, failing once the output passes `limit` bytes. The
/// decoder streams, and refuses a dictionary larger than the limit (plus
/// 1 MiB) before allocating it, so memory stays within twice the limit
/// whatever the input claims.
fn decompress(xz: &[u8], limit: usize) -> Result<Vec<u8>, MiniDebugInfoError> {
    use std::io::Read;
    // The decoder's state beyond the dictionary is under 1 MiB.
    let limit_kib = u32::try_from(limit / 1024 + 1024).unwrap_or(u32::MAX);
    let reader = lzma_rust2::XzReader::new_mem_limit(xz, false, limit_kib);
    let mut out = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::OutOfMemory => MiniDebugInfoError::DictionaryTooLarge { limit_kib },
            _ => MiniDebugInfoError::Xz(e.to_string()),
        })?;
    if out.len() > limit {
        return Err(MiniDebugInfoError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_and_empty_sections_are_errors_not_panics() {
        assert!(matches!(
            symbols_of_section(b"", MAX_DECOMPRESSED),
            Err(MiniDebugInfoError::Xz(_))
        ));
        assert!(matches!(
            symbols_of_section(b"\xfd7zXZ\0garbage", MAX_DECOMPRESSED),
            Err(MiniDebugInfoError::Xz(_))
        ));
        assert!(matches!(
            symbols_of_binary(b"not elf", MAX_DECOMPRESSED),
            Err(MiniDebugInfoError::Binary(_))
        ));
    }

    #[test]
    fn output_past_the_limit_is_refused() {
        // `head -c 100000 /dev/zero | xz --lzma2=preset=9,dict=64KiB`.
        let xz = include_bytes!("../tests/data/zeros-100000.xz");
        let all = decompress(xz, 100_000).expect("within the limit");
        assert_eq!(all.len(), 100_000);
        assert!(all.iter().all(|&b| b == 0));
        assert!(matches!(
            decompress(xz, 99_999),
            Err(MiniDebugInfoError::TooLarge { limit: 99_999 })
        ));
        assert!(matches!(
            symbols_of_section(xz, MAX_DECOMPRESSED),
            Err(MiniDebugInfoError::InnerElf(_))
        ));
    }

    #[test]
    fn a_dictionary_larger_than_the_limit_allows_is_refused() {
        // `head -c 100000 /dev/zero | xz -9`: a 64 MiB dictionary, which
        // MAX_DECOMPRESSED allows and a 100 kB limit does not.
        let xz = include_bytes!("../tests/data/zeros-100000-dict64m.xz");
        assert_eq!(
            decompress(xz, MAX_DECOMPRESSED).map(|v| v.len()).ok(),
            Some(100_000)
        );
        assert!(matches!(
            decompress(xz, 100_000),
            Err(MiniDebugInfoError::DictionaryTooLarge { limit_kib: 1121 })
        ));
    }
}
