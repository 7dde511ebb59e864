//! The profile model: processes, threads, mappings, locations, frames, an
//! interned stack table and samples.
//!
//! A [`Profile`] is built by one converter, [`ProfileBuilder`], that takes plain
//! values (pids, times, addresses, paths): live recording and perf.data reading
//! both feed it, so both take the same road. Reports read the profile through
//! the aggregate API in [`report`] (top functions, call graph, filters) and
//! output writers walk [`Profile::stack_frames`] or [`Profile::stack_weights`].
//!
//! Memory: a sample is a fixed-size record ([`Sample`], 64 bytes) that points at
//! an interned stack; a stack is one node of a prefix tree (parent stack,
//! location), so millions of samples that share call paths cost little.
//! Reports that need no per-sample times build the profile with
//! [`ProfileBuilder::aggregate_samples`]: samples that agree on all but
//! their times share one entry, so memory follows the distinct stacks and
//! not the length of the recording.
//!
//! What this module does not do: it reads no files and knows nothing of ELF or
//! DWARF. Symbolization ([`lwprof_symbols`]) fills the frames of each location
//! through [`Profile::resolve_locations`]; until then every location has one
//! placeholder frame named after its address.

mod builder;
mod chains;
pub mod report;

pub(crate) use builder::KERNEL_DSO_NAME;
pub use builder::{callchain_from_perf, MappingInput, ProfileBuilder, SampleInput};
pub use lwprof_symbols::ResolvedFrame;
pub use report::percent as report_percent;
pub use report::unresolved_name;
pub use report::{
    default_parent, CallGraphOptions, CallGraphOrder, CallNode, CallTree, Percentage, Regex,
    SampleFilter, SortKey, TopOptions, TopOrder, TopReport, TopRow, DEFAULT_PARENT_PATTERN,
};

use std::collections::HashMap;

/// A process id as the kernel reports it.
pub type Pid = u32;
/// A thread id as the kernel reports it.
pub type Tid = u32;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The index of this id in its table.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// An interned string in [`Profile::string`].
    StrId
);
id_type!(
    /// A DSO (executable, shared object, kernel, JIT map) in [`Profile::dso`].
    DsoId
);
id_type!(
    /// A process in [`Profile::process`]; a reused pid gets a new id.
    ProcessId
);
id_type!(
    /// A thread in [`Profile::thread`]; a reused tid gets a new id.
    ThreadId
);
id_type!(
    /// A unique code address in [`Profile::location`].
    LocationId
);
id_type!(
    /// A resolved (possibly inlined) function frame in [`Profile::frame`].
    FrameId
);
id_type!(
    /// A node of the stack prefix tree in [`Profile::stack`].
    StackId
);
id_type!(
    /// An event (cpu-clock, page-faults, ...) in [`Profile::events`].
    EventIndex
);

/// Whether a frame's code runs in user space or in the kernel: the two
/// address spaces a profile keeps apart. (The record layer's
/// `lwprof_records::CpuMode` is the full `misc` cpumode, guest and
/// hypervisor included; the converter folds it into this.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FrameMode {
    /// User-space code.
    User,
    /// Kernel code (including kernel modules).
    Kernel,
}

/// How to read a sample's weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SampleKind {
    /// An on-CPU sample; the weight is the event's period (nanoseconds for
    /// cpu-clock, a count for other events).
    #[default]
    OnCpu,
    /// An off-CPU interval; the weight is the time blocked, in nanoseconds.
    OffCpu,
}

/// One address of a callchain, as fed to [`ProfileBuilder::sample`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameAddress {
    /// The instruction address.
    pub address: u64,
    /// User or kernel space.
    pub mode: FrameMode,
    /// True for a return address (every caller frame): it points after the
    /// call instruction, so it is looked up at `address - 1` to land on the
    /// call itself (right function, right line).
    pub is_return_address: bool,
}

impl FrameAddress {
    /// The interrupted instruction (the leaf of a callchain, or the first
    /// address after a context switch in a perf callchain).
    pub fn ip(address: u64, mode: FrameMode) -> Self {
        Self {
            address,
            mode,
            is_return_address: false,
        }
    }

    /// A return address (a caller frame).
    pub fn return_address(address: u64, mode: FrameMode) -> Self {
        Self {
            address,
            mode,
            is_return_address: true,
        }
    }

    /// The address to symbolize: `address - 1` for return addresses.
    pub fn lookup_address(&self) -> u64 {
        if self.is_return_address {
            self.address.saturating_sub(1)
        } else {
            self.address
        }
    }
}

/// What a DSO is, which decides how its addresses are symbolized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DsoKind {
    /// A file on disk (executable or shared object): ELF symbols and DWARF.
    File,
    /// The kernel image and its modules: /proc/kallsyms.
    Kernel,
    /// Memory with no file (`//anon`, `[heap]`, `/memfd:...`, ...): JIT maps
    /// (`/tmp/perf-PID.map`, jitdump) may name it.
    Anonymous,
    /// A jitdump file (`jit-PID.dump`) mapped by a JIT to announce itself.
    JitDump,
    /// A kernel-provided pseudo object such as `[vdso]`.
    Special,
}

impl DsoKind {
    /// Classify a user-space mapping path the way perf does.
    pub fn from_user_path(path: &str) -> Self {
        let file_name = path.rsplit('/').next().unwrap_or(path);
        if path.is_empty()
            || path.starts_with("//anon")
            || path.starts_with("[anon")
            || path.starts_with("/memfd:")
            || path.starts_with("/dev/zero")
            || path == "[heap]"
            || path.starts_with("[stack")
            || path.starts_with("/SYSV")
        {
            DsoKind::Anonymous
        } else if path.starts_with('[') {
            DsoKind::Special
        } else if file_name.starts_with("jit-") && file_name.ends_with(".dump") {
            DsoKind::JitDump
        } else {
            DsoKind::File
        }
    }
}

/// An object that code lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dso {
    /// The path as recorded (`/usr/lib/libc.so.6`, `[kernel.kallsyms]`,
    /// `//anon`, `/tmp/perf-123.map`).
    pub path: String,
    /// The GNU build id recorded for it, if any.
    pub build_id: Option<Vec<u8>>,
    /// What kind of object it is.
    pub kind: DsoKind,
}

impl Dso {
    /// The last path component (`libc.so.6`), as perf shows it.
    pub fn short_name(&self) -> &str {
        if self.path.starts_with('[') {
            return &self.path;
        }
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// One mapping of a file (or anonymous memory) into a process, as it was
/// announced (later mappings may have replaced parts of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// File offset mapped at `start`.
    pub pgoff: u64,
    /// What is mapped.
    pub dso: DsoId,
    /// When it was mapped (0 for mappings that existed before recording).
    pub time: u64,
}

/// A change of a thread's name (`PERF_RECORD_COMM`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommChange {
    /// When the name changed.
    pub time: u64,
    /// The new name.
    pub name: StrId,
    /// True when the change came from exec(2).
    pub exec: bool,
}

/// A process (one address space). A pid reused after exit is a new process.
#[derive(Clone, Debug)]
pub struct Process {
    /// The process id.
    pub pid: Pid,
    /// The parent's pid, if a fork was seen.
    pub parent: Option<Pid>,
    /// First time seen (fork time, or the first event).
    pub start_time: u64,
    /// Exit time, if the exit was seen.
    pub end_time: Option<u64>,
    /// Every mapping announced for it, in arrival order (mappings copied from
    /// the parent at fork included).
    pub mappings: Vec<Mapping>,
    /// The threads of this process, main thread first when it was seen first.
    pub threads: Vec<ThreadId>,
    /// Its mount namespace (nsfs device and inode), when the recording has
    /// namespace records: which files its paths name.
    pub mount_namespace: Option<(u64, u64)>,
}

/// A thread. A tid reused after exit is a new thread.
#[derive(Clone, Debug)]
pub struct Thread {
    /// The thread id.
    pub tid: Tid,
    /// The process id.
    pub pid: Pid,
    /// The process it belongs to.
    pub process: ProcessId,
    /// Its names over time (exec history), oldest first.
    pub comms: Vec<CommChange>,
    /// First time seen.
    pub start_time: u64,
    /// Exit time, if the exit was seen.
    pub end_time: Option<u64>,
}

impl Thread {
    /// The name the thread had at `time` (the first name when `time` is
    /// before every change), if it ever had one.
    pub fn comm_at(&self, time: u64) -> Option<StrId> {
        let i = self.comms.partition_point(|c| c.time <= time);
        self.comms
            .get(i.saturating_sub(1))
            .or(self.comms.first())
            .map(|c| c.name)
    }
}

/// Which address space a [`Location`]'s address is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressSpace {
    /// A file offset in a file-backed DSO: the same code in two processes is
    /// one location.
    File(DsoId),
    /// A kernel address (symbolized with kallsyms).
    Kernel,
    /// An absolute address inside one process: anonymous or JIT memory, or an
    /// address outside every known mapping.
    Process(Pid),
}

/// A unique code address: what a frame table row is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// Where `address` is relative to.
    pub space: AddressSpace,
    /// The lookup address (return addresses already minus one): a file offset
    /// for [`AddressSpace::File`], else an absolute address.
    pub address: u64,
    /// The DSO the address was found in, if any (`[vdso]`, `//anon`, the
    /// kernel, or the file of [`AddressSpace::File`]).
    pub dso: Option<DsoId>,
}

impl Location {
    /// User or kernel code.
    pub fn mode(&self) -> FrameMode {
        match self.space {
            AddressSpace::Kernel => FrameMode::Kernel,
            _ => FrameMode::User,
        }
    }
}

/// A resolved function frame; a location has one frame per inline level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// The (demangled) function name, or `0x...` when unresolved.
    pub function: StrId,
    /// The source file, when debug info has it.
    pub file: Option<StrId>,
    /// The source line, when debug info has it.
    pub line: Option<u32>,
    /// The DSO the function is in.
    pub dso: Option<DsoId>,
    /// True for a function inlined into its caller (the next frame).
    pub inlined: bool,
    /// False for a placeholder named after the address.
    pub resolved: bool,
    /// User or kernel code.
    pub mode: FrameMode,
}

/// A node of the stack prefix tree: one location on top of a parent stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StackNode {
    /// The stack of the callers (towards the root), `None` at the root.
    pub parent: Option<StackId>,
    /// The code address of this frame.
    pub location: LocationId,
}

/// One sample, or, in a profile built with
/// [`ProfileBuilder::aggregate_samples`], `count` samples that agree on
/// everything but their times (thread, stack, name, CPU, event, kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// The thread it was taken in.
    pub thread: ThreadId,
    /// The time (perf clock, nanoseconds); the first one when `count > 1`.
    pub time: u64,
    /// The last time, when `count > 1`; else `time`.
    pub last_time: u64,
    /// How many samples this entry stands for (1 unless aggregated).
    pub count: u32,
    /// The leaf of its stack, `None` for an empty callchain.
    pub stack: Option<StackId>,
    /// Its weight: the period, or the off-CPU time.
    pub weight: u64,
    /// The thread's name when it was taken.
    pub comm: Option<StrId>,
    /// The CPU it was taken on; `u32::MAX` when the recording did not
    /// sample it (perf's -1).
    pub cpu: u32,
    /// Which event produced it.
    pub event: EventIndex,
    /// How to read `weight`.
    pub kind: SampleKind,
}

impl Sample {
    /// The mean weight of the samples this entry stands for: the period of
    /// one sample (the weight itself unless aggregated).
    pub fn period(&self) -> u64 {
        self.weight / u64::from(self.count.max(1))
    }
}

/// A frame of a stack walk: the frame and the location it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackFrame {
    /// The function frame.
    pub frame: FrameId,
    /// The code address it was resolved from.
    pub location: LocationId,
}

/// The weight of one unique (stack, thread) pair, for writers that want one
/// line per unique stack (folded stacks, pprof).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackWeight {
    /// The stack (leaf), `None` for an empty callchain.
    pub stack: Option<StackId>,
    /// The thread.
    pub thread: ThreadId,
    /// Sum of sample weights.
    pub weight: u64,
    /// Number of samples.
    pub samples: u64,
}

/// Interned strings.
#[derive(Clone, Debug, Default)]
pub(crate) struct StringTable {
    strings: Vec<Box<str>>,
    index: HashMap<Box<str>, StrId>,
}

impl StringTable {
    pub(crate) fn intern(&mut self, s: &str) -> StrId {
        if let Some(&id) = self.index.get(s) {
            return id;
        }
        let id = StrId(self.strings.len() as u32);
        self.strings.push(s.into());
        self.index.insert(s.into(), id);
        id
    }

    pub(crate) fn get(&self, id: StrId) -> &str {
        self.strings.get(id.index()).map_or("", |s| s)
    }

    pub(crate) fn find(&self, s: &str) -> Option<StrId> {
        self.index.get(s).copied()
    }
}

/// A recorded profile: what reports and output writers read.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub(crate) strings: StringTable,
    pub(crate) events: Vec<String>,
    pub(crate) dsos: Vec<Dso>,
    pub(crate) dso_index: HashMap<(String, Option<Vec<u8>>, DsoKind), DsoId>,
    pub(crate) processes: Vec<Process>,
    pub(crate) threads: Vec<Thread>,
    pub(crate) locations: Vec<Location>,
    /// For each location, the range of `location_frame_list` holding its
    /// frames, innermost first.
    pub(crate) location_frames: Vec<(u32, u32)>,
    pub(crate) location_frame_list: Vec<FrameId>,
    pub(crate) frames: Vec<Frame>,
    pub(crate) frame_index: HashMap<Frame, FrameId>,
    pub(crate) stacks: Vec<StackNode>,
    pub(crate) samples: Vec<Sample>,
    pub(crate) lost: u64,
    /// For each location, its distance from the start of its function's
    /// symbol, once symbolized (perf's `sym+off`).
    pub(crate) location_symbol_offsets: Vec<Option<u64>>,
    /// For each location, the address first sampled there as the kernel
    /// recorded it (absolute, a return address not moved back), and whether
    /// it was a return address: what perf prints for unresolved frames.
    pub(crate) location_raw: Vec<(u64, bool)>,
    /// Samples that agree on all but their times are one entry.
    pub(crate) aggregated: bool,
}

impl Profile {
    /// An interned string.
    pub fn string(&self, id: StrId) -> &str {
        self.strings.get(id)
    }

    /// The names of the events, indexed by [`EventIndex`].
    pub fn events(&self) -> &[String] {
        &self.events
    }

    /// All DSOs, indexed by [`DsoId`].
    pub fn dsos(&self) -> &[Dso] {
        &self.dsos
    }

    /// One DSO.
    pub fn dso(&self, id: DsoId) -> &Dso {
        &self.dsos[id.index()]
    }

    /// All processes, indexed by [`ProcessId`].
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// One process.
    pub fn process(&self, id: ProcessId) -> &Process {
        &self.processes[id.index()]
    }

    /// All threads, indexed by [`ThreadId`].
    pub fn threads(&self) -> &[Thread] {
        &self.threads
    }

    /// One thread.
    pub fn thread(&self, id: ThreadId) -> &Thread {
        &self.threads[id.index()]
    }

    /// The latest name of a thread (`"<tid>"`-less: empty if it never had one).
    pub fn thread_name(&self, id: ThreadId) -> &str {
        self.thread(id)
            .comms
            .last()
            .map_or("", |c| self.string(c.name))
    }

    /// All unique code addresses, indexed by [`LocationId`].
    pub fn locations(&self) -> &[Location] {
        &self.locations
    }

    /// One location.
    pub fn location(&self, id: LocationId) -> &Location {
        &self.locations[id.index()]
    }

    /// The frames of a location, innermost (most inlined) first; the last one
    /// is the function the code physically belongs to. Never empty.
    pub fn location_frames(&self, id: LocationId) -> &[FrameId] {
        let (start, len) = self.location_frames[id.index()];
        &self.location_frame_list[start as usize..(start + len) as usize]
    }

    /// All frames, indexed by [`FrameId`].
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// One frame.
    pub fn frame(&self, id: FrameId) -> &Frame {
        &self.frames[id.index()]
    }

    /// The function name of a frame.
    pub fn frame_function(&self, id: FrameId) -> &str {
        self.string(self.frame(id).function)
    }

    /// The stack table, indexed by [`StackId`].
    pub fn stacks(&self) -> &[StackNode] {
        &self.stacks
    }

    /// One stack node.
    pub fn stack(&self, id: StackId) -> &StackNode {
        &self.stacks[id.index()]
    }

    /// All samples, in arrival order (aggregated entries at their first
    /// time, see [`Profile::is_aggregated`]).
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Whether samples that agree on everything but their times were kept
    /// as one entry ([`ProfileBuilder::aggregate_samples`]): then a sample's
    /// `count` says how many it stands for, and per-sample times are gone
    /// (only each entry's first and last remain).
    pub fn is_aggregated(&self) -> bool {
        self.aggregated
    }

    /// How many samples the profile holds (the sum of the entries' counts).
    pub fn sample_count(&self) -> u64 {
        self.samples.iter().map(|s| u64::from(s.count)).sum()
    }

    /// How far a location is from the start of its function's symbol, when
    /// the symbolizer knew the symbol (perf's `sym+off`).
    pub fn location_symbol_offset(&self, id: LocationId) -> Option<u64> {
        self.location_symbol_offsets
            .get(id.index())
            .copied()
            .flatten()
    }

    /// Samples the kernel reported lost (LOST / LOST_SAMPLES records).
    pub fn lost_samples(&self) -> u64 {
        self.lost
    }

    /// The locations of a stack, leaf to root.
    pub fn stack_locations(&self, stack: Option<StackId>) -> StackLocations<'_> {
        StackLocations {
            profile: self,
            next: stack,
        }
    }

    /// The frames of a stack, leaf to root. With `inline` every inline level
    /// is a frame (innermost first); without, each location contributes only
    /// its outermost frame (inlined code is charged to its caller).
    pub fn stack_frames(&self, stack: Option<StackId>, inline: bool) -> StackFrames<'_> {
        StackFrames {
            locations: self.stack_locations(stack),
            current: None,
            pending: &[],
            inline,
        }
    }

    /// The samples that pass a filter.
    pub fn filtered_samples<'a>(
        &'a self,
        filter: &'a SampleFilter,
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        let compiled = report::CompiledFilter::new(self, filter);
        self.samples
            .iter()
            .filter(move |s| compiled.accepts(self, s))
    }

    /// Sample weights summed per unique (stack, thread), in first-seen order,
    /// for writers that emit one entry per unique stack.
    pub fn stack_weights(&self, filter: &SampleFilter) -> Vec<StackWeight> {
        let mut index: HashMap<(Option<StackId>, ThreadId), usize> = HashMap::new();
        let mut out: Vec<StackWeight> = Vec::new();
        for s in self.filtered_samples(filter) {
            let i = *index.entry((s.stack, s.thread)).or_insert_with(|| {
                out.push(StackWeight {
                    stack: s.stack,
                    thread: s.thread,
                    weight: 0,
                    samples: 0,
                });
                out.len() - 1
            });
            out[i].weight = out[i].weight.saturating_add(s.weight);
            out[i].samples += u64::from(s.count);
        }
        out
    }

    /// Replace the frames of every location with what `resolve` returns for
    /// it (an empty vector keeps the current frames). `resolve` gets the
    /// location and its DSO. Frames are listed innermost first.
    pub fn resolve_locations<F>(&mut self, mut resolve: F)
    where
        F: FnMut(&Location, Option<&Dso>) -> Vec<ResolvedFrame>,
    {
        let results: Vec<Vec<ResolvedFrame>> = self
            .locations
            .iter()
            .map(|loc| resolve(loc, loc.dso.map(|d| &self.dsos[d.index()])))
            .collect();
        let mut list = Vec::with_capacity(self.location_frame_list.len());
        let mut ranges = Vec::with_capacity(self.locations.len());
        self.location_symbol_offsets = results
            .iter()
            .map(|r| r.last().and_then(|f| f.symbol_offset))
            .collect();
        for (i, resolved) in results.into_iter().enumerate() {
            let start = list.len() as u32;
            if resolved.is_empty() {
                let (s, l) = self.location_frames[i];
                list.extend_from_slice(&self.location_frame_list[s as usize..(s + l) as usize]);
            } else {
                let loc = self.locations[i];
                for r in &resolved {
                    let dso = match &r.dso {
                        Some(name) => Some(self.intern_dso(name, None, dso_kind_for(&loc))),
                        None => loc.dso,
                    };
                    let frame = Frame {
                        function: self.strings.intern(&r.function),
                        file: r.file.as_deref().map(|f| self.strings.intern(f)),
                        line: r.line,
                        dso,
                        inlined: r.inlined,
                        resolved: true,
                        mode: loc.mode(),
                    };
                    list.push(self.intern_frame(frame));
                }
            }
            ranges.push((start, list.len() as u32 - start));
        }
        self.location_frame_list = list;
        self.location_frames = ranges;
    }

    pub(crate) fn intern_frame(&mut self, frame: Frame) -> FrameId {
        if let Some(&id) = self.frame_index.get(&frame) {
            return id;
        }
        let id = FrameId(self.frames.len() as u32);
        self.frames.push(frame);
        self.frame_index.insert(frame, id);
        id
    }

    pub(crate) fn intern_dso(
        &mut self,
        path: &str,
        build_id: Option<&[u8]>,
        kind: DsoKind,
    ) -> DsoId {
        let key = (path.to_string(), build_id.map(<[u8]>::to_vec), kind);
        if let Some(&id) = self.dso_index.get(&key) {
            return id;
        }
        let id = DsoId(self.dsos.len() as u32);
        self.dsos.push(Dso {
            path: key.0.clone(),
            build_id: key.1.clone(),
            kind,
        });
        self.dso_index.insert(key, id);
        id
    }

    /// The address perf shows for an unresolved entry of this location:
    /// the recorded address relative to its mapping (the file offset of a
    /// file-backed DSO), a return address not moved back.
    pub fn location_relative_address(&self, id: LocationId) -> u64 {
        let loc = self.location(id);
        match (loc.space, self.location_raw.get(id.index())) {
            (AddressSpace::File(_), Some(&(_, ret))) => loc.address.wrapping_add(u64::from(ret)),
            (_, Some(&(raw, _))) => raw,
            (_, None) => loc.address,
        }
    }

    /// The placeholder frame of a location: the address as recorded (`raw`:
    /// absolute, return addresses as they are), as perf prints unresolved
    /// frames of a call chain, in its DSO.
    pub(crate) fn placeholder_frame(&mut self, loc: &Location, raw: u64) -> FrameId {
        let name = format!("{raw:#x}");
        let frame = Frame {
            function: self.strings.intern(&name),
            file: None,
            line: None,
            dso: loc.dso,
            inlined: false,
            resolved: false,
            mode: loc.mode(),
        };
        self.intern_frame(frame)
    }
}

fn dso_kind_for(loc: &Location) -> DsoKind {
    match loc.space {
        AddressSpace::Kernel => DsoKind::Kernel,
        AddressSpace::Process(_) => DsoKind::Anonymous,
        AddressSpace::File(_) => DsoKind::File,
    }
}

/// Iterator over the locations of a stack, leaf to root.
#[derive(Clone, Debug)]
pub struct StackLocations<'a> {
    profile: &'a Profile,
    next: Option<StackId>,
}

impl Iterator for StackLocations<'_> {
    type Item = LocationId;

    fn next(&mut self) -> Option<LocationId> {
        let id = self.next?;
        let node = self.profile.stack(id);
        self.next = node.parent;
        Some(node.location)
    }
}

/// Iterator over the frames of a stack, leaf to root (see
/// [`Profile::stack_frames`]).
#[derive(Clone, Debug)]
pub struct StackFrames<'a> {
    locations: StackLocations<'a>,
    current: Option<LocationId>,
    pending: &'a [FrameId],
    inline: bool,
}

impl Iterator for StackFrames<'_> {
    type Item = StackFrame;

    fn next(&mut self) -> Option<StackFrame> {
        loop {
            if let (Some((first, rest)), Some(location)) =
                (self.pending.split_first(), self.current)
            {
                self.pending = rest;
                return Some(StackFrame {
                    frame: *first,
                    location,
                });
            }
            let location = self.locations.next()?;
            let frames = self.locations.profile.location_frames(location);
            self.current = Some(location);
            self.pending = if self.inline {
                frames
            } else {
                frames.last().map_or(&[][..], std::slice::from_ref)
            };
        }
    }
}
