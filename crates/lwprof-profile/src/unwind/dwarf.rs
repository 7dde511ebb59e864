//! [`DwarfUnwinder`]: per-process framehop module lists kept in step with
//! mapping events, and the unwind of one sample's copied user stack.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::Unwinder;

use super::elf::{SectionBytes, UnwindFile};
use super::fallback;
use crate::model::{callchain_from_perf, FrameAddress, FrameMode, MappingInput, Pid, Tid};
use lwprof_symbols::hex;

/// The most frames one DWARF unwind produces (a guard against cycles that
/// framehop's own checks miss).
pub const MAX_FRAMES: usize = 1024;

/// The user registers DWARF unwinding starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserRegs {
    /// Instruction pointer (`PERF_REG_X86_IP`).
    pub ip: u64,
    /// Stack pointer (`PERF_REG_X86_SP`): the copied stack starts here.
    pub sp: u64,
    /// Frame pointer (`PERF_REG_X86_BP`).
    pub bp: u64,
}

/// A sample's copy of the user stack (`PERF_SAMPLE_STACK_USER`), starting at
/// the sampled stack pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackCopy<'a> {
    /// The bytes as recorded (`attr.sample_stack_user` of them).
    pub data: &'a [u8],
    /// How many of them the kernel actually copied.
    pub dyn_size: u64,
}

impl<'a> StackCopy<'a> {
    /// The meaningful bytes: the first `dyn_size` of `data`.
    pub fn valid(&self) -> &'a [u8] {
        let n = usize::try_from(self.dyn_size)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        &self.data[..n]
    }
}

/// Where the user part of an unwind came from and why it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnwindEnd {
    /// DWARF reached the outermost frame.
    Root,
    /// DWARF needed stack beyond the copy (at `address`); the kernel's
    /// frame-pointer chain supplied what it could.
    StackTruncated {
        /// The stack address DWARF could not read.
        address: u64,
    },
    /// DWARF stopped on something else (an unreadable address below the copy,
    /// a loop, a null return address); its frames are kept as they are.
    Stopped,
    /// No user registers or stack: the kernel's frame-pointer chain was used
    /// as it is.
    FramePointerOnly,
}

/// What one unwind did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnwindReport {
    /// Kernel frames, from the kernel's callchain.
    pub kernel_frames: usize,
    /// User frames found by DWARF unwinding (the `ip` included).
    pub dwarf_frames: usize,
    /// User frames taken from the kernel's frame-pointer chain.
    pub fp_frames: usize,
    /// How the user part ended.
    pub end: UnwindEnd,
}

/// Something that left a mapping without DWARF unwind information (its
/// frames are then unwound with frame pointers), reported once per cause.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum UnwindWarning {
    /// The mapped file could not be read.
    #[error("{}: cannot read ({error}); its frames are unwound with frame pointers", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: String,
    },
    /// The file is not ELF, or is damaged.
    #[error("{}: not a usable ELF file ({reason}); its frames are unwound with frame pointers", path.display())]
    NotElf {
        /// The file.
        path: PathBuf,
        /// What `object` said.
        reason: String,
    },
    /// The file on disk is not the one that was mapped.
    #[error(
        "{}: build id {found} does not match the recorded {expected}; its unwind \
         information is not used (was it rebuilt or upgraded after recording?)",
        path.display()
    )]
    BuildIdMismatch {
        /// The file.
        path: PathBuf,
        /// The recorded build id (hex).
        expected: String,
        /// The file's build id (hex, empty when it has none).
        found: String,
    },
    /// The file has neither `.eh_frame` nor `.debug_frame`.
    #[error("{}: no .eh_frame or .debug_frame; its frames are unwound with frame pointers", path.display())]
    NoCfi {
        /// The file.
        path: PathBuf,
    },
}

/// Where the unwinder reads mapped files from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnwinderConfig {
    /// A directory that recorded paths are relative to (perf's `--symfs`);
    /// `None` reads them where they were recorded.
    pub symfs: Option<PathBuf>,
    /// The build-id cache to read a recorded build from when the path holds
    /// another one (see [`lwprof_symbols::BuildIdCache`]); `None` skips it.
    pub build_id_cache: Option<PathBuf>,
}

impl Default for UnwinderConfig {
    fn default() -> Self {
        Self {
            symfs: None,
            build_id_cache: lwprof_symbols::BuildIdCache::default_root(),
        }
    }
}

/// One mapping of a process, and whether its module is in the unwinder.
#[derive(Clone, Debug)]
struct MappingEntry {
    start: u64,
    end: u64,
    pgoff: u64,
    path: Arc<str>,
    build_id: Option<Arc<[u8]>>,
    /// True once considered: a module was added for it, or it has none.
    loaded: bool,
    /// True when a module starting at `start` is in the unwinder.
    has_module: bool,
}

/// The unwind view of one process.
#[derive(Clone)]
struct ProcessModules {
    unwinder: UnwinderX86_64<SectionBytes>,
    /// Current mappings, sorted by start, non-overlapping.
    mappings: Vec<MappingEntry>,
    /// Some mapping is not `loaded` yet.
    pending: bool,
}

impl ProcessModules {
    fn new() -> Self {
        ProcessModules {
            unwinder: UnwinderX86_64::new(),
            mappings: Vec::new(),
            pending: false,
        }
    }
}

type FileKey = (Arc<str>, Option<Arc<[u8]>>);

/// DWARF CFI unwinding of copied user stacks, with framehop.
///
/// Fed the same mapping events as the profile builder
/// ([`DwarfUnwinder::mmap`], [`DwarfUnwinder::fork`], [`DwarfUnwinder::exec`],
/// [`DwarfUnwinder::exit`]), it keeps each process's mappings. Files are
/// read lazily: the first unwind in a process reads (once per path and build
/// id, with `std::fs::read`) the files of the mappings it has not loaded yet
/// and adds a framehop module per mapping at the mapping's load bias.
/// Mappings without usable CFI (anonymous and JIT memory, `[vdso]`, files
/// that cannot be read) get no module: framehop unwinds through them with
/// frame pointers.
pub struct DwarfUnwinder {
    config: UnwinderConfig,
    processes: HashMap<Pid, ProcessModules>,
    files: HashMap<FileKey, Option<Arc<UnwindFile>>>,
    cache: CacheX86_64,
    warnings: Vec<UnwindWarning>,
    warned: HashSet<UnwindWarning>,
    /// Scratch: the kernel callchain as frames.
    chain: Vec<FrameAddress>,
    /// Scratch: its user addresses.
    fp_user: Vec<u64>,
}

impl std::fmt::Debug for DwarfUnwinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DwarfUnwinder")
            .field("config", &self.config)
            .field("processes", &self.processes.len())
            .field("files", &self.files.len())
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Default for DwarfUnwinder {
    fn default() -> Self {
        Self::new(UnwinderConfig::default())
    }
}

impl DwarfUnwinder {
    /// An unwinder that knows no process yet.
    pub fn new(config: UnwinderConfig) -> Self {
        DwarfUnwinder {
            config,
            processes: HashMap::new(),
            files: HashMap::new(),
            cache: CacheX86_64::new(),
            warnings: Vec::new(),
            warned: HashSet::new(),
            chain: Vec::new(),
            fp_user: Vec::new(),
        }
    }

    /// Warnings so far, each cause once, in order.
    pub fn warnings(&self) -> &[UnwindWarning] {
        &self.warnings
    }

    /// A mapping event (the same values [`crate::ProfileBuilder::mmap`]
    /// takes). Kernel mappings are ignored; what the new mapping overlaps
    /// is replaced, as the kernel replaces those pages.
    pub fn mmap(&mut self, m: &MappingInput<'_>) {
        if m.mode == FrameMode::Kernel || m.pid == u32::MAX || m.len == 0 {
            return;
        }
        let end = m.start.saturating_add(m.len);
        let path: Arc<str> = Arc::from(String::from_utf8_lossy(m.path).as_ref());
        let entry = MappingEntry {
            start: m.start,
            end,
            pgoff: m.pgoff,
            path,
            build_id: m.build_id.map(Arc::from),
            loaded: false,
            has_module: false,
        };
        let p = self
            .processes
            .entry(m.pid)
            .or_insert_with(ProcessModules::new);
        insert_mapping(p, entry);
    }

    /// A fork: a new process (`pid != ppid`) starts with a copy of its
    /// parent's mappings; a new thread changes nothing.
    pub fn fork(&mut self, pid: Pid, ppid: Pid) {
        if pid == ppid {
            return;
        }
        let child = self
            .processes
            .get(&ppid)
            .cloned()
            .unwrap_or_else(ProcessModules::new);
        self.processes.insert(pid, child);
    }

    /// An exec (`PERF_RECORD_COMM` with the exec flag): the process's
    /// mappings are gone; the new image's arrive as mapping events.
    pub fn exec(&mut self, pid: Pid) {
        self.processes.insert(pid, ProcessModules::new());
    }

    /// A thread exited; when it is the main thread the process is forgotten.
    pub fn exit(&mut self, pid: Pid, tid: Tid) {
        if pid == tid {
            self.processes.remove(&pid);
        }
    }

    /// Unwinds one sample; returns its frames, leaf first (see
    /// [`DwarfUnwinder::unwind_into`]).
    pub fn unwind(
        &mut self,
        pid: Pid,
        regs: UserRegs,
        stack: StackCopy<'_>,
        kernel_callchain: &[u64],
    ) -> Vec<FrameAddress> {
        let mut out = Vec::new();
        self.unwind_into(pid, Some((regs, stack)), kernel_callchain, &mut out);
        out
    }

    /// Unwinds one sample into `out` (cleared first), leaf first: the kernel
    /// frames of `kernel_callchain` (the raw `PERF_SAMPLE_CALLCHAIN`, with
    /// its `PERF_CONTEXT_*` markers), then the user frames DWARF finds from
    /// `user` (registers and stack copy). When DWARF stops because the copy
    /// is too short, the callchain's remaining user frames (frame pointers)
    /// follow, matched by stack position (see [`super::fallback`]). Without
    /// `user` (a kernel thread, a 32-bit task, FP mode) the callchain's user
    /// frames are used as they are.
    pub fn unwind_into(
        &mut self,
        pid: Pid,
        user: Option<(UserRegs, StackCopy<'_>)>,
        kernel_callchain: &[u64],
        out: &mut Vec<FrameAddress>,
    ) -> UnwindReport {
        out.clear();
        let mut chain = std::mem::take(&mut self.chain);
        chain.clear();
        callchain_from_perf(kernel_callchain, FrameMode::User, &mut chain);
        out.extend(chain.iter().filter(|f| f.mode == FrameMode::Kernel));
        let kernel_frames = out.len();
        let mut fp_user = std::mem::take(&mut self.fp_user);
        fp_user.clear();
        fp_user.extend(
            chain
                .iter()
                .filter(|f| f.mode == FrameMode::User)
                .map(|f| f.address),
        );
        self.chain = chain;
        let report = self.unwind_user(pid, user, &fp_user, kernel_frames, out);
        self.fp_user = fp_user;
        report
    }

    /// The user part of [`DwarfUnwinder::unwind_into`]; `fp_user` is the
    /// kernel's user chain (ip first).
    fn unwind_user(
        &mut self,
        pid: Pid,
        user: Option<(UserRegs, StackCopy<'_>)>,
        fp_user: &[u64],
        kernel_frames: usize,
        out: &mut Vec<FrameAddress>,
    ) -> UnwindReport {
        let Some((regs, stack)) = user else {
            if let Some((first, rest)) = fp_user.split_first() {
                out.push(FrameAddress::ip(*first, FrameMode::User));
                out.extend(
                    rest.iter()
                        .map(|&a| FrameAddress::return_address(a, FrameMode::User)),
                );
            }
            return UnwindReport {
                kernel_frames,
                dwarf_frames: 0,
                fp_frames: fp_user.len(),
                end: UnwindEnd::FramePointerOnly,
            };
        };

        self.load_pending(pid);
        let bytes = stack.valid();
        let stack_end = regs.sp.saturating_add(bytes.len() as u64);
        let mut read_stack = |addr: u64| -> Result<u64, ()> {
            let off = usize::try_from(addr.checked_sub(regs.sp).ok_or(())?).map_err(|_| ())?;
            let word = bytes.get(off..off.checked_add(8).ok_or(())?).ok_or(())?;
            Ok(u64::from_le_bytes(word.try_into().map_err(|_| ())?))
        };
        let empty;
        let unwinder = match self.processes.get(&pid) {
            Some(p) => &p.unwinder,
            None => {
                empty = UnwinderX86_64::new();
                &empty
            }
        };
        let mut iter = unwinder.iter_frames(
            regs.ip,
            UnwindRegsX86_64::new(regs.ip, regs.sp, regs.bp),
            &mut self.cache,
            &mut read_stack,
        );
        let user_start = out.len();
        let mut end = UnwindEnd::Stopped;
        while out.len() - user_start < MAX_FRAMES {
            match iter.next() {
                Ok(Some(framehop::FrameAddress::InstructionPointer(a))) => {
                    out.push(FrameAddress::ip(a, FrameMode::User));
                }
                Ok(Some(framehop::FrameAddress::ReturnAddress(a))) => {
                    out.push(FrameAddress::return_address(a.get(), FrameMode::User));
                }
                Ok(None) => {
                    end = UnwindEnd::Root;
                    break;
                }
                Err(framehop::Error::CouldNotReadStack(address)) if address >= stack_end => {
                    end = UnwindEnd::StackTruncated { address };
                    break;
                }
                Err(_) => break,
            }
        }
        let dwarf_frames = out.len() - user_start;
        let mut fp_frames = 0;
        if let UnwindEnd::StackTruncated { .. } = end {
            let last = out[user_start..].last().map(|f| f.address);
            let fp_returns = fp_user.get(1..).unwrap_or(&[]);
            let tail = fallback::fp_tail(regs.bp, regs.sp, bytes, fp_returns, last);
            fp_frames = tail.len();
            out.extend(
                tail.iter()
                    .map(|&a| FrameAddress::return_address(a, FrameMode::User)),
            );
        }
        UnwindReport {
            kernel_frames,
            dwarf_frames,
            fp_frames,
            end,
        }
    }

    /// Adds modules for the mappings of `pid` not loaded yet.
    fn load_pending(&mut self, pid: Pid) {
        if !self.processes.get(&pid).is_some_and(|p| p.pending) {
            return;
        }
        let Some(mut p) = self.processes.remove(&pid) else {
            return;
        };
        {
            for i in 0..p.mappings.len() {
                if p.mappings[i].loaded {
                    continue;
                }
                p.mappings[i].loaded = true;
                let m = p.mappings[i].clone();
                if !is_file_path(&m.path) {
                    continue;
                }
                if let Some(file) = self.file(&m.path, m.build_id.as_deref()) {
                    let module = file.module(&m.path, m.start, m.end, m.pgoff);
                    p.unwinder.add_module(module);
                    p.mappings[i].has_module = true;
                }
            }
            p.pending = false;
        }
        self.processes.insert(pid, p);
    }

    /// The parsed file for a path and build id, read once.
    fn file(&mut self, path: &Arc<str>, build_id: Option<&[u8]>) -> Option<Arc<UnwindFile>> {
        let key: FileKey = (Arc::clone(path), build_id.map(Arc::from));
        if let Some(f) = self.files.get(&key) {
            return f.clone();
        }
        let loaded = self.load_file(path, build_id);
        self.files.insert(key, loaded.clone());
        loaded
    }

    fn load_file(&mut self, path: &str, build_id: Option<&[u8]>) -> Option<Arc<UnwindFile>> {
        let mut on_disk = match &self.config.symfs {
            Some(root) => root.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        };
        if let (Some(id), Some(root)) = (build_id, &self.config.build_id_cache) {
            // The recorded build, if the path no longer holds it.
            if lwprof_symbols::read_build_id(&on_disk).as_deref() != Some(id) {
                if let Some(cached) = lwprof_symbols::BuildIdCache::new(root.clone()).find(id) {
                    on_disk = cached;
                }
            }
        }
        let data = match std::fs::read(&on_disk) {
            Ok(d) => d,
            Err(e) => {
                self.warn(UnwindWarning::Unreadable {
                    path: on_disk,
                    error: e.to_string(),
                });
                return None;
            }
        };
        let file = match UnwindFile::parse(Arc::new(data)) {
            Ok(f) => f,
            Err(e) => {
                self.warn(UnwindWarning::NotElf {
                    path: on_disk,
                    reason: e.to_string(),
                });
                return None;
            }
        };
        if let Some(expected) = build_id {
            if file.build_id.as_deref() != Some(expected) {
                self.warn(UnwindWarning::BuildIdMismatch {
                    path: on_disk,
                    expected: hex(expected),
                    found: file.build_id.as_deref().map(hex).unwrap_or_default(),
                });
                return None;
            }
        }
        if !file.has_cfi() {
            self.warn(UnwindWarning::NoCfi { path: on_disk });
            return None;
        }
        Some(Arc::new(file))
    }

    fn warn(&mut self, w: UnwindWarning) {
        if self.warned.insert(w.clone()) {
            self.warnings.push(w);
        }
    }

    /// The mappings of `pid` that have a DWARF module, as `(start, end,
    /// path)`, sorted (for tests and diagnostics; loads pending files).
    pub fn modules(&mut self, pid: Pid) -> Vec<(u64, u64, String)> {
        self.load_pending(pid);
        self.processes.get(&pid).map_or_else(Vec::new, |p| {
            p.mappings
                .iter()
                .filter(|m| m.has_module)
                .map(|m| (m.start, m.end, m.path.to_string()))
                .collect()
        })
    }
}

/// A path worth reading as an ELF file: not anonymous memory, not a
/// kernel-provided object such as `[vdso]`.
fn is_file_path(path: &str) -> bool {
    matches!(
        crate::model::DsoKind::from_user_path(path),
        crate::model::DsoKind::File
    ) && Path::new(path).is_absolute()
}

/// Inserts `new` into the sorted, non-overlapping mapping list, removing
/// what it overlaps (and its modules); the parts of an old mapping outside
/// the new one stay, to be given new modules.
fn insert_mapping(p: &mut ProcessModules, new: MappingEntry) {
    let mut out = Vec::with_capacity(p.mappings.len() + 2);
    for m in p.mappings.drain(..) {
        if m.end <= new.start || m.start >= new.end {
            out.push(m);
            continue;
        }
        if m.has_module {
            p.unwinder.remove_module(m.start);
        }
        if m.start < new.start {
            out.push(MappingEntry {
                end: new.start,
                loaded: false,
                has_module: false,
                ..m.clone()
            });
            p.pending = true;
        }
        if m.end > new.end {
            out.push(MappingEntry {
                start: new.end,
                pgoff: m.pgoff.saturating_add(new.end - m.start),
                loaded: false,
                has_module: false,
                ..m
            });
            p.pending = true;
        }
    }
    let at = out.partition_point(|m| m.start < new.start);
    out.insert(at, new);
    p.mappings = out;
    p.pending = true;
}
