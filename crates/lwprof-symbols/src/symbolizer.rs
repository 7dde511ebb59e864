//! The [`Symbolizer`]: the thin layer that reads files (each file once,
//! cached per path and build id) and answers address lookups with frames
//! from the parsers of this crate. Problems are not errors: frames stay
//! unresolved and a warning is kept, once per cause. It reads the split
//! DWARF files (`.dwo`, `.dwp`) that [`DwarfInfo`] asks for, once each, and
//! a stripped binary's MiniDebugInfo when no debug file names its functions.
//!
//! It does not know the profile model: `lwprof-profile` walks a profile's
//! locations and asks it.

use crate::kernel_table::KernelTable;
use crate::symcache::store::LoadedDso;
use crate::{
    debug_file_candidates, hex, BuildIdCache, DebugFileSource, DsoSymbols, DwarfInfo, ElfSymbols,
    JitDump, JitSymbols, KernelSymbols, PerfMap, Pid, ResolvedFrame, SplitDwarfReader, SymbolCache,
    SymbolWarning, SymbolizerConfig,
};
use crate::{kallsyms, kmodules, minidebuginfo, vdso};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

enum JitSource {
    PerfMap(PerfMap),
    JitDump(JitSymbols),
}

/// Resolves addresses; reads each file once and caches what it parsed.
pub struct Symbolizer {
    config: SymbolizerConfig,
    dsos: HashMap<(String, Option<Vec<u8>>), Option<LoadedDso>>,
    kernel: Option<Option<KernelTable>>,
    jit_files: HashMap<Pid, Vec<PathBuf>>,
    jit: HashMap<PathBuf, Option<JitSource>>,
    /// Other roots a recorded path may be under (`/proc/PID/root`).
    roots: HashMap<String, Vec<PathBuf>>,
    warnings: Vec<SymbolWarning>,
    warned: HashSet<SymbolWarning>,
    /// `.dwo` and `.dwp` files read for split DWARF, by path.
    split_files: SplitFiles,
}

type SplitFiles = Arc<Mutex<HashMap<PathBuf, Result<Arc<[u8]>, String>>>>;

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
            roots: HashMap::new(),
            warnings: Vec::new(),
            warned: HashSet::new(),
            split_files: SplitFiles::default(),
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

    /// Takes over what `other` loaded and warned about (a symbolizer of the
    /// same configuration that resolved other DSOs on another thread), so
    /// later look-ups hit its caches and its warnings are reported once.
    pub fn merge(&mut self, other: Symbolizer) {
        for (key, dso) in other.dsos {
            self.dsos.entry(key).or_insert(dso);
        }
        if self.kernel.is_none() {
            self.kernel = other.kernel;
        }
        for (path, jit) in other.jit {
            self.jit.entry(path).or_insert(jit);
        }
        for w in other.warnings {
            self.warn(w);
        }
    }

    fn warn(&mut self, w: SymbolWarning) {
        if self.warned.insert(w.clone()) {
            self.warnings.push(w);
        }
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
        let (frames, misses) = match self.dsos.get_mut(&key) {
            Some(Some(dso)) => (
                dso.resolve_file_offset(file_offset, opts),
                dso.take_split_dwarf_misses(),
            ),
            _ => return Vec::new(),
        };
        for miss in misses {
            self.warn(SymbolWarning::SplitDwarfMissing {
                path: self.real_path(path),
                dwo: miss.dwo,
                reason: miss.reason,
            });
        }
        frames
    }

    /// Frames at a file offset of the `[vdso]` image (its mapping offset):
    /// the build-id cache's image of the recorded build id, else the running
    /// kernel's when it is that build (or none was recorded).
    pub fn symbolize_vdso(&mut self, build_id: Option<&[u8]>, offset: u64) -> Vec<ResolvedFrame> {
        let key = (vdso::VDSO_NAME.to_string(), build_id.map(<[u8]>::to_vec));
        if !self.dsos.contains_key(&key) {
            let loaded = self
                .load_vdso(build_id)
                .map(|d| LoadedDso::Parsed(Box::new(d)));
            self.dsos.insert(key.clone(), loaded);
        }
        let opts = self.config.demangle;
        match self.dsos.get_mut(&key) {
            Some(Some(dso)) => dso.resolve_file_offset(offset, opts),
            _ => Vec::new(),
        }
    }

    fn load_vdso(&mut self, build_id: Option<&[u8]>) -> Option<DsoSymbols> {
        let cached = build_id
            .zip(self.config.build_id_cache.clone())
            .and_then(|(id, root)| BuildIdCache::new(root).find_named(id, vdso::VDSO_CACHE_FILE));
        let bytes = match cached.and_then(|p| std::fs::read(p).ok()) {
            Some(b) => b,
            None => {
                let running = vdso::read_running(None)?;
                if build_id.is_some_and(|id| running.build_id() != Some(id)) {
                    self.warn(SymbolWarning::Unreadable {
                        path: PathBuf::from(vdso::VDSO_NAME),
                        error: format!(
                            "build id {} is neither in the build-id cache nor the running \
                             kernel's",
                            hex(build_id.unwrap_or_default())
                        ),
                    });
                    return None;
                }
                running.bytes().to_vec()
            }
        };
        DsoSymbols::parse(&bytes).ok()
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
        let frame = match k.lookup(address) {
            Some((start, name, module)) => ResolvedFrame {
                function: name,
                dso: module.map(|m| format!("[{m}]")),
                symbol_offset: Some(address - start),
                ..ResolvedFrame::default()
            },
            // Module code without a symbol: the module's, as an address.
            None => match k.module_at(address) {
                Some(m) => ResolvedFrame {
                    function: format!("{address:#x}"),
                    dso: Some(format!("[{m}]")),
                    ..ResolvedFrame::default()
                },
                None => return Vec::new(),
            },
        };
        vec![frame]
    }

    /// Declare that `path` (as recorded) was mapped by a process whose
    /// files are under `root` (`/proc/PID/root` of a live process in another
    /// mount namespace): the file there is used first when it is the
    /// recorded build (or none was recorded).
    pub fn add_root(&mut self, path: &str, root: PathBuf) {
        let roots = self.roots.entry(path.to_string()).or_default();
        if !roots.contains(&root) {
            roots.push(root);
        }
    }

    /// The binary under one of the roots of `recorded_path`, with its path.
    fn root_binary(
        &self,
        recorded_path: &str,
        recorded_id: Option<&[u8]>,
    ) -> Option<(PathBuf, (Vec<u8>, ElfSymbols))> {
        let relative = recorded_path.strip_prefix('/')?;
        self.roots.get(recorded_path)?.iter().find_map(|root| {
            let path = root.join(relative);
            let bytes = std::fs::read(&path).ok()?;
            let elf = ElfSymbols::parse(&bytes).ok()?;
            let fits = recorded_id.is_none_or(|id| elf.build_id.as_deref() == Some(id));
            fits.then_some((path, (bytes, elf)))
        })
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

    /// kallsyms, with the running kernel's module ranges when it is
    /// `/proc/kallsyms`; then its symbol-cache entry (keyed by the kernel's
    /// build id and loaded modules) is used, or written for the next report.
    fn load_kallsyms(&mut self) -> Option<KernelTable> {
        let running = self.config.kallsyms.as_deref() == Some(Path::new("/proc/kallsyms"));
        if !running {
            return self.load_kallsyms_table().map(KernelTable::Parsed);
        }
        let sections = kmodules::read_sections(Path::new("/sys/module"));
        let proc_modules = std::fs::read_to_string("/proc/modules").unwrap_or_default();
        let modules = kmodules::ModuleMap::new(&sections, &proc_modules);
        let entry = self
            .config
            .symbol_cache
            .clone()
            .zip(kallsyms::running_kernel_cache_name())
            .map(|(dir, key)| (SymbolCache::new(dir), key));
        if let Some(table) = entry.as_ref().and_then(|(c, key)| c.open_kernel(key)) {
            return Some(KernelTable::Mapped { table, modules });
        }
        let mut k = self.load_kallsyms_table()?;
        if let Some(table) = entry.as_ref().and_then(|(c, key)| c.store_kernel(key, &k)) {
            return Some(KernelTable::Mapped { table, modules });
        }
        k.set_modules(modules);
        Some(KernelTable::Parsed(k))
    }

    fn load_kallsyms_table(&mut self) -> Option<KernelSymbols> {
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

    pub(crate) fn real_path(&self, path: &str) -> PathBuf {
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
        if let Some(fetched) = self.debuginfod_elf(expected, "executable") {
            return Some(fetched);
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

    /// The debuginfod cache's file of this build id, checked.
    fn debuginfod_elf(&mut self, build_id: &[u8], artifact: &str) -> Option<(Vec<u8>, ElfSymbols)> {
        let file =
            crate::debuginfod_file(self.config.debuginfod_cache.as_ref()?, build_id, artifact)?;
        let (bytes, elf) = self.read_elf(&file)?;
        (elf.build_id.as_deref() == Some(build_id)).then_some((bytes, elf))
    }

    /// Loads DWARF that follows split DWARF next to `binary` (the file
    /// that ran, whose `.dwp` and `.dwo` files are looked for).
    fn load_dwarf(&mut self, binary: &Path, path: &Path, bytes: &[u8]) -> Option<DwarfInfo> {
        match DwarfInfo::parse(bytes) {
            Ok(mut d) => {
                d.follow_split_dwarf(binary, self.split_dwarf_reader());
                Some(d)
            }
            Err(e) => {
                self.warn(SymbolWarning::BadDebugInfo {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    /// The symbol cache's entry for a build id (keyed by it, so never
    /// stale). Used only while that build is where the direct load would
    /// find it (`present`: at its path, or in the build-id cache), so a
    /// report says what it says without the cache, warnings included.
    fn cached_dso(
        &self,
        build_id: Option<&[u8]>,
        present: impl FnOnce() -> bool,
    ) -> Option<LoadedDso> {
        let cache = SymbolCache::new(self.config.symbol_cache.clone()?);
        let id = build_id?;
        if !present() {
            return None;
        }
        let hit = cache.open(id, self.config.dwarf, || self.debug_file_by_build_id(id))?;
        Some(LoadedDso::Cached(hit))
    }

    /// A separate debug file found by build id alone (under a debug root, in
    /// the build-id cache, in the debuginfod cache).
    fn debug_file_by_build_id(&self, id: &[u8]) -> bool {
        debug_file_candidates(Path::new("/"), Some(id), None, &self.config.debug_roots)
            .iter()
            .any(|(p, _)| p.is_file())
            || self
                .config
                .build_id_cache
                .as_ref()
                .is_some_and(|root| BuildIdCache::new(root.clone()).find_debug(id).is_some())
            || self
                .config
                .debuginfod_cache
                .as_ref()
                .is_some_and(|c| crate::debuginfod_file(c, id, "debuginfo").is_some())
    }

    /// Reads split DWARF files for a [`DwarfInfo`], each file once.
    fn split_dwarf_reader(&self) -> SplitDwarfReader {
        let files = Arc::clone(&self.split_files);
        Box::new(move |path: &Path| {
            let mut files = files.lock().map_err(|_| "unreadable".to_string())?;
            files
                .entry(path.to_path_buf())
                .or_insert_with(|| {
                    std::fs::read(path)
                        .map(Arc::from)
                        .map_err(|e| e.to_string())
                })
                .clone()
        })
    }

    /// The symbols of a binary's `.gnu_debugdata`; warns when it is damaged.
    fn load_minidebuginfo(&mut self, path: &Path, bytes: &[u8]) -> Option<ElfSymbols> {
        match minidebuginfo::symbols_of_binary(bytes, minidebuginfo::MAX_DECOMPRESSED) {
            Ok(symbols) => symbols,
            Err(e) => {
                self.warn(SymbolWarning::BadMiniDebugInfo {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
                None
            }
        }
    }

    fn load_dso(&mut self, recorded_path: &str, recorded_id: Option<&[u8]>) -> Option<LoadedDso> {
        let path = self.real_path(recorded_path);
        let present = || {
            let id = recorded_id.unwrap_or_default();
            crate::read_build_id(&path).as_deref() == Some(id)
                || self
                    .config
                    .build_id_cache
                    .as_ref()
                    .is_some_and(|root| BuildIdCache::new(root.clone()).find(id).is_some())
                || self
                    .config
                    .debuginfod_cache
                    .as_ref()
                    .is_some_and(|c| crate::debuginfod_file(c, id, "executable").is_some())
        };
        if let Some(hit) = self.cached_dso(recorded_id, present) {
            return Some(hit);
        }
        let (path, binary) = match self.root_binary(recorded_path, recorded_id) {
            Some((path, binary)) => (path, Some(binary)),
            None => {
                let path = self.real_path(recorded_path);
                let binary = self.recorded_binary(&path, recorded_id);
                (path, binary)
            }
        };
        let build_id: Option<Vec<u8>> = recorded_id
            .map(<[u8]>::to_vec)
            .or_else(|| binary.as_ref().and_then(|(_, e)| e.build_id.clone()));
        if recorded_id.is_none() && binary.is_some() {
            if let Some(hit) = self.cached_dso(build_id.as_deref(), || true) {
                return Some(hit);
            }
        }

        let mut dwarf = None;
        if self.config.dwarf {
            if let Some((bytes, elf)) = &binary {
                if elf.has_debug_info {
                    let bytes = bytes.clone();
                    dwarf = self.load_dwarf(&path, &path, &bytes);
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
            // The debug file a debuginfod client fetched (build-id checked
            // below, as every candidate is).
            if let (Some(id), Some(cache)) = (&build_id, &self.config.debuginfod_cache) {
                if let Some(debug) = crate::debuginfod_file(cache, id, "debuginfo") {
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
                    dwarf = self.load_dwarf(&path, &candidate, &bytes);
                }
                debug_elf = Some(elf);
                break;
            }
        }
        let found_debug_file = debug_elf.is_some();
        // MiniDebugInfo names a stripped binary's local functions when no
        // debug file did.
        if stripped && !debug_elf.as_ref().is_some_and(|d| d.has_symtab) {
            if let Some((bytes, _)) = &binary {
                debug_elf = self.load_minidebuginfo(&path, bytes).or(debug_elf);
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
        let no_debug_file = needs_debug_file && !found_debug_file;
        let dso = DsoSymbols::new(elf, dwarf);
        // Best effort: an entry that cannot be written costs only speed.
        let cache = self.config.symbol_cache.clone().map(SymbolCache::new);
        match (cache, &build_id) {
            (Some(c), Some(id)) => c
                .store(id, self.config.dwarf, &dso, no_debug_file)
                .map_or(Some(LoadedDso::Parsed(Box::new(dso))), |c| {
                    Some(LoadedDso::Cached(c))
                }),
            _ => Some(LoadedDso::Parsed(Box::new(dso))),
        }
    }
}
