#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

//! # Modules
//!
//! - [`elf`]: `.symtab`/`.dynsym` symbols and labels sized as perf sizes
//!   them, synthesized PLT stubs (`memcpy@plt`), `PT_LOAD` segments (file
//!   offset to linked address, for PIE and shared objects), build id,
//!   debuglink;
//! - [`dwarf`]: line tables and inline frames (`addr2line`/gimli), with
//!   split DWARF (`.dwo` files, `dwp` packages) read through a reader the
//!   caller supplies;
//! - [`minidebuginfo`]: a stripped binary's `.gnu_debugdata` (Fedora's
//!   MiniDebugInfo, xz-compressed symbols of its local functions);
//! - [`DsoSymbols`]: one file's symbols and DWARF together, from bytes (the
//!   lookups the symbolizer makes, without its file reading);
//! - [`debug_file_candidates`]: `/usr/lib/debug/.build-id/xx/yyyy.debug` and
//!   `.gnu_debuglink` lookup; a file whose build id differs from the recorded
//!   one is not used, with a [`SymbolWarning`];
//! - [`buildid_cache`]: perf's `~/.debug` build-id cache, read and written;
//! - [`fetchable`]: what a DSO lacks locally (so a caller can fetch it from
//!   debuginfod), and the debuginfod cache's files, read only;
//! - [`mod@demangle`]: Rust (legacy, v0) and C++;
//! - [`kallsyms`], [`perfmap`], [`jitdump`]: kernel and JIT symbols;
//!   [`kmodules`]: kernel modules' code ranges (`/sys/module/*/sections`);
//! - [`vdso`]: the `[vdso]` image (found in `/proc/PID/maps`, read from
//!   `/proc/PID/mem`), kept in the build-id cache as perf keeps it;
//! - [`symcache`]: the persistent symbol cache (a DSO's symbols and DWARF
//!   answers per build id, memory-mapped by later reports).
//!
//! Parsers take bytes or text. [`Symbolizer`] is the thin layer that reads
//! files (`std::fs::read`; each file is read and parsed once, then cached per
//! path and build id). Every path it reads (debug roots, kallsyms, perf-map
//! directory, a `--symfs` root) is a parameter in [`SymbolizerConfig`],
//! but for the running kernel's own: `/sys/module` and `/proc/modules`
//! with `/proc/kallsyms`, and the running vDSO (`/proc/self/maps`, `mem`);
//! a root a profile declares ([`Symbolizer::add_root`], `/proc/PID/root`).
//! Problems are not errors: frames stay unresolved and a warning is kept,
//! once per cause, in [`Symbolizer::warnings`]. A stripped binary that no
//! debug file names gets its local functions from its MiniDebugInfo; split
//! DWARF is looked for at `DW_AT_comp_dir/DW_AT_dwo_name`, next to the
//! binary, and in `BINARY.dwp` (each file read once). The symbolizer does
//! no network I/O: `lwprof-debuginfod` fetches into the debuginfod cache,
//! which it reads. Not supported yet: vmlinux DWARF for the kernel.

pub mod buildid_cache;
pub mod demangle;
pub mod dso;
pub mod dwarf;
pub mod elf;
pub mod fetchable;
mod intervals;
pub mod jitdump;
mod jitdump_writer;
pub mod kallsyms;
mod kernel_table;
pub mod kmodules;
pub mod minidebuginfo;
pub mod perfmap;
mod plt;
mod split_dwarf;
mod symbolizer;
pub mod symcache;
pub mod vdso;

use std::path::{Path, PathBuf};

pub use buildid_cache::{read_build_id, BuildIdCache};
pub use demangle::{demangle, DemangleOptions};
pub use dso::DsoSymbols;
pub use dwarf::{DwarfInfo, SplitDwarfMiss, SplitDwarfReader};
pub use elf::{build_id_from_notes, DebugLink, ElfSymbol, ElfSymbols, LoadSegment};
pub use fetchable::{debuginfod_file, MissingFiles};
pub use jitdump::{JitDump, JitDumpError, JitSymbols};
pub use jitdump_writer::JitDumpWriter;
pub use kallsyms::{KernelSymbol, KernelSymbols};
pub use perfmap::{PerfMap, PerfMapEntry};
pub use symbolizer::Symbolizer;
pub use symcache::{CachedDso, SymbolCache};

/// A process id, as perf records carry it.
pub type Pid = u32;

/// One frame as a symbolizer returns it: a function, where in its source
/// the address is, and whether it was inlined into the next frame.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ResolvedFrame {
    /// The demangled function name.
    pub function: String,
    /// The source file, if known.
    pub file: Option<String>,
    /// The source line, if known.
    pub line: Option<u32>,
    /// True when inlined into the next (outer) frame.
    pub inlined: bool,
    /// A DSO name to report instead of the location's (a kernel module such
    /// as `[ext4]`, or the perf map a JIT symbol came from).
    pub dso: Option<String>,
    /// The address's distance from the start of the symbol it is in (set
    /// on the outermost frame, the function the code belongs to).
    pub symbol_offset: Option<u64>,
}

/// Where the symbolizer looks, and how it names things.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolizerConfig {
    /// Roots of separate debug files (`/usr/lib/debug`): searched as
    /// `ROOT/.build-id/xx/yyyy.debug` and `ROOT/<binary dir>/<debuglink>`.
    pub debug_roots: Vec<PathBuf>,
    /// A directory that recorded paths are relative to (perf's `--symfs`).
    pub symfs: Option<PathBuf>,
    /// The kernel symbol file; `None` leaves kernel frames unresolved.
    pub kallsyms: Option<PathBuf>,
    /// Where `perf-PID.map` files are; `None` skips them.
    pub perf_map_dir: Option<PathBuf>,
    /// How names are demangled.
    pub demangle: DemangleOptions,
    /// Use DWARF for source lines and inline frames.
    pub dwarf: bool,
    /// Where to keep a copy of the running kernel's symbols (keyed by its
    /// build id and loaded modules), so reports need not re-read
    /// `/proc/kallsyms`, which the kernel formats slowly (tens of ms), as
    /// perf keeps its build-id cache; `None` always reads the file.
    pub cache_dir: Option<PathBuf>,
    /// The build-id cache (perf's `~/.debug` layout) where `lwprof record`
    /// and `perf record` keep the binaries they sampled: used when the
    /// recorded path is gone or holds another build. `None` skips it.
    pub build_id_cache: Option<PathBuf>,
    /// The debuginfod client cache (elfutils' layout, `CACHE/HEX/debuginfo`
    /// and `CACHE/HEX/executable`), read only: its debug file is one more
    /// candidate, its executable is used when the recorded binary is gone
    /// or holds another build. `None` skips it.
    pub debuginfod_cache: Option<PathBuf>,
    /// The symbol cache directory ([`symcache`]): DSOs with a build id are
    /// looked up there before their ELF and DWARF are read, and stored
    /// after. `None` (the default) turns it off.
    pub symbol_cache: Option<PathBuf>,
}

/// The symbol cache's directory under a cache directory (`DIR/symbols`).
pub fn symbol_cache_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("symbols")
}

/// `$XDG_CACHE_HOME/lwprof`, or `~/.cache/lwprof`.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("lwprof"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".cache").join("lwprof"))
}

impl Default for SymbolizerConfig {
    fn default() -> Self {
        Self {
            debug_roots: vec![PathBuf::from("/usr/lib/debug")],
            symfs: None,
            kallsyms: Some(PathBuf::from("/proc/kallsyms")),
            perf_map_dir: Some(PathBuf::from("/tmp")),
            demangle: DemangleOptions::default(),
            dwarf: true,
            cache_dir: None,
            build_id_cache: BuildIdCache::default_root(),
            debuginfod_cache: None,
            symbol_cache: None,
        }
    }
}

/// Something that kept frames unresolved, reported once per cause.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SymbolWarning {
    /// A binary or debug file could not be read.
    #[error("{}: cannot read ({error}); its frames stay unresolved", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: String,
    },
    /// A file is not ELF, or is damaged.
    #[error("{}: not a usable ELF file ({reason}); its frames stay unresolved", path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// What `object` said.
        reason: String,
    },
    /// A file's build id differs from the recorded one (or from its binary's).
    #[error(
        "{}: build id {found} does not match the recorded {expected} (rebuilt or upgraded \
         since recording?), and the recorded build is not in {looked}; its frames show as addresses",
        path.display()
    )]
    BuildIdMismatch {
        /// The file that was not used.
        path: PathBuf,
        /// The build id that was expected (hex).
        expected: String,
        /// The build id the file has (hex).
        found: String,
        /// Where else lwprof looked for the recorded build.
        looked: String,
    },
    /// A debuglink target's CRC differs from the one in the binary.
    #[error(
        "{}: CRC {found:08x} does not match the .gnu_debuglink CRC {expected:08x}; file not used",
        path.display()
    )]
    DebugLinkCrcMismatch {
        /// The debug file that was not used.
        path: PathBuf,
        /// CRC from the binary's `.gnu_debuglink`.
        expected: u32,
        /// CRC of the file.
        found: u32,
    },
    /// DWARF could not be loaded; symbol-table names are still used.
    #[error("{}: bad DWARF ({reason}); no source lines or inline frames", path.display())]
    BadDebugInfo {
        /// The file.
        path: PathBuf,
        /// What gimli said.
        reason: String,
    },
    /// A stripped binary's `.gnu_debugdata` (MiniDebugInfo) could not be
    /// used; its local functions stay unnamed.
    #[error("{}: {reason}; its local functions stay unnamed", path.display())]
    BadMiniDebugInfo {
        /// The binary.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A split DWARF file (`.dwo`) that a look-up needed was missing or not
    /// usable; names come from the symbol table, lines from the skeleton.
    #[error(
        "{}: split DWARF {} {reason}; no inline frames for its code (keep the .dwo files \
         where the build left them, or package them next to the binary with dwp)",
        path.display(),
        dwo.display()
    )]
    SplitDwarfMissing {
        /// The DSO.
        path: PathBuf,
        /// The `.dwo` file looked for.
        dwo: PathBuf,
        /// Why it was not used.
        reason: String,
    },
    /// kallsyms shows only zero addresses.
    #[error(
        "{}: kernel addresses are hidden (kernel.kptr_restrict); kernel frames show as \
         [kernel.kallsyms] unknown (as root: sysctl kernel.kptr_restrict=0)",
        path.display()
    )]
    KernelSymbolsHidden {
        /// The kallsyms file.
        path: PathBuf,
    },
    /// kallsyms could not be read.
    #[error("{}: cannot read kernel symbols ({error}); kernel frames stay unresolved", path.display())]
    KernelSymbolsUnreadable {
        /// The kallsyms file.
        path: PathBuf,
        /// The I/O error.
        error: String,
    },
    /// A jitdump could not be parsed.
    #[error("{}: bad jitdump ({reason}); some JIT frames stay unresolved", path.display())]
    BadJitDump {
        /// The jitdump file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
}

/// Which rule produced a debug-file candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugFileSource {
    /// `ROOT/.build-id/xx/yyyy.debug`.
    BuildId,
    /// A `.gnu_debuglink` name next to the binary, in `.debug/`, or under a
    /// debug root.
    DebugLink,
}

/// Where a separate debug file for `binary` may be, in search order (the
/// order of GDB and perf): by build id under each root, then by debuglink
/// next to the binary, in its `.debug/` directory, and under each root.
pub fn debug_file_candidates(
    binary: &Path,
    build_id: Option<&[u8]>,
    debuglink: Option<&str>,
    roots: &[PathBuf],
) -> Vec<(PathBuf, DebugFileSource)> {
    let mut out = Vec::new();
    if let Some(id) = build_id.filter(|id| id.len() >= 2) {
        let hex = hex(id);
        for root in roots {
            out.push((
                root.join(".build-id")
                    .join(&hex[..2])
                    .join(format!("{}.debug", &hex[2..])),
                DebugFileSource::BuildId,
            ));
        }
    }
    if let Some(link) = debuglink.filter(|l| !l.is_empty() && !l.contains('/')) {
        let dir = binary.parent().unwrap_or(Path::new("/"));
        out.push((dir.join(link), DebugFileSource::DebugLink));
        out.push((dir.join(".debug").join(link), DebugFileSource::DebugLink));
        let relative = dir.strip_prefix("/").unwrap_or(dir);
        for root in roots {
            out.push((root.join(relative).join(link), DebugFileSource::DebugLink));
        }
    }
    out.retain(|(p, _)| p != binary);
    out
}

/// Lower-case hex of a build id.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_file_candidates_follow_gdb_order() {
        let roots = [PathBuf::from("/dbg")];
        let c = debug_file_candidates(
            Path::new("/usr/bin/prog"),
            Some(&[0xab, 0xcd, 0xef]),
            Some("prog.debug"),
            &roots,
        );
        let paths: Vec<_> = c.iter().map(|(p, _)| p.to_str().unwrap_or("")).collect();
        assert_eq!(
            paths,
            [
                "/dbg/.build-id/ab/cdef.debug",
                "/usr/bin/prog.debug",
                "/usr/bin/.debug/prog.debug",
                "/dbg/usr/bin/prog.debug",
            ]
        );
        assert_eq!(c[0].1, DebugFileSource::BuildId);
        assert_eq!(c[1].1, DebugFileSource::DebugLink);
        // A debuglink naming the binary itself, or with a slash, is ignored.
        assert!(
            debug_file_candidates(Path::new("/bin/x"), None, Some("x"), &[])
                .iter()
                .all(|(p, _)| p != Path::new("/bin/x"))
        );
        assert!(debug_file_candidates(Path::new("/bin/x"), None, Some("../etc/x"), &[]).is_empty());
    }

    #[test]
    fn warnings_are_reported_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = Symbolizer::new(SymbolizerConfig {
            debug_roots: vec![],
            kallsyms: Some(dir.path().join("missing-kallsyms")),
            perf_map_dir: Some(dir.path().to_path_buf()),
            ..SymbolizerConfig::default()
        });
        let missing = dir.path().join("missing.so");
        let missing = missing.to_str().expect("utf-8 temp path");
        assert!(s.symbolize_file_offset(missing, None, 0x10).is_empty());
        assert!(s.symbolize_file_offset(missing, None, 0x20).is_empty());
        assert!(s.symbolize_kernel(0xffff_ffff_8100_0000).is_empty());
        assert!(s.symbolize_kernel(0xffff_ffff_8100_0010).is_empty());
        assert!(
            s.symbolize_jit(1, 0x1000).is_empty(),
            "no perf map: no frame, no warning"
        );
        assert_eq!(s.warnings().len(), 2, "{:?}", s.warnings());
        assert!(matches!(s.warnings()[0], SymbolWarning::Unreadable { .. }));
        assert!(matches!(
            s.warnings()[1],
            SymbolWarning::KernelSymbolsUnreadable { .. }
        ));
    }
}
