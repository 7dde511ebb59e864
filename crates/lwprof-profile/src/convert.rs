//! The one road from perf records to a [`Profile`]: live rings and perf.data
//! files both feed a [`Converter`] with raw record bytes, in time order.
//!
//! The converter parses each record with `lwprof_events::record`, finds the
//! event it belongs to by its sample id, and calls the [`ProfileBuilder`]:
//! COMM, FORK, EXIT, MMAP/MMAP2 keep processes and mappings current; SAMPLE
//! becomes a stack and a weight; LOST and LOST_SAMPLES are counted.
//!
//! Samples that carry counter values (`PERF_SAMPLE_READ`, as `perf record -e
//! '{a,b}:S'` writes them) become one sample per member event, weighed by the
//! member's increase since its previous value, as perf delivers them.
//!
//! Lost samples: the kernel writes a LOST record whenever the ring had no
//! room, and `perf record` also writes, at the end, one LOST_SAMPLES record
//! per event with the same losses read back from the kernel
//! (`PERF_FORMAT_LOST`). Both kinds describe the same samples, so the total
//! is the larger of the two sums, never their sum: perf's "Total Lost
//! Samples" for perf's files, and the LOST records' sum for files without
//! LOST_SAMPLES.
//!
//! Off-CPU time needs no BPF: a `context-switches` event sampled at every
//! switch (period 1, with callchains) says where a thread blocked, and the
//! `context_switch` SWITCH records say when it ran again. The time in between
//! is an off-CPU sample on the blocking stack. Preempted switches are not
//! blocking and are not counted.

use crate::model::{
    callchain_from_perf, EventIndex, FrameAddress, FrameMode, MappingInput, Profile,
    ProfileBuilder, SampleInput, SampleKind,
};
pub use crate::stream::{Mmap2FileId, SideEvent, SideRecord, StreamedSample};
use crate::unwind::{UnwindState, UnwindStats, UnwinderConfig};
use lwprof_events::raw::RawData;
use lwprof_events::record::{
    CpuMode as RecordCpuMode, IdPosition, ParseError, RawRecord, ReadValues, Record,
    RecordParseInfo,
};
use perf_event_open_sys::bindings::perf_event_attr;
use std::collections::HashMap;

/// A period above this (2^48: 78 hours of a clock event in one sample, or
/// 2.8e14 events) is not a real sample's.
pub const IMPLAUSIBLE_PERIOD: u64 = 1 << 48;

/// What an event's samples mean to the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRole {
    /// Ordinary samples: the weight is the period (ns for cpu-clock).
    OnCpu,
    /// Context-switch samples whose stacks say where a thread blocked;
    /// their weight is the off-CPU time until the thread runs again.
    OffCpu,
}

/// One event of the recording.
#[derive(Debug, Clone)]
pub struct ConverterEvent {
    /// The attribute it was opened with.
    pub attr: perf_event_attr,
    /// The name to show.
    pub name: String,
    /// Its kernel ids.
    pub ids: Vec<u64>,
    /// What its samples mean.
    pub role: EventRole,
}

/// Counts of what the converter saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConvertStats {
    /// Records fed.
    pub records: u64,
    /// Samples turned into profile samples.
    pub samples: u64,
    /// Samples lost: the larger of `lost_records` and `lost_samples`.
    pub lost: u64,
    /// Sum of the LOST records (the ring was full).
    pub lost_records: u64,
    /// Sum of the LOST_SAMPLES records.
    pub lost_samples: u64,
    /// Counter values (`PERF_SAMPLE_READ`) whose id belongs to no event of
    /// the file (skipped, as perf counts them in `nr_unknown_id`).
    pub unknown_ids: u64,
    /// Samples whose period is implausibly large (over
    /// [`IMPLAUSIBLE_PERIOD`]): a damaged or hostile file. They are kept;
    /// sums saturate.
    pub implausible_periods: u64,
    /// The largest period seen.
    pub max_period: u64,
    /// Records that could not be parsed (skipped).
    pub bad_records: u64,
    /// Off-CPU intervals attributed.
    pub off_cpu_intervals: u64,
    /// THROTTLE records.
    pub throttles: u64,
}

struct PendingSwitch {
    time: u64,
    pid: u32,
    cpu: u32,
    frames: Vec<FrameAddress>,
    preempted: Option<bool>,
}

/// Finds the event and the time of a record, as the converter would.
#[derive(Debug, Clone)]
pub struct RecordLocator {
    infos: Vec<RecordParseInfo>,
    by_id: HashMap<u64, usize>,
    id_position: Option<IdPosition>,
}

impl RecordLocator {
    /// The event index (by id, or the only event) and the time (a
    /// sample's, or the `sample_id_all` trailer's) of `raw`.
    pub fn locate(&self, raw: &RawRecord<'_>) -> (Option<usize>, Option<u64>) {
        let event = if self.infos.len() == 1 {
            Some(0)
        } else {
            self.id_position
                .as_ref()
                .and_then(|pos| raw.id(pos))
                .and_then(|id| self.by_id.get(&id).copied())
        };
        let time = self
            .infos
            .get(event.unwrap_or(0))
            .and_then(|info| raw.parse(info).ok())
            .and_then(|r| r.time());
        (event, time)
    }
}

/// Turns raw records into a profile.
pub struct Converter {
    builder: ProfileBuilder,
    events: Vec<ConverterEvent>,
    infos: Vec<RecordParseInfo>,
    indices: Vec<EventIndex>,
    by_id: HashMap<u64, usize>,
    id_position: Option<IdPosition>,
    chain: Vec<FrameAddress>,
    ips: Vec<u64>,
    pending: HashMap<u32, PendingSwitch>,
    stats: ConvertStats,
    unwind: Option<UnwindState>,
    /// The last counter value of each event instance (by id), for samples
    /// that carry counter values.
    read_values: HashMap<u64, u64>,
    /// Build ids by path, from the file's build-id table, for mappings whose
    /// record carries none.
    build_ids: HashMap<Vec<u8>, Vec<u8>>,
    /// With [`Converter::stream_samples`]: the samples of the last record,
    /// taken out of the profile.
    streamed: Option<Vec<StreamedSample>>,
    /// The sample record being delivered (for [`StreamedSample`]).
    current: StreamExtra,
    /// With [`Converter::stream_side_records`]: MMAP and SWITCH records.
    side: Option<Vec<SideEvent>>,
}

#[derive(Debug, Clone, Default)]
struct StreamExtra {
    ip: Option<u64>,
    addr: Option<u64>,
    raw: Option<Vec<u8>>,
    dwarf_unwound: bool,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter")
            .field("events", &self.events.len())
            .field("stats", &self.stats)
            .finish()
    }
}

fn cpu_mode(m: RecordCpuMode) -> FrameMode {
    match m {
        RecordCpuMode::Kernel | RecordCpuMode::GuestKernel => FrameMode::Kernel,
        _ => FrameMode::User,
    }
}

impl Converter {
    /// A converter for a recording of `events`.
    pub fn new(events: Vec<ConverterEvent>) -> Self {
        let mut builder = ProfileBuilder::new();
        let infos: Vec<RecordParseInfo> = events
            .iter()
            .map(|e| lwprof_events::parse_info(&e.attr))
            .collect();
        let indices = events.iter().map(|e| builder.add_event(&e.name)).collect();
        let mut by_id = HashMap::new();
        for (i, e) in events.iter().enumerate() {
            for &id in &e.ids {
                by_id.insert(id, i);
            }
        }
        let id_position = IdPosition::common(infos.iter());
        Converter {
            builder,
            events,
            infos,
            indices,
            by_id,
            id_position,
            chain: Vec::new(),
            ips: Vec::new(),
            pending: HashMap::new(),
            stats: ConvertStats::default(),
            unwind: None,
            read_values: HashMap::new(),
            build_ids: HashMap::new(),
            streamed: None,
            current: StreamExtra::default(),
            side: None,
        }
    }

    /// Also hands out MMAP/MMAP2 and SWITCH records
    /// ([`Converter::take_side_events`]).
    pub fn stream_side_records(&mut self) {
        self.side = Some(Vec::new());
    }

    /// The side records since the last call.
    pub fn take_side_events(&mut self) -> Vec<SideEvent> {
        self.side.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Hands samples out ([`Converter::take_streamed`]) instead of keeping
    /// them in the profile, and treats every event as on-CPU (an off-CPU
    /// event's samples are handed out as they come). Before the first
    /// record.
    pub fn stream_samples(&mut self) {
        self.streamed = Some(Vec::new());
        for e in &mut self.events {
            e.role = EventRole::OnCpu;
        }
    }

    /// The samples streamed out since the last call (see
    /// [`Converter::stream_samples`]).
    pub fn take_streamed(&mut self) -> Vec<StreamedSample> {
        self.streamed
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The profile being built: threads, mappings, locations, stacks.
    pub fn profile(&self) -> &Profile {
        self.builder.profile()
    }

    /// Takes the sample just given to the builder out, when streaming.
    fn capture(&mut self, event: EventIndex, pid: u32) {
        let Some(out) = self.streamed.as_mut() else {
            return;
        };
        if let Some(sample) = self.builder.take_last_sample() {
            out.push(StreamedSample {
                sample,
                event: event.0 as usize,
                frames: self.chain.clone(),
                ip: self.current.ip,
                addr: self.current.addr,
                pid,
                raw: self.current.raw.clone(),
                dwarf_unwound: self.current.dwarf_unwound,
            });
        }
    }

    /// Build ids of mapped files by path (a perf.data file's build-id
    /// table), used for mappings whose record has no build id, so that a
    /// binary rebuilt since the recording is recognised as another file.
    pub fn set_build_ids(&mut self, ids: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) {
        self.build_ids.extend(ids);
    }

    /// Unwinds samples that carry user registers and a stack copy
    /// (`--call-graph dwarf`) with DWARF CFI; other samples keep their
    /// kernel callchain.
    pub fn enable_dwarf(&mut self, config: UnwinderConfig) {
        self.unwind = Some(UnwindState::new(config));
    }

    /// How DWARF unwinding went, when enabled.
    pub fn unwind_stats(&self) -> Option<UnwindStats> {
        self.unwind.as_ref().map(|u| *u.stats())
    }

    /// What was seen so far.
    pub fn stats(&self) -> ConvertStats {
        self.stats
    }

    /// The event a record belongs to, from its id (or the only event).
    pub fn event_of(&self, raw: &RawRecord<'_>) -> Option<usize> {
        if self.events.len() == 1 {
            return Some(0);
        }
        let pos = self.id_position.as_ref()?;
        let id = raw.id(pos)?;
        self.by_id.get(&id).copied()
    }

    /// What finds the event and the time of a record without feeding it
    /// (for readers that must order records before they are fed).
    pub fn locator(&self) -> RecordLocator {
        RecordLocator {
            infos: self.infos.clone(),
            by_id: self.by_id.clone(),
            id_position: self.id_position,
        }
    }

    /// Keep samples that agree on all but their times as one entry
    /// ([`ProfileBuilder::aggregate_samples`]); before the first record.
    pub fn aggregate_samples(&mut self, on: bool) {
        self.builder.aggregate_samples(on);
    }

    /// Parses records in byte order `e` (a perf.data file written on a
    /// machine of the other byte order); the default is this machine's.
    pub fn set_endianness(&mut self, e: lwprof_records::Endianness) {
        for info in &mut self.infos {
            *info = info.with_endianness(e);
        }
    }

    /// Feeds one record (header included). Records must come in time order.
    /// A record that does not parse is counted and skipped.
    pub fn feed(&mut self, data: RawData<'_>) -> Result<(), ParseError> {
        let endianness = self.infos.first().map(|i| i.endianness).unwrap_or_default();
        let raw = RawRecord::from_data(data, endianness)?;
        let event = self.event_of(&raw);
        self.feed_record(&raw, event)
    }

    /// Feeds one record whose event is already known (perf.data readers
    /// know it from the id).
    pub fn feed_record(
        &mut self,
        raw: &RawRecord<'_>,
        event: Option<usize>,
    ) -> Result<(), ParseError> {
        self.stats.records += 1;
        let ev = event.unwrap_or(0).min(self.infos.len().saturating_sub(1));
        if self.infos.is_empty() {
            return Ok(());
        }
        let record = match raw.parse(&self.infos[ev]) {
            Ok(r) => r,
            Err(e) => {
                self.stats.bad_records += 1;
                return Err(e);
            }
        };
        if let Some(side) = self.side.as_mut() {
            side.extend(crate::stream::side_event(&record));
        }
        match record {
            Record::Sample(s) => self.sample(&s, ev, event.is_some() || self.events.len() == 1),
            Record::Comm(c) => {
                let name = c.comm.as_contiguous();
                let time = c.sample_id.time.unwrap_or(0);
                self.builder.comm(c.pid, c.tid, time, &name, c.is_exec);
                if let Some(u) = self.unwind.as_mut() {
                    u.comm(c.pid, c.tid, time, &name, c.is_exec);
                }
            }
            Record::Fork(f) => {
                self.builder.fork(f.pid, f.ppid, f.tid, f.ptid, f.time);
                if let Some(u) = self.unwind.as_mut() {
                    u.fork(f.pid, f.ppid, f.tid, f.ptid, f.time);
                }
            }
            Record::Exit(f) => {
                self.builder.exit(f.pid, f.tid, f.time);
                if let Some(u) = self.unwind.as_mut() {
                    u.exit(f.pid, f.tid, f.time);
                }
            }
            Record::Mmap(m) if !m.is_data => {
                let path = m.filename.as_contiguous();
                let mode = cpu_mode(raw.header.cpumode());
                let time = m.sample_id.time.unwrap_or(0);
                self.mmap(m.pid, time, (m.addr, m.len, m.pgoff), &path, None, mode);
            }
            Record::Mmap2(m) if !m.is_data => {
                let path = m.filename.as_contiguous();
                let mode = cpu_mode(raw.header.cpumode());
                let time = m.sample_id.time.unwrap_or(0);
                let range = (m.addr, m.len, m.pgoff);
                self.mmap(m.pid, time, range, &path, m.file_id.build_id(), mode);
            }
            Record::Namespaces(n) => {
                // MNT_NS_INDEX: net, uts, ipc, pid, user, mnt, cgroup.
                if let Some(mnt) = n.namespaces.iter().nth(5) {
                    let time = n.sample_id.time.unwrap_or(0);
                    self.builder.namespaces(n.pid, time, (mnt.dev, mnt.inode));
                }
            }
            Record::Lost(l) => {
                self.stats.lost_records = self.stats.lost_records.saturating_add(l.lost);
            }
            Record::LostSamples(l) => {
                self.stats.lost_samples = self.stats.lost_samples.saturating_add(l.lost);
            }
            Record::Throttle(_) => self.stats.throttles += 1,
            Record::Switch(s) => {
                let (pid, tid, time) = (
                    s.sample_id.pid.unwrap_or(0),
                    s.sample_id.tid.unwrap_or(0),
                    s.sample_id.time.unwrap_or(0),
                );
                self.switch(pid, tid, time, s.is_out, s.is_preempt);
            }
            Record::SwitchCpuWide(s) => {
                // The record names the other task; it is about the task in
                // the sample id when it switches.
                let (pid, tid, time) = (
                    s.sample_id.pid.unwrap_or(0),
                    s.sample_id.tid.unwrap_or(0),
                    s.sample_id.time.unwrap_or(0),
                );
                self.switch(pid, tid, time, s.is_out, s.is_preempt);
            }
            _ => {}
        }
        Ok(())
    }

    /// An executable mapping, for the profile and the unwinder alike.
    fn mmap(
        &mut self,
        pid: u32,
        time: u64,
        (start, len, pgoff): (u64, u64, u64),
        path: &[u8],
        build_id: Option<&[u8]>,
        mode: FrameMode,
    ) {
        // perf names the kernel's text mapping `[kernel.kallsyms]_text`
        // (and `[kernel.kallsyms]` in older files); show it as perf does.
        let path = if path.starts_with(b"[kernel.kallsyms]") {
            &b"[kernel.kallsyms]"[..]
        } else {
            path
        };
        let build_id = build_id.or_else(|| self.build_ids.get(path).map(Vec::as_slice));
        let input = MappingInput {
            pid,
            time,
            start,
            len,
            pgoff,
            path,
            build_id,
            mode,
        };
        self.builder.mmap(&input);
        if let Some(u) = self.unwind.as_mut() {
            u.mmap(&input);
        }
    }

    fn switch(&mut self, _pid: u32, tid: u32, time: u64, is_out: bool, preempt: bool) {
        if is_out {
            if let Some(p) = self.pending.get_mut(&tid) {
                if p.preempted.is_none() {
                    p.preempted = Some(preempt);
                }
            }
            return;
        }
        // Switch in: close the thread's pending interval.
        let Some(p) = self.pending.remove(&tid) else {
            return;
        };
        if p.preempted == Some(true) || time <= p.time {
            return;
        }
        let off = self
            .events
            .iter()
            .position(|e| e.role == EventRole::OffCpu)
            .unwrap_or(0);
        self.builder.sample(&SampleInput {
            pid: p.pid,
            tid,
            time: p.time,
            cpu: p.cpu,
            event: self.indices[off],
            weight: time - p.time,
            kind: SampleKind::OffCpu,
            callchain: &p.frames,
        });
        self.stats.off_cpu_intervals += 1;
    }

    fn sample(&mut self, s: &lwprof_events::record::SampleRecord<'_>, ev: usize, known: bool) {
        if !known {
            self.stats.bad_records += 1;
            return;
        }
        let pid = s.pid().unwrap_or(0);
        let tid = s.tid().unwrap_or(0);
        let time = s.time().unwrap_or(0);
        // perf's -1: the file did not sample the CPU.
        let cpu = s.cpu().unwrap_or(u32::MAX);
        let mode = cpu_mode(s.cpumode());
        self.chain.clear();
        let dwarf = s.regs_user().is_some() && s.stack_user().is_some();
        match (self.unwind.as_mut(), dwarf) {
            (Some(u), true) => {
                self.current.dwarf_unwound = true;
                let mut out = std::mem::take(&mut self.chain);
                u.sample_frames(s, &mut out);
                self.chain = out;
            }
            _ => {
                self.current.dwarf_unwound = false;
                self.fp_frames(s, mode)
            }
        }
        self.after_frames(s, ev, pid, tid, time, cpu);
    }

    fn fp_frames(&mut self, s: &lwprof_events::record::SampleRecord<'_>, mode: FrameMode) {
        match s.callchain() {
            Some(cc) if !cc.is_empty() => {
                self.ips.clear();
                self.ips.extend(cc.iter());
                callchain_from_perf(&self.ips, mode, &mut self.chain);
            }
            _ => {
                if let Some(ip) = s.ip() {
                    self.chain.push(FrameAddress::ip(ip, mode));
                }
            }
        }
    }

    fn after_frames(
        &mut self,
        s: &lwprof_events::record::SampleRecord<'_>,
        ev: usize,
        pid: u32,
        tid: u32,
        time: u64,
        cpu: u32,
    ) {
        if self.events[ev].role == EventRole::OffCpu {
            // Where the thread blocked; weighed when it runs again.
            self.pending.insert(
                tid,
                PendingSwitch {
                    time,
                    pid,
                    cpu,
                    frames: self.chain.clone(),
                    preempted: None,
                },
            );
            return;
        }
        if self.streamed.is_some() {
            self.current = StreamExtra {
                ip: s.ip(),
                addr: s.addr(),
                raw: s.raw().map(|r| r.as_contiguous().into_owned()),
                dwarf_unwound: self.current.dwarf_unwound,
            };
        }
        let chain = std::mem::take(&mut self.chain);
        let input = SampleInput {
            pid,
            tid,
            time,
            cpu,
            event: self.indices[ev],
            weight: s.period().unwrap_or(1),
            kind: SampleKind::OnCpu,
            callchain: &chain,
        };
        match s.read() {
            None => {
                self.stats.samples += 1;
                self.note_period(input.weight);
                let event = input.event;
                self.builder.sample(&input);
                self.chain = chain;
                self.capture(event, pid);
                return;
            }
            Some(ReadValues::Single { value, id, .. }) => {
                let id = id.or(s.id());
                self.deliver_value(&input, id, value);
            }
            Some(ReadValues::Group { members, .. }) => {
                for m in members.iter() {
                    self.deliver_value(&input, m.id, m.value);
                }
            }
        }
        self.chain = chain;
    }

    /// One sample for the event that owns counter `id`, weighed by how much
    /// the counter grew since its last value; nothing when it did not grow.
    fn deliver_value(&mut self, input: &SampleInput<'_>, id: Option<u64>, value: u64) {
        let event = match id {
            Some(id) => self.by_id.get(&id).copied(),
            None if self.events.len() == 1 => Some(0),
            None => None,
        };
        let Some(event) = event else {
            self.stats.unknown_ids += 1;
            return;
        };
        let previous = self.read_values.insert(id.unwrap_or(0), value).unwrap_or(0);
        let delta = value.saturating_sub(previous);
        if delta == 0 {
            return;
        }
        self.stats.samples += 1;
        self.note_period(delta);
        self.builder.sample(&SampleInput {
            event: self.indices[event],
            weight: delta,
            ..*input
        });
        if self.streamed.is_some() {
            // The chain is the caller's until it returns.
            self.chain = input.callchain.to_vec();
            self.capture(self.indices[event], input.pid);
        }
    }

    fn note_period(&mut self, period: u64) {
        self.stats.max_period = self.stats.max_period.max(period);
        if period > IMPLAUSIBLE_PERIOD {
            self.stats.implausible_periods += 1;
        }
    }

    /// Ends conversion. Threads still blocked at the end get their off-CPU
    /// time up to `end_time` (the last time seen), so a thread that sleeps
    /// until the recording stops is not lost.
    pub fn finish(mut self, end_time: Option<u64>) -> (Profile, ConvertStats) {
        self.stats.lost = self.stats.lost_records.max(self.stats.lost_samples);
        self.builder.lost(self.stats.lost);
        if let Some(end) = end_time {
            let tids: Vec<u32> = self.pending.keys().copied().collect();
            for tid in tids {
                let pid = self.pending[&tid].pid;
                self.switch(pid, tid, end, false, false);
            }
        }
        (self.builder.finish(), self.stats)
    }
}
