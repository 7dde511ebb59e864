//! Symbolization: code addresses to function names, source lines and inline
//! frames, in-process (never an external addr2line).
//!
//! - [`elf`]: `.symtab`/`.dynsym` symbols and labels sized as perf sizes
//!   them, synthesized PLT stubs (`memcpy@plt`), `PT_LOAD` segments (file
//!   offset to linked address, for PIE and shared objects), build id,
//!   debuglink;
//! - [`dwarf`]: line tables and inline frames (`addr2line`/gimli);
//! - [`DsoSymbols`]: one file's symbols and DWARF together, from bytes (the
//!   lookups the symbolizer makes, without its file reading);
//! - [`debug_file_candidates`]: `/usr/lib/debug/.build-id/xx/yyyy.debug` and
//!   `.gnu_debuglink` lookup; a file whose build id differs from the recorded
//!   one is not used, with a [`SymbolWarning`];
//! - [`mod@demangle`]: Rust (legacy, v0) and C++;
//! - [`kallsyms`], [`perfmap`], [`jitdump`]: kernel and JIT symbols.
//!
//! Parsers take bytes or text. [`Symbolizer`] is the thin layer that reads
//! files (`std::fs::read`; each file is read and parsed once, then cached per
//! path and build id, with a per-address cache of results) and fills a
//! [`Profile`] with [`Symbolizer::symbolize_profile`]. Every path it reads
//! (debug roots, kallsyms, perf-map directory, a `--symfs` root) is a
//! parameter in [`SymbolizerConfig`]. Problems are not errors: frames stay
//! unresolved and a warning is kept, once per cause, in
//! [`Symbolizer::warnings`]. Not supported: `.gnu_debugdata` (MiniDebugInfo),
//! split DWARF, debuginfod, vmlinux DWARF for the kernel.

pub mod buildid_cache;
pub mod demangle;
pub mod dso;
pub mod dwarf;
pub mod elf;
mod intervals;
pub mod jitdump;
pub mod kallsyms;
pub mod perfmap;
mod plt;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use buildid_cache::{read_build_id, BuildIdCache};
pub use demangle::{demangle, DemangleOptions};
pub use dso::DsoSymbols;
pub use dwarf::DwarfInfo;
pub use elf::{build_id_from_notes, DebugLink, ElfSymbol, ElfSymbols, LoadSegment};
pub use jitdump::{JitDump, JitDumpError, JitSymbols};
pub use kallsyms::{KernelSymbol, KernelSymbols};
pub use perfmap::{PerfMap, PerfMapEntry};

use crate::model::{AddressSpace, DsoKind, Pid, Profile, ResolvedFrame};

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

enum JitSource {
    PerfMap(PerfMap),
    JitDump(JitSymbols),
}

/// Resolves addresses; reads each file once and caches what it parsed.
pub struct Symbolizer {
    config: SymbolizerConfig,
    dsos: HashMap<(String, Option<Vec<u8>>), Option<DsoSymbols>>,
    kernel: Option<Option<KernelSymbols>>,
    jit_files: HashMap<Pid, Vec<PathBuf>>,
    jit: HashMap<PathBuf, Option<JitSource>>,
    warnings: Vec<SymbolWarning>,
    warned: HashSet<SymbolWarning>,
}

impl std::fmt::Debug for Symbolizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbolizer")
            .field("config", &self.config)
            .field("cached_dsos", &self.dsos.len())
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl std::hash::Hash for SymbolWarning {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_string().hash(state);
    }
}

impl Symbolizer {
    /// A symbolizer with empty caches.
    pub fn new(config: SymbolizerConfig) -> Self {
        Self {
            config,
            dsos: HashMap::new(),
            kernel: None,
            jit_files: HashMap::new(),
            jit: HashMap::new(),
            warnings: Vec::new(),
            warned: HashSet::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SymbolizerConfig {
        &self.config
    }

    /// Warnings so far, each cause once, in order.
    pub fn warnings(&self) -> &[SymbolWarning] {
        &self.warnings
    }

    fn warn(&mut self, w: SymbolWarning) {
        if self.warned.insert(w.clone()) {
            self.warnings.push(w);
        }
    }

    /// Resolve every location of a profile: file offsets through ELF and
    /// DWARF, kernel addresses through kallsyms, process addresses through
    /// the process's perf map and the jitdumps it mapped.
    pub fn symbolize_profile(&mut self, profile: &mut Profile) {
        for dso in profile.dsos() {
            if dso.kind == DsoKind::JitDump {
                let name = dso.path.rsplit('/').next().unwrap_or("");
                if let Some(pid) = name
                    .strip_prefix("jit-")
                    .and_then(|n| n.strip_suffix(".dump"))
                    .and_then(|n| n.parse::<Pid>().ok())
                {
                    self.add_jitdump(pid, PathBuf::from(&dso.path));
                }
            }
        }
        profile.resolve_locations(|loc, dso| match loc.space {
            AddressSpace::File(_) => match dso {
                Some(d) if d.kind == DsoKind::File => {
                    self.symbolize_file_offset(&d.path, d.build_id.as_deref(), loc.address)
                }
                _ => Vec::new(),
            },
            AddressSpace::Kernel => self.symbolize_kernel(loc.address),
            AddressSpace::Process(pid) => self.symbolize_jit(pid, loc.address),
        });
    }

    /// Frames (innermost first) at a file offset of an ELF file, checked
    /// against the recorded build id when there is one. Empty when nothing
    /// resolves.
    pub fn symbolize_file_offset(
        &mut self,
        path: &str,
        build_id: Option<&[u8]>,
        file_offset: u64,
    ) -> Vec<ResolvedFrame> {
        let key = (path.to_string(), build_id.map(<[u8]>::to_vec));
        if !self.dsos.contains_key(&key) {
            let loaded = self.load_dso(path, build_id);
            self.dsos.insert(key.clone(), loaded);
        }
        let opts = self.config.demangle;
        match self.dsos.get_mut(&key) {
            Some(Some(dso)) => dso.resolve_file_offset(file_offset, opts),
            _ => Vec::new(),
        }
    }

    /// The frame of a kernel address, from kallsyms (kernel modules named
    /// `[module]`). Empty when kallsyms is hidden, unreadable or has nothing.
    pub fn symbolize_kernel(&mut self, address: u64) -> Vec<ResolvedFrame> {
        if self.kernel.is_none() {
            let loaded = self.load_kallsyms();
            self.kernel = Some(loaded);
        }
        let Some(Some(k)) = &self.kernel else {
            return Vec::new();
        };
        k.lookup(address)
            .map(|s| ResolvedFrame {
                function: s.name.clone(),
                dso: s.module.as_ref().map(|m| format!("[{m}]")),
                symbol_offset: Some(address - s.address),
                ..ResolvedFrame::default()
            })
            .into_iter()
            .collect()
    }

    /// Declare a jitdump file for a process (found automatically for the
    /// `jit-PID.dump` mappings of a profile).
    pub fn add_jitdump(&mut self, pid: Pid, path: PathBuf) {
        let files = self.jit_files.entry(pid).or_default();
        if !files.contains(&path) {
            files.push(path);
        }
    }

    /// The frame of an absolute address in a process, from its perf map
    /// (`perf_map_dir/perf-PID.map`) or its jitdumps.
    pub fn symbolize_jit(&mut self, pid: Pid, address: u64) -> Vec<ResolvedFrame> {
        let mut files: Vec<PathBuf> = Vec::new();
        if let Some(dir) = &self.config.perf_map_dir {
            files.push(dir.join(format!("perf-{pid}.map")));
        }
        files.extend(self.jit_files.get(&pid).into_iter().flatten().cloned());
        for path in files {
            if !self.jit.contains_key(&path) {
                let loaded = self.load_jit(&path);
                self.jit.insert(path.clone(), loaded);
            }
            let frame = match self.jit.get(&path) {
                Some(Some(JitSource::PerfMap(m))) => m.lookup(address).map(|e| ResolvedFrame {
                    function: e.name.clone(),
                    symbol_offset: address.checked_sub(e.start),
                    ..ResolvedFrame::default()
                }),
                Some(Some(JitSource::JitDump(j))) => j.lookup(address).map(|s| ResolvedFrame {
                    function: s.name.to_string(),
                    file: s.source.map(|(f, _)| f.to_string()),
                    line: s.source.map(|(_, l)| l),
                    ..ResolvedFrame::default()
                }),
                _ => None,
            };
            if let Some(mut f) = frame {
                f.dso = Some(path.to_string_lossy().into_owned());
                return vec![f];
            }
        }
        Vec::new()
    }

    fn load_jit(&mut self, path: &Path) -> Option<JitSource> {
        // A missing perf map is normal: most processes have none.
        let bytes = std::fs::read(path).ok()?;
        if path.extension().is_some_and(|e| e == "map") {
            return Some(JitSource::PerfMap(PerfMap::parse(
                &String::from_utf8_lossy(&bytes),
            )));
        }
        match JitDump::parse(&bytes) {
            Ok(d) => Some(JitSource::JitDump(d.symbols())),
            Err(e) => {
                self.warn(SymbolWarning::BadJitDump {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    fn load_kallsyms(&mut self) -> Option<KernelSymbols> {
        let path = self.config.kallsyms.clone()?;
        let cache = (path == Path::new("/proc/kallsyms"))
            .then(|| {
                Some(
                    self.config
                        .cache_dir
                        .as_ref()?
                        .join(kallsyms::running_kernel_cache_name()?),
                )
            })
            .flatten();
        if let Some(text) = cache.as_ref().and_then(|c| std::fs::read_to_string(c).ok()) {
            let k = KernelSymbols::parse(&text);
            if !k.is_hidden() {
                return Some(k);
            }
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let k = KernelSymbols::parse(&text);
                if k.is_hidden() {
                    self.warn(SymbolWarning::KernelSymbolsHidden { path });
                    return None;
                }
                if let Some(c) = &cache {
                    // Best effort: a cache that cannot be written only costs
                    // the next report the same read.
                    let _ = kallsyms::write_cache(c, &text);
                }
                Some(k)
            }
            Err(e) => {
                self.warn(SymbolWarning::KernelSymbolsUnreadable {
                    path,
                    error: e.to_string(),
                });
                None
            }
        }
    }

    fn real_path(&self, path: &str) -> PathBuf {
        // The kernel marks unlinked files; the path may hold a newer file,
        // which the build-id check then rejects.
        let path = path.strip_suffix(" (deleted)").unwrap_or(path);
        match &self.config.symfs {
            Some(root) => root.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        }
    }

    /// Read and parse an ELF file; warns and returns `None` on failure.
    fn read_elf(&mut self, path: &Path) -> Option<(Vec<u8>, ElfSymbols)> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                self.warn(SymbolWarning::Unreadable {
                    path: path.to_path_buf(),
                    error: e.to_string(),
                });
                return None;
            }
        };
        match ElfSymbols::parse(&bytes) {
            Ok(elf) => Some((bytes, elf)),
            Err(e) => {
                self.warn(SymbolWarning::NotElf {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    /// The binary that ran: the file at the recorded path when its build id
    /// is the recorded one (or none was recorded), else the build-id cache's
    /// copy. A mismatch with no cached copy is warned about, naming the DSO,
    /// both build ids and where lwprof looked.
    fn recorded_binary(
        &mut self,
        path: &Path,
        recorded_id: Option<&[u8]>,
    ) -> Option<(Vec<u8>, ElfSymbols)> {
        let Some(expected) = recorded_id else {
            return self.read_elf(path);
        };
        let on_disk = if path.exists() {
            self.read_elf(path)
        } else {
            None
        };
        let found = match &on_disk {
            Some((_, elf)) if elf.build_id.as_deref() == Some(expected) => return on_disk,
            // A file without a build id cannot be checked: trust the path.
            Some((_, elf)) if elf.build_id.is_none() => return on_disk,
            Some((_, elf)) => elf.build_id.clone(),
            None => None,
        };
        if let Some((_, cached)) = self.cached_binary(expected) {
            return Some(cached);
        }
        let looked = self
            .config
            .build_id_cache
            .as_ref()
            .and_then(|root| BuildIdCache::new(root.clone()).link_path(expected))
            .map_or_else(
                || "no build-id cache".to_string(),
                |p| p.join("elf").display().to_string(),
            );
        match found {
            Some(found) => self.warn(SymbolWarning::BuildIdMismatch {
                path: path.to_path_buf(),
                expected: hex(expected),
                found: hex(&found),
                looked,
            }),
            None if on_disk.is_none() && !path.exists() => self.warn(SymbolWarning::Unreadable {
                path: path.to_path_buf(),
                error: format!(
                    "no such file, and build id {} is not in {looked}",
                    hex(expected)
                ),
            }),
            None => {}
        }
        None
    }

    /// The binary with this build id from the build-id cache, checked.
    fn cached_binary(&mut self, build_id: &[u8]) -> Option<(PathBuf, (Vec<u8>, ElfSymbols))> {
        let cache = BuildIdCache::new(self.config.build_id_cache.clone()?);
        let file = cache.find(build_id)?;
        let (bytes, elf) = self.read_elf(&file)?;
        (elf.build_id.as_deref() == Some(build_id)).then_some((file, (bytes, elf)))
    }

    fn load_dwarf(&mut self, path: &Path, bytes: &[u8]) -> Option<DwarfInfo> {
        match DwarfInfo::parse(bytes) {
            Ok(d) => Some(d),
            Err(e) => {
                self.warn(SymbolWarning::BadDebugInfo {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    fn load_dso(&mut self, recorded_path: &str, recorded_id: Option<&[u8]>) -> Option<DsoSymbols> {
        let path = self.real_path(recorded_path);
        let binary = self.recorded_binary(&path, recorded_id);
        let build_id: Option<Vec<u8>> = recorded_id
            .map(<[u8]>::to_vec)
            .or_else(|| binary.as_ref().and_then(|(_, e)| e.build_id.clone()));

        let mut dwarf = None;
        if self.config.dwarf {
            if let Some((bytes, elf)) = &binary {
                if elf.has_debug_info {
                    let bytes = bytes.clone();
                    dwarf = self.load_dwarf(&path, &bytes);
                }
            }
        }
        // A separate debug file gives DWARF, and a stripped binary's local
        // functions (distro libraries have only `.dynsym`).
        let stripped = binary.as_ref().is_some_and(|(_, e)| !e.has_symtab);
        let needs_debug_file = (self.config.dwarf && dwarf.is_none()) || stripped;
        let mut debug_elf: Option<ElfSymbols> = None;
        if needs_debug_file {
            let link = binary.as_ref().and_then(|(_, e)| e.debuglink.clone());
            let mut candidates = debug_file_candidates(
                &path,
                build_id.as_deref(),
                link.as_ref().map(|l| l.file_name.as_str()),
                &self.config.debug_roots,
            );
            // The debug file kept in the build-id cache with the binary.
            if let (Some(id), Some(root)) = (&build_id, &self.config.build_id_cache) {
                if let Some(debug) = BuildIdCache::new(root.clone()).find_debug(id) {
                    candidates.push((debug, DebugFileSource::BuildId));
                }
            }
            for (candidate, source) in candidates {
                if !candidate.is_file() {
                    continue;
                }
                let Some((bytes, elf)) = self.read_elf(&candidate) else {
                    continue;
                };
                match (&build_id, &elf.build_id) {
                    (Some(expected), Some(found)) if expected != found => {
                        self.warn(SymbolWarning::BuildIdMismatch {
                            path: candidate,
                            expected: hex(expected),
                            found: hex(found),
                            looked: "the other debug-file candidates".into(),
                        });
                        continue;
                    }
                    (Some(_), Some(_)) => {}
                    _ if source == DebugFileSource::DebugLink => {
                        // No build ids to compare: the debuglink CRC decides.
                        if let Some(link) = &link {
                            let found = crc32fast::hash(&bytes);
                            if found != link.crc {
                                self.warn(SymbolWarning::DebugLinkCrcMismatch {
                                    path: candidate,
                                    expected: link.crc,
                                    found,
                                });
                                continue;
                            }
                        }
                    }
                    _ => {}
                }
                if elf.has_debug_info && self.config.dwarf {
                    dwarf = self.load_dwarf(&candidate, &bytes);
                }
                debug_elf = Some(elf);
                break;
            }
        }
        let elf = match (binary.map(|(_, e)| e), debug_elf) {
            (Some(mut b), Some(d)) => {
                b.merge_symbols(&d);
                b
            }
            (Some(b), None) => b,
            (None, Some(d)) => d,
            (None, None) => return None,
        };
        Some(DsoSymbols::new(elf, dwarf))
    }
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

    #[test]
    fn jit_frames_from_perf_map_and_jitdump_through_a_profile() {
        use crate::model::{CpuMode, FrameAddress, MappingInput, ProfileBuilder, SampleInput};

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("perf-500.map"),
            "7f0000001000 100 Interpreter::loop\n7f0000002000 80 js:hot\n",
        )
        .expect("write perf map");
        let mut w = jitdump::tests::Writer::new(600, false);
        w.debug(0x7e00_0000_1000, &[(0x7e00_0000_1000, 41, b"app.js")]);
        w.load(600, 0x7e00_0000_1000, 0x40, 1, "js:fromdump");
        let dump_path = dir.path().join("jit-600.dump");
        std::fs::write(&dump_path, &w.buf).expect("write jitdump");

        let mut b = ProfileBuilder::new();
        let ev = b.add_event("cpu-clock");
        for (pid, start) in [(500u32, 0x7f00_0000_0000u64), (600, 0x7e00_0000_0000)] {
            b.mmap(&MappingInput {
                pid,
                time: 0,
                start,
                len: 0x10_0000,
                pgoff: 0,
                path: b"//anon",
                build_id: None,
                mode: CpuMode::User,
            });
        }
        let dump = dump_path.to_str().expect("utf-8").as_bytes();
        b.mmap(&MappingInput {
            pid: 600,
            time: 0,
            start: 0x5000_0000,
            len: 0x1000,
            pgoff: 0,
            path: dump,
            build_id: None,
            mode: CpuMode::User,
        });
        let chains = [
            (
                500u32,
                vec![
                    FrameAddress::ip(0x7f00_0000_2010, CpuMode::User),
                    FrameAddress::return_address(0x7f00_0000_1050, CpuMode::User),
                ],
            ),
            (600, vec![FrameAddress::ip(0x7e00_0000_1008, CpuMode::User)]),
            (500, vec![FrameAddress::ip(0x7f00_0009_0000, CpuMode::User)]),
        ];
        for (pid, chain) in &chains {
            b.sample(&SampleInput {
                pid: *pid,
                tid: *pid,
                time: 1,
                cpu: 0,
                event: ev,
                weight: 1,
                kind: crate::model::SampleKind::OnCpu,
                callchain: chain,
            });
        }
        let mut profile = b.finish();
        let mut s = Symbolizer::new(SymbolizerConfig {
            kallsyms: None,
            perf_map_dir: Some(dir.path().to_path_buf()),
            debug_roots: vec![],
            ..SymbolizerConfig::default()
        });
        s.symbolize_profile(&mut profile);
        let stack_names = |i: usize| -> Vec<String> {
            profile
                .stack_frames(profile.samples()[i].stack, true)
                .map(|f| profile.frame_function(f.frame).to_string())
                .collect()
        };
        assert_eq!(stack_names(0), ["js:hot", "Interpreter::loop"]);
        assert_eq!(stack_names(1), ["js:fromdump"]);
        assert_eq!(
            stack_names(2),
            ["0x7f0000090000"],
            "not in the map: placeholder"
        );
        let leaf = profile
            .stack_frames(profile.samples()[1].stack, true)
            .next()
            .map(|f| *profile.frame(f.frame))
            .expect("frame");
        assert_eq!(leaf.line, Some(41));
        assert_eq!(leaf.file.map(|f| profile.string(f)), Some("app.js"));
        let dso = leaf.dso.map(|d| profile.dso(d).short_name());
        assert_eq!(dso, Some("jit-600.dump"));
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }
}
