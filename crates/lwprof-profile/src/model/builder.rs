//! The one converter from plain recorded values to a [`Profile`].
//!
//! Live recording and perf.data reading both call the same methods, in time
//! order: [`ProfileBuilder::comm`], [`ProfileBuilder::fork`],
//! [`ProfileBuilder::exit`], [`ProfileBuilder::mmap`],
//! [`ProfileBuilder::sample`], then [`ProfileBuilder::finish`]. It keeps the
//! current mappings of each process, so each sample address is turned into a
//! [`Location`] (file offset in a DSO, kernel address, or process address)
//! the moment it arrives; no record-parsing type is needed.

use rustc_hash::FxHashMap;

use super::chains::ChainCache;

use super::{
    AddressSpace, CommChange, DsoId, DsoKind, EventIndex, FrameAddress, FrameMode, Location,
    LocationId, Mapping, Pid, Process, ProcessId, Profile, Sample, SampleKind, StackId, StackNode,
    StrId, Thread, ThreadId, Tid,
};

/// The pid perf uses for kernel mappings (-1).
const KERNEL_PID: Pid = u32::MAX;

// perf_callchain_context markers; the bindings type them c_ulong, which is
// u32 on 32-bit targets, hence the casts.
#[allow(clippy::unnecessary_cast)]
const CONTEXT_MAX: u64 = lwprof_records::abi::context::MAX;
#[allow(clippy::unnecessary_cast)]
const CONTEXT_KERNEL: u64 = lwprof_records::abi::context::KERNEL;
#[allow(clippy::unnecessary_cast)]
const CONTEXT_USER: u64 = lwprof_records::abi::context::USER;

/// The name of the idle task (pid 0), which has no COMM record, as perf
/// shows it.
const IDLE_COMM: &str = "swapper";

/// The name of the kernel DSO, as perf shows it.
pub(crate) const KERNEL_DSO_NAME: &str = "[kernel.kallsyms]";

/// One sample, as plain values.
#[derive(Clone, Copy, Debug)]
pub struct SampleInput<'a> {
    /// Process id.
    pub pid: Pid,
    /// Thread id.
    pub tid: Tid,
    /// Sample time (perf clock, ns).
    pub time: u64,
    /// CPU it was taken on.
    pub cpu: u32,
    /// Which event (from [`ProfileBuilder::add_event`]).
    pub event: EventIndex,
    /// The period, or the off-CPU time in ns.
    pub weight: u64,
    /// How to read `weight`.
    pub kind: SampleKind,
    /// Instruction addresses, leaf first (see [`callchain_from_perf`]).
    pub callchain: &'a [FrameAddress],
}

/// One mapping event (`PERF_RECORD_MMAP`/`MMAP2`), as plain values.
#[derive(Clone, Copy, Debug)]
pub struct MappingInput<'a> {
    /// Process id; `u32::MAX` (-1) for kernel mappings.
    pub pid: Pid,
    /// When it was mapped (0 for synthesized mappings).
    pub time: u64,
    /// First address.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// File offset mapped at `start`.
    pub pgoff: u64,
    /// The path, as the kernel reported it (bytes; not necessarily UTF-8).
    pub path: &'a [u8],
    /// The build id, when MMAP2 or the perf.data build-id table carried one.
    pub build_id: Option<&'a [u8]>,
    /// Kernel or user mapping (the record's cpumode).
    pub mode: FrameMode,
}

#[derive(Clone, Copy, Debug)]
struct ActiveMapping {
    start: u64,
    end: u64,
    pgoff: u64,
    dso: DsoId,
    kind: DsoKind,
}

/// Builds a [`Profile`] from plain values fed in time order.
#[derive(Debug, Default)]
pub struct ProfileBuilder {
    profile: Profile,
    location_index: FxHashMap<Location, LocationId>,
    stack_index: FxHashMap<(Option<StackId>, LocationId), StackId>,
    live_processes: FxHashMap<Pid, ProcessId>,
    live_threads: FxHashMap<Tid, ThreadId>,
    /// Current mappings per process (indexed by ProcessId), sorted by start.
    active: Vec<Vec<ActiveMapping>>,
    kernel_mappings: Vec<ActiveMapping>,
    kernel_dso: Option<DsoId>,
    /// Callchains seen since mappings last changed, and their stacks.
    chains: ChainCache,
    /// With aggregation on: the entry of each sample key.
    aggregate: Option<FxHashMap<AggregateKey, u32>>,
}

/// What samples must agree on to share one entry: all but their times and
/// weights.
type AggregateKey = (
    ThreadId,
    Option<StackId>,
    Option<StrId>,
    u32,
    EventIndex,
    SampleKind,
);

impl ProfileBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declare an event (`cpu-clock`, ...); samples refer to it by index.
    pub fn add_event(&mut self, name: &str) -> EventIndex {
        self.profile.events.push(name.to_string());
        EventIndex(self.profile.events.len() as u32 - 1)
    }

    /// Keep samples that agree on everything but their times (thread,
    /// stack, thread name, CPU, event, kind) as one [`Sample`] entry with a
    /// count, a summed weight and the first and last time, so memory grows
    /// with the number of distinct stacks, not with the file. For reports
    /// that need no per-sample times (no timeline, no time filter); call it
    /// before the first sample.
    pub fn aggregate_samples(&mut self, on: bool) {
        self.aggregate = on.then(FxHashMap::default);
        self.profile.aggregated = on;
    }

    /// Count samples the kernel reported lost.
    pub fn lost(&mut self, count: u64) {
        self.profile.lost = self.profile.lost.saturating_add(count);
    }

    /// A thread got a name (`PERF_RECORD_COMM`); with `exec` the process
    /// exec'd. Its old mappings stay until the new image's mappings (which
    /// the kernel announces right after) replace them, as perf keeps them:
    /// a sample taken inside execve still has its user return address in
    /// the old image.
    pub fn comm(&mut self, pid: Pid, tid: Tid, time: u64, name: &[u8], exec: bool) {
        let thread = self.thread_for(pid, tid, time);
        let name = self.profile.strings.intern(&String::from_utf8_lossy(name));
        let t = &mut self.profile.threads[thread.index()];
        t.comms.push(CommChange { time, name, exec });
        if exec {
            self.chains.clear();
        }
    }

    /// A fork (`PERF_RECORD_FORK`): a new process when `pid != ppid` (it
    /// inherits the parent's mappings), else a new thread in `pid`. The new
    /// thread starts with the parent thread's name.
    pub fn fork(&mut self, pid: Pid, ppid: Pid, tid: Tid, ptid: Tid, time: u64) {
        let parent_thread = self
            .live_threads
            .get(&ptid)
            .copied()
            .filter(|t| self.profile.threads[t.index()].pid == ppid);
        let parent_comm =
            parent_thread.and_then(|t| self.profile.threads[t.index()].comms.last().copied());
        let process = if pid != ppid {
            let process = self.new_process(pid, Some(ppid), time);
            if let Some(&parent) = self.live_processes.get(&ppid) {
                let inherited = self.active[parent.index()].clone();
                let history = &mut self.profile.processes[process.index()].mappings;
                history.extend(inherited.iter().map(|m| Mapping {
                    start: m.start,
                    end: m.end,
                    pgoff: m.pgoff,
                    dso: m.dso,
                    time,
                }));
                self.active[process.index()] = inherited;
                let ns = self.profile.processes[parent.index()].mount_namespace;
                self.profile.processes[process.index()].mount_namespace = ns;
            }
            // Register after copying: a pid can fork a child with its own pid
            // only in a bad trace, and then the parent lookup above wins.
            self.live_processes.insert(pid, process);
            process
        } else {
            self.process_for(pid, time)
        };
        let thread = self.new_thread(pid, tid, process, time);
        if let Some(c) = parent_comm {
            self.profile.threads[thread.index()].comms.push(CommChange {
                time,
                name: c.name,
                exec: false,
            });
        }
    }

    /// A thread exited (`PERF_RECORD_EXIT`); when `tid == pid` the process
    /// ends too. The kernel writes EXIT before the task has finished
    /// running (the rest of do_exit, the last switch away), so later samples
    /// with the same tid still belong to it, name included; a reused tid
    /// always comes with a FORK first, which starts a new thread.
    pub fn exit(&mut self, pid: Pid, tid: Tid, time: u64) {
        if let Some(&t) = self.live_threads.get(&tid) {
            self.profile.threads[t.index()].end_time = Some(time);
        }
        if pid == tid {
            if let Some(&p) = self.live_processes.get(&pid) {
                self.profile.processes[p.index()].end_time = Some(time);
            }
        }
    }

    /// A task's namespaces (`PERF_RECORD_NAMESPACES`, perf record
    /// `--namespaces`): `mount` is its mount namespace (nsfs device and
    /// inode), which then holds for its process.
    pub fn namespaces(&mut self, pid: Pid, time: u64, mount: (u64, u64)) {
        let p = self.process_for(pid, time);
        self.profile.processes[p.index()].mount_namespace = Some(mount);
    }

    /// A mapping event. Parts of earlier mappings it overlaps are replaced.
    pub fn mmap(&mut self, m: &MappingInput<'_>) {
        self.chains.clear();
        let path = String::from_utf8_lossy(m.path);
        let end = m.start.saturating_add(m.len);
        if m.mode == FrameMode::Kernel || m.pid == KERNEL_PID {
            let dso = self.profile.intern_dso(&path, m.build_id, DsoKind::Kernel);
            insert_mapping(
                &mut self.kernel_mappings,
                ActiveMapping {
                    start: m.start,
                    end,
                    pgoff: m.pgoff,
                    dso,
                    kind: DsoKind::Kernel,
                },
            );
            return;
        }
        let kind = DsoKind::from_user_path(&path);
        let dso = self.profile.intern_dso(&path, m.build_id, kind);
        let process = self.process_for(m.pid, m.time);
        self.profile.processes[process.index()]
            .mappings
            .push(Mapping {
                start: m.start,
                end,
                pgoff: m.pgoff,
                dso,
                time: m.time,
            });
        insert_mapping(
            &mut self.active[process.index()],
            ActiveMapping {
                start: m.start,
                end,
                pgoff: m.pgoff,
                dso,
                kind,
            },
        );
    }

    /// A sample: its addresses become locations, its callchain a stack.
    pub fn sample(&mut self, s: &SampleInput<'_>) {
        let thread = self.thread_for(s.pid, s.tid, s.time);
        let process = self.profile.threads[thread.index()].process;
        let hash = ChainCache::hash(process, s.callchain);
        let stack = match self.chains.get(hash, process, s.callchain) {
            Some(stack) => stack,
            None => {
                let mut stack: Option<StackId> = None;
                for addr in s.callchain.iter().rev() {
                    let location = self.location_for(process, s.pid, addr);
                    stack = Some(self.intern_stack(stack, location));
                }
                self.chains.insert(hash, process, s.callchain, stack);
                stack
            }
        };
        // A thread seen without its fork or comm takes its process's name.
        let comm = self.profile.threads[thread.index()]
            .comm_at(s.time)
            .or_else(|| {
                let main = self.profile.processes[process.index()].threads.first()?;
                self.profile.threads[main.index()].comm_at(s.time)
            });
        let sample = Sample {
            thread,
            time: s.time,
            last_time: s.time,
            count: 1,
            stack,
            weight: s.weight,
            comm,
            cpu: s.cpu,
            event: s.event,
            kind: s.kind,
        };
        self.push_sample(sample);
    }

    /// Append a sample, or add it to its entry when aggregating.
    fn push_sample(&mut self, sample: Sample) {
        let samples = &mut self.profile.samples;
        let Some(index) = &mut self.aggregate else {
            samples.push(sample);
            return;
        };
        let key = (
            sample.thread,
            sample.stack,
            sample.comm,
            sample.cpu,
            sample.event,
            sample.kind,
        );
        if let Some(&i) = index.get(&key) {
            let e = &mut samples[i as usize];
            if e.count < u32::MAX {
                e.count += 1;
                e.weight = e.weight.saturating_add(sample.weight);
                e.time = e.time.min(sample.time);
                e.last_time = e.last_time.max(sample.time);
                return;
            }
        }
        // Past 2^32 entries, samples are appended unindexed.
        if let Ok(i) = u32::try_from(samples.len()) {
            index.insert(key, i);
        }
        samples.push(sample);
    }

    /// Takes back the sample just fed (for a caller that streams samples
    /// out instead of keeping them: memory then grows with the distinct
    /// stacks, not with the samples). `None` when aggregating.
    pub fn take_last_sample(&mut self) -> Option<Sample> {
        if self.aggregate.is_some() {
            return None;
        }
        self.profile.samples.pop()
    }

    /// The profile so far: threads, mappings, locations and stacks of the
    /// samples fed.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The finished profile (unsymbolized: each location has a placeholder
    /// frame until [`lwprof_symbols::Symbolizer::symbolize_profile`] runs).
    pub fn finish(self) -> Profile {
        self.profile
    }

    fn location_for(&mut self, process: ProcessId, pid: Pid, addr: &FrameAddress) -> LocationId {
        let lookup = addr.lookup_address();
        let location = match addr.mode {
            FrameMode::Kernel => {
                let dso = match find_mapping(&self.kernel_mappings, lookup) {
                    Some(m) => m.dso,
                    None => self.kernel_dso(),
                };
                Location {
                    space: AddressSpace::Kernel,
                    address: lookup,
                    dso: Some(dso),
                }
            }
            FrameMode::User => match find_mapping(&self.active[process.index()], lookup) {
                Some(m) if matches!(m.kind, DsoKind::File | DsoKind::JitDump) => Location {
                    space: AddressSpace::File(m.dso),
                    // Wrapping: a hostile file's pgoff may be anything.
                    address: (lookup - m.start).wrapping_add(m.pgoff),
                    dso: Some(m.dso),
                },
                Some(m) => Location {
                    space: AddressSpace::Process(pid),
                    address: lookup,
                    dso: Some(m.dso),
                },
                None => Location {
                    space: AddressSpace::Process(pid),
                    address: lookup,
                    dso: None,
                },
            },
        };
        if let Some(&id) = self.location_index.get(&location) {
            return id;
        }
        let id = LocationId(self.profile.locations.len() as u32);
        self.profile.locations.push(location);
        self.profile
            .location_raw
            .push((addr.address, addr.is_return_address));
        let frame = self.profile.placeholder_frame(&location, addr.address);
        let start = self.profile.location_frame_list.len() as u32;
        self.profile.location_frame_list.push(frame);
        self.profile.location_frames.push((start, 1));
        self.location_index.insert(location, id);
        id
    }

    fn intern_stack(&mut self, parent: Option<StackId>, location: LocationId) -> StackId {
        *self
            .stack_index
            .entry((parent, location))
            .or_insert_with(|| {
                self.profile.stacks.push(StackNode { parent, location });
                StackId(self.profile.stacks.len() as u32 - 1)
            })
    }

    fn kernel_dso(&mut self) -> DsoId {
        match self.kernel_dso {
            Some(d) => d,
            None => {
                let d = self
                    .profile
                    .intern_dso(KERNEL_DSO_NAME, None, DsoKind::Kernel);
                self.kernel_dso = Some(d);
                d
            }
        }
    }

    fn new_process(&mut self, pid: Pid, parent: Option<Pid>, time: u64) -> ProcessId {
        let id = ProcessId(self.profile.processes.len() as u32);
        self.profile.processes.push(Process {
            pid,
            parent,
            start_time: time,
            end_time: None,
            mappings: Vec::new(),
            threads: Vec::new(),
            mount_namespace: None,
        });
        self.active.push(Vec::new());
        id
    }

    fn process_for(&mut self, pid: Pid, time: u64) -> ProcessId {
        if let Some(&p) = self.live_processes.get(&pid) {
            return p;
        }
        let p = self.new_process(pid, None, time);
        self.live_processes.insert(pid, p);
        p
    }

    fn new_thread(&mut self, pid: Pid, tid: Tid, process: ProcessId, time: u64) -> ThreadId {
        let id = ThreadId(self.profile.threads.len() as u32);
        self.profile.threads.push(Thread {
            tid,
            pid,
            process,
            comms: Vec::new(),
            start_time: time,
            end_time: None,
        });
        self.profile.processes[process.index()].threads.push(id);
        self.live_threads.insert(tid, id);
        if pid == 0 && tid == 0 {
            // The idle task never gets a COMM record; perf names it too.
            let name = self.profile.strings.intern(IDLE_COMM);
            self.profile.threads[id.index()].comms.push(CommChange {
                time: 0,
                name,
                exec: false,
            });
        }
        id
    }

    fn thread_for(&mut self, pid: Pid, tid: Tid, time: u64) -> ThreadId {
        if let Some(&t) = self.live_threads.get(&tid) {
            if self.profile.threads[t.index()].pid == pid {
                return t;
            }
        }
        let process = self.process_for(pid, time);
        self.new_thread(pid, tid, process, time)
    }
}

fn find_mapping(maps: &[ActiveMapping], addr: u64) -> Option<&ActiveMapping> {
    let i = maps.partition_point(|m| m.start <= addr);
    let m = maps.get(i.checked_sub(1)?)?;
    (addr < m.end).then_some(m)
}

/// Insert `new` into a sorted, non-overlapping list, trimming or splitting
/// what it overlaps (as a new mmap replaces those pages).
fn insert_mapping(maps: &mut Vec<ActiveMapping>, new: ActiveMapping) {
    if new.start >= new.end {
        return;
    }
    let mut out = Vec::with_capacity(maps.len() + 2);
    for m in maps.drain(..) {
        if m.end <= new.start || m.start >= new.end {
            out.push(m);
            continue;
        }
        if m.start < new.start {
            out.push(ActiveMapping {
                end: new.start,
                ..m
            });
        }
        if m.end > new.end {
            out.push(ActiveMapping {
                start: new.end,
                // Wrapping: a hostile file's pgoff may be anything.
                pgoff: m.pgoff.wrapping_add(new.end - m.start),
                ..m
            });
        }
    }
    let at = out.partition_point(|m| m.start < new.start);
    out.insert(at, new);
    *maps = out;
}

/// Turn a raw perf callchain (`PERF_SAMPLE_CALLCHAIN`, with its
/// `PERF_CONTEXT_*` markers) into frame addresses, leaf first, appending to
/// `out`. Addresses before any marker take `sample_mode` (the record's
/// cpumode). The first address after each marker is an interrupted
/// instruction; the others are return addresses. Hypervisor and guest
/// contexts are skipped: lwprof cannot symbolize them.
pub fn callchain_from_perf(ips: &[u64], sample_mode: FrameMode, out: &mut Vec<FrameAddress>) {
    let mut mode = Some(sample_mode);
    let mut first_in_context = true;
    for &ip in ips {
        if ip >= CONTEXT_MAX {
            mode = match ip {
                x if x == CONTEXT_KERNEL => Some(FrameMode::Kernel),
                x if x == CONTEXT_USER => Some(FrameMode::User),
                _ => None,
            };
            first_in_context = true;
            continue;
        }
        let Some(mode) = mode else { continue };
        out.push(FrameAddress {
            address: ip,
            mode,
            is_return_address: !first_in_context,
        });
        first_in_context = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(start: u64, end: u64, pgoff: u64) -> ActiveMapping {
        ActiveMapping {
            start,
            end,
            pgoff,
            dso: DsoId(0),
            kind: DsoKind::File,
        }
    }

    #[test]
    fn overlapping_mmap_splits_the_old_mapping() {
        let mut maps = vec![m(0x1000, 0x5000, 0)];
        insert_mapping(&mut maps, m(0x2000, 0x3000, 0x100000));
        let got: Vec<_> = maps.iter().map(|m| (m.start, m.end, m.pgoff)).collect();
        assert_eq!(
            got,
            vec![
                (0x1000, 0x2000, 0),
                (0x2000, 0x3000, 0x100000),
                (0x3000, 0x5000, 0x2000)
            ]
        );
        assert_eq!(find_mapping(&maps, 0x3fff).map(|m| m.pgoff), Some(0x2000));
        assert!(find_mapping(&maps, 0x5000).is_none());
        assert!(find_mapping(&maps, 0xfff).is_none());
    }

    #[allow(clippy::unnecessary_cast)]
    const CONTEXT_GUEST: u64 = lwprof_records::abi::context::GUEST;

    #[test]
    fn perf_callchain_markers_set_modes_and_return_addresses() {
        let ips = [
            CONTEXT_KERNEL,
            0xffff_ffff_8100_0010,
            0xffff_ffff_8100_0020,
            CONTEXT_USER,
            0x40_1000,
            0x40_2000,
            CONTEXT_GUEST,
            0x1234,
        ];
        let mut out = Vec::new();
        callchain_from_perf(&ips, FrameMode::User, &mut out);
        assert_eq!(
            out,
            vec![
                FrameAddress::ip(0xffff_ffff_8100_0010, FrameMode::Kernel),
                FrameAddress::return_address(0xffff_ffff_8100_0020, FrameMode::Kernel),
                FrameAddress::ip(0x40_1000, FrameMode::User),
                FrameAddress::return_address(0x40_2000, FrameMode::User),
            ]
        );
        assert_eq!(out[3].lookup_address(), 0x40_1fff);
    }
}
