//! Sampling sessions: several sampling events on one target, one ring per
//! CPU, one epoll wait, and records merged in time order.
//!
//! A [`SamplingSession`] opens every [`SessionEvent`] on a [`Target`]:
//!
//! - [`Target::Task`]: a command's pid (started stopped, see
//!   [`crate::command::PreparedCommand`], with
//!   [`SessionOptions::enable_on_exec`]) or one thread, following the
//!   children and threads it creates when [`SessionOptions::inherit`] is set;
//! - [`Target::Process`]: a running process, attached to every thread it has,
//!   rescanning `/proc/PID/task` until no thread appeared while attaching
//!   (threads created later are inherited from the thread that creates them);
//! - [`Target::Cpus`]: every task on these CPUs (`pid = -1`).
//!
//! Every event is opened **per CPU** (`pid, cpu = each online CPU`), as
//! `perf record` does: the kernel refuses to mmap an inherited event opened
//! with `cpu = -1` (`perf_mmap()` returns EINVAL for `inherit && cpu == -1`,
//! since every child would write into one ring from every CPU; the test
//! `inherited_any_cpu_event_cannot_be_mapped` pins this). Records of
//! inherited children go to the ring of the parent event (the kernel writes
//! them through `event->parent`).
//!
//! On each CPU the first event opened maps the ring and every other event of
//! the session on that CPU is redirected into it
//! (`PERF_EVENT_IOC_SET_OUTPUT`): one ring per CPU, whatever the number of
//! events and threads. So that records can be told apart, the session sets
//! `PERF_SAMPLE_IDENTIFIER` (the id at a fixed place, see
//! [`crate::record::IdPosition`]) and `PERF_SAMPLE_TIME` on every event, and
//! `sample_id_all` (non-sample records carry their time and id too). The
//! kernel reports the id of the event that was *opened* for records of its
//! inherited children, so ids map back to [`SessionEventInfo::ids`].
//!
//! Reading, two ways:
//!
//! - [`SamplingSession::drain_raw`]: unordered, zero-copy; each record is
//!   handed to a callback as a view into its ring ([`RawData`]), ring by
//!   ring. For writers that stream records to a file.
//! - [`SamplingSession::read_ordered`] / [`SamplingSession::ordered`]: owned
//!   [`SessionRecord`]s merged across rings in time order. Merging needs
//!   records to outlive the ring's tail, so each record is **copied** out
//!   (one allocation and a memcpy of its size, e.g. ~50 bytes for an
//!   IP/TID/TIME sample: at 100k samples/s that is 5 MB/s, far below memcpy
//!   bandwidth, as seed 000 argues). The reorder window follows perf's
//!   `FINISHED_ROUND`: a *round* reads every ring once; once a round ends,
//!   every record no newer than the newest time seen by the end of the
//!   *previous* round is safe (a record that old was written before the
//!   current round started, so it has been read). The window is also
//!   bounded in records ([`SessionOptions::max_buffered`]): past it the
//!   oldest record is let out early, and a record that then arrives older
//!   than one already emitted is counted in [`OrderStats::late`].
//!
//! Waiting: [`SamplingSession::wait`] is one epoll wait over every event fd
//! (each polls as readable when its ring crosses its wakeup threshold,
//! [`crate::sampling::Wakeup`]). An fd reports `POLLHUP` once its task and
//! every inherited child have exited; when all have, the session is
//! finished: the last records are drained and the ordered stream ends.
//! System-wide sessions never finish on their own: use [`StopHandle`].
//!
//! Lost records are counted by the rings ([`SamplingSession::stats`] sums
//! them; [`SamplingSession::lost_for_event`] splits them by event).
//!
//! This module does not write files, resolve symbols or synthesize the
//! MMAP/COMM records of tasks that existed before the session: that is
//! `lwprof record`'s job.

use crate::attr::EventConfig;
use crate::command::{online_cpus, process_threads};
use crate::error::{Error, Result};
use crate::poll::{Poller, Readiness};
use crate::raw::RawData;
use crate::record::{
    sample_type, Endianness, IdPosition, ParseError, RawRecord, Record, RecordHeader,
    RecordParseInfo,
};
use crate::ring::{Ring, RingOptions, RingStats};
use crate::sampling::{SampleConfig, SamplingEvent};
use crate::sys;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use crate::count::Target;

/// One event of a session and how it samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent {
    /// The event.
    pub event: EventConfig,
    /// Its sampling fields. The session overrides `inherit`, `disabled`,
    /// `enable_on_exec` and `sample_id_all` from [`SessionOptions`], and adds
    /// `PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TIME` to `sample_type`. Ask for
    /// `mmap`/`comm`/`task` records on one event only, or they come twice.
    pub sample: SampleConfig,
}

/// How a session opens its events and buffers records.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// The ring of each CPU (size, budget).
    pub ring: RingOptions,
    /// Follow children and new threads (ignored for [`Target::Cpus`]).
    pub inherit: bool,
    /// Open disabled; start with [`SamplingSession::enable`].
    pub disabled: bool,
    /// Open disabled and let the kernel enable the events when the target
    /// calls exec (a command started stopped).
    pub enable_on_exec: bool,
    /// How long [`SamplingSession::ordered`] waits for a wakeup before it
    /// reads the rings anyway (records below the wakeup threshold still come
    /// out, at this pace).
    pub poll_interval: Duration,
    /// Most records held back for ordering; past this the oldest is let out
    /// early (see [`OrderStats::forced`]).
    pub max_buffered: usize,
    /// CPUs to open on for task targets; empty means every online CPU.
    pub cpus: Vec<i32>,
    /// Threads of a [`Target::Process`] not to attach to (e.g. the reader
    /// thread of a process sampling itself).
    pub skip_tids: Vec<i32>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            ring: RingOptions::default(),
            inherit: true,
            disabled: false,
            enable_on_exec: false,
            poll_interval: Duration::from_millis(100),
            max_buffered: 1 << 20,
            cpus: Vec::new(),
            skip_tids: Vec::new(),
        }
    }
}

/// What the session knows about one of its events.
#[derive(Debug, Clone)]
pub struct SessionEventInfo {
    /// The event.
    pub event: EventConfig,
    /// The layout of its records.
    pub parse_info: RecordParseInfo,
    /// The kernel ids of every instance opened (one per thread and CPU).
    pub ids: Vec<u64>,
    /// The kernel refused kernel samples: user space only is sampled.
    pub kernel_excluded: bool,
    /// The attribute the event was opened with (for perf.data headers).
    pub attr: perf_event_open_sys::bindings::perf_event_attr,
}

/// How the time-ordered merge went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderStats {
    /// Records copied out for merging.
    pub buffered: u64,
    /// Records let out before their round was safe, because the window was full.
    pub forced: u64,
    /// Records that arrived older than one already emitted (emitted anyway):
    /// non-zero only when the window was forced or a write was held up for
    /// longer than a round.
    pub late: u64,
    /// Records whose id or time could not be read (emitted with the time of
    /// the previous record of their ring).
    pub unparsed: u64,
    /// Most records held at once.
    pub peak_buffered: usize,
}

/// What [`SamplingSession::wait`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitStatus {
    /// Some ring crossed its wakeup threshold (watermark or event count).
    pub woken: bool,
    /// Every event fd has hung up: the target and its children are gone.
    pub finished: bool,
}

/// One record copied out of a ring, for the time-ordered merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The record's time (perf clock, ns).
    pub time: u64,
    /// The index of the event that wrote it in [`SamplingSession::events`],
    /// when its id is known.
    pub event: Option<usize>,
    /// The CPU whose ring it came from.
    pub cpu: i32,
    info: RecordParseInfo,
    bytes: Vec<u8>,
}

impl SessionRecord {
    /// The record's bytes, header included.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The record's header.
    pub fn header(&self) -> Option<RecordHeader> {
        RecordHeader::parse(RawData::Single(&self.bytes), Endianness::NATIVE)
    }

    /// The record, parsed with the layout of its event.
    pub fn parse(&self) -> std::result::Result<Record<'_>, ParseError> {
        crate::record::parse_record(RawData::Single(&self.bytes), &self.info)
    }

    /// The layout used by [`SessionRecord::parse`].
    pub fn parse_info(&self) -> &RecordParseInfo {
        &self.info
    }
}

/// Orders records by (time, arrival).
#[derive(Debug)]
struct Pending {
    key: (u64, u64),
    record: SessionRecord,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

/// Stops a session's ordered stream from another thread (e.g. on Ctrl-C).
#[derive(Debug, Clone)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the session to finish: the next wait returns at once, the
    /// events are disabled, the rings drained and the stream ends.
    pub fn stop(&self) {
        // Relaxed: a flag polled between waits; no data is published with it.
        self.0.store(true, Ordering::Relaxed);
    }
}

struct RingSlot {
    ring: Ring,
    cpu: i32,
    last_time: u64,
}

struct OpenFd {
    event: SamplingEvent,
    hangup: bool,
}

/// Sampling events on one target, read from one ring per CPU.
pub struct SamplingSession {
    events: Vec<SessionEventInfo>,
    fds: Vec<OpenFd>,
    rings: Vec<RingSlot>,
    /// (id, event index), sorted by id.
    ids: Vec<(u64, usize)>,
    id_position: IdPosition,
    poller: Poller,
    readiness: Vec<Readiness>,
    opts: SessionOptions,
    hangups: usize,
    finishes: bool,
    finished: bool,
    stop: Arc<AtomicBool>,
    heap: BinaryHeap<Reverse<Pending>>,
    ready: VecDeque<SessionRecord>,
    seq: u64,
    round_max: u64,
    prev_round_max: u64,
    last_emitted: u64,
    order: OrderStats,
}

impl std::fmt::Debug for SamplingSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamplingSession")
            .field("events", &self.events.len())
            .field("fds", &self.fds.len())
            .field("rings", &self.rings.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// The epoll token of fds added with [`SamplingSession::watch_fd`].
const WATCH_TOKEN: u64 = u64::MAX;

fn invalid(what: impl Into<String>) -> Error {
    Error::io(what, std::io::Error::from(std::io::ErrorKind::InvalidInput))
}

impl SamplingSession {
    /// Opens every event on `target`, one instance per (thread, CPU) or per
    /// CPU, one ring per CPU. Fails when an event cannot be opened (the
    /// error names it), except for threads of a [`Target::Process`] that
    /// exit while we attach.
    pub fn open(
        events: &[SessionEvent],
        target: &Target,
        opts: &SessionOptions,
    ) -> Result<SamplingSession> {
        if events.is_empty() {
            return Err(invalid("a sampling session needs at least one event"));
        }
        let (cpus, finishes) = match target {
            Target::Cpus(c) if !c.is_empty() => (c.clone(), false),
            Target::Cpus(_) => (online_cpus()?, false),
            _ if !opts.cpus.is_empty() => (opts.cpus.clone(), true),
            _ => (online_cpus()?, true),
        };
        let system_wide = matches!(target, Target::Cpus(_));
        let mut attrs = Vec::with_capacity(events.len());
        let mut infos = Vec::with_capacity(events.len());
        for e in events {
            let mut cfg = e.sample.clone();
            cfg.sample_type |= sample_type::IDENTIFIER | sample_type::TIME;
            cfg.sample_id_all = true;
            cfg.inherit = opts.inherit && !system_wide;
            cfg.enable_on_exec = opts.enable_on_exec;
            cfg.disabled = opts.disabled || opts.enable_on_exec;
            let mut attr = e.event.to_attr();
            cfg.apply(&mut attr);
            infos.push(SessionEventInfo {
                event: e.event.clone(),
                parse_info: crate::parse_info(&attr),
                ids: Vec::new(),
                kernel_excluded: false,
                attr,
            });
            attrs.push(attr);
        }
        let id_position = IdPosition::common(infos.iter().map(|i| &i.parse_info))
            .ok_or_else(|| invalid("events of one session disagree on where the id is"))?;
        let mut session = SamplingSession {
            events: infos,
            fds: Vec::new(),
            rings: Vec::new(),
            ids: Vec::new(),
            id_position,
            poller: Poller::new()?,
            readiness: Vec::new(),
            opts: opts.clone(),
            hangups: 0,
            finishes,
            finished: false,
            stop: Arc::new(AtomicBool::new(false)),
            heap: BinaryHeap::new(),
            ready: VecDeque::new(),
            seq: 0,
            round_max: 0,
            prev_round_max: 0,
            last_emitted: 0,
            order: OrderStats::default(),
        };
        match target {
            Target::Cpus(_) => session.open_task(-1, &cpus, &attrs, false)?,
            Target::Task(pid) => session.open_task(*pid, &cpus, &attrs, false)?,
            Target::Process(pid) => {
                // Threads may be created while we attach: rescan until the
                // set is stable. Later threads are created by a thread that
                // already has (inherited) events.
                let mut opened = BTreeSet::new();
                loop {
                    let new: Vec<i32> = process_threads(*pid)?
                        .into_iter()
                        .filter(|t| !opened.contains(t) && !opts.skip_tids.contains(t))
                        .collect();
                    if new.is_empty() {
                        break;
                    }
                    for tid in new {
                        opened.insert(tid);
                        session.open_task(tid, &cpus, &attrs, true)?;
                    }
                }
                if session.fds.is_empty() {
                    return Err(Error::NoSuchProcess { pid: *pid });
                }
            }
        }
        session.ids.sort_unstable();
        Ok(session)
    }

    /// Opens every event on `pid` on each of `cpus`.
    fn open_task(
        &mut self,
        pid: i32,
        cpus: &[i32],
        attrs: &[perf_event_open_sys::bindings::perf_event_attr],
        tolerate_exit: bool,
    ) -> Result<()> {
        for &cpu in cpus {
            for (index, attr) in attrs.iter().enumerate() {
                let ev = match SamplingEvent::open_attr(
                    &self.events[index].event,
                    *attr,
                    pid,
                    cpu,
                    None,
                ) {
                    Ok(ev) => ev,
                    Err(Error::NoSuchProcess { .. }) if tolerate_exit => return Ok(()),
                    Err(e) => return Err(e),
                };
                self.attach(ev, index, cpu)?;
            }
        }
        Ok(())
    }

    /// Sends `ev`'s records into the ring of `cpu` (mapping it when it is
    /// the first event there) and registers it with the poller.
    fn attach(&mut self, ev: SamplingEvent, index: usize, cpu: i32) -> Result<()> {
        match self.rings.iter().find(|r| r.cpu == cpu) {
            Some(slot) => {
                let target = slot.ring.fd().ok_or_else(|| invalid("ring without fd"))?;
                sys::set_output(ev.as_fd(), target).map_err(|e| {
                    Error::io(
                        format!(
                            "{}: redirect records into the ring of CPU {cpu}",
                            ev.event().name
                        ),
                        e,
                    )
                })?;
            }
            None => {
                let ring = ev.map_ring(&self.opts.ring)?;
                self.rings.push(RingSlot {
                    ring,
                    cpu,
                    last_time: 0,
                });
            }
        }
        self.poller.add(ev.as_fd(), self.fds.len() as u64)?;
        let info = &mut self.events[index];
        info.ids.push(ev.id());
        info.kernel_excluded |= ev.kernel_excluded();
        self.ids.push((ev.id(), index));
        self.fds.push(OpenFd {
            event: ev,
            hangup: false,
        });
        Ok(())
    }

    /// Adds `fd` (e.g. an eventfd another thread writes to stop a reader)
    /// to the session's epoll set: its readiness ends a
    /// [`SamplingSession::wait`] with [`WaitStatus::woken`]. The fd must stay
    /// open as long as the session.
    pub fn watch_fd(&self, fd: std::os::fd::BorrowedFd<'_>) -> Result<()> {
        self.poller.add(fd, WATCH_TOKEN)
    }

    /// The session's events, in the order given to [`SamplingSession::open`].
    pub fn events(&self) -> &[SessionEventInfo] {
        &self.events
    }

    /// Event instances opened (events x threads x CPUs).
    pub fn instances(&self) -> usize {
        self.fds.len()
    }

    /// Notes about rings the locked-memory budget shrank (one per ring).
    pub fn ring_warnings(&self) -> Vec<String> {
        self.rings
            .iter()
            .filter_map(|r| r.ring.shrunk().map(|w| w.to_string()))
            .collect()
    }

    /// The CPU of each ring, in ring order.
    pub fn ring_cpus(&self) -> Vec<i32> {
        self.rings.iter().map(|r| r.cpu).collect()
    }

    /// Where the event id sits in every record of this session.
    pub fn id_position(&self) -> IdPosition {
        self.id_position
    }

    /// The index of the event with kernel id `id`.
    pub fn event_of_id(&self, id: u64) -> Option<usize> {
        self.ids
            .binary_search_by_key(&id, |&(i, _)| i)
            .ok()
            .map(|at| self.ids[at].1)
    }

    /// The index of the event that wrote `data` (a whole record, e.g. from
    /// [`SamplingSession::drain_raw`]).
    pub fn event_of(&self, data: RawData<'_>) -> Option<usize> {
        let raw = RawRecord::from_data(data, Endianness::NATIVE).ok()?;
        self.event_of_id(raw.id(&self.id_position)?)
    }

    /// Starts every event (and its inherited children).
    pub fn enable(&self) -> Result<()> {
        self.fds.iter().try_for_each(|f| f.event.enable())
    }

    /// Stops every event (and its inherited children).
    pub fn disable(&self) -> Result<()> {
        self.fds.iter().try_for_each(|f| f.event.disable())
    }

    /// A handle that stops [`SamplingSession::ordered`] from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(Arc::clone(&self.stop))
    }

    /// Every ring's counts summed: records, samples, and above all `lost`
    /// and `throttles`.
    pub fn stats(&self) -> RingStats {
        let mut s = RingStats::default();
        for r in &self.rings {
            s.accumulate(r.ring.stats());
        }
        s
    }

    /// Records the kernel reported lost against event `index`. The kernel
    /// files a loss under the event that next writes into the shared ring,
    /// so with several events per ring the split is approximate; the total
    /// ([`RingStats::lost`] of [`SamplingSession::stats`]) is exact.
    pub fn lost_for_event(&self, index: usize) -> u64 {
        let Some(info) = self.events.get(index) else {
            return 0;
        };
        self.rings
            .iter()
            .map(|r| {
                info.ids
                    .iter()
                    .map(|&id| r.ring.stats().lost_for(id))
                    .sum::<u64>()
            })
            .sum()
    }

    /// How the ordered merge went.
    pub fn order_stats(&self) -> OrderStats {
        self.order
    }

    /// True once every task (and inherited child) has exited, or the
    /// session was stopped, and the last records have been read.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Waits until a ring crosses its wakeup threshold, an fd hangs up, or
    /// `timeout` passes (`None`: forever; zero: just look). The caller then
    /// reads the rings; once [`WaitStatus::finished`] is true, one last time.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<WaitStatus> {
        if self.all_hung_up() {
            return Ok(WaitStatus {
                woken: false,
                finished: true,
            });
        }
        self.readiness.clear();
        self.poller.wait(timeout, &mut self.readiness)?;
        let mut woken = false;
        for i in 0..self.readiness.len() {
            let r = self.readiness[i];
            woken |= r.readable;
            if r.token == WATCH_TOKEN {
                continue;
            }
            if r.hangup || r.error {
                if let Some(f) = self.fds.get_mut(r.token as usize) {
                    if !f.hangup {
                        f.hangup = true;
                        self.hangups += 1;
                        // A hung-up fd stays ready: stop watching it.
                        let _ = self.poller.remove(f.event.as_fd());
                    }
                }
            }
        }
        Ok(WaitStatus {
            woken,
            finished: self.all_hung_up(),
        })
    }

    fn all_hung_up(&self) -> bool {
        self.finishes && !self.fds.is_empty() && self.hangups == self.fds.len()
    }

    /// Unordered, zero-copy drain: hands every record now in the rings to
    /// `f` as a view into its ring, with the CPU of the ring, and consumes
    /// them. Returns the number of records. Do not mix with the ordered
    /// reads (records they hold back would come out after later ones).
    pub fn drain_raw(&mut self, mut f: impl FnMut(i32, RawData<'_>)) -> usize {
        let mut n = 0;
        for slot in &mut self.rings {
            let cpu = slot.cpu;
            let mut batch = slot.ring.read();
            for data in batch.records() {
                f(cpu, data);
                n += 1;
            }
        }
        n
    }

    /// Flight-recorder read of a session opened with overwrite rings
    /// (`RingOptions::overwrite` and `SampleConfig::write_backward`): pauses
    /// each ring in turn and hands its records to `f`, oldest first, with
    /// the CPU of the ring (see [`Ring::snapshot`]; with `only_new`, records
    /// handed out by an earlier snapshot are not repeated). Returns how many
    /// records were handed out.
    pub fn snapshot_raw(
        &mut self,
        only_new: bool,
        mut f: impl FnMut(i32, RawData<'_>),
    ) -> Result<usize> {
        let mut n = 0;
        for slot in &mut self.rings {
            let cpu = slot.cpu;
            let mut snap = slot.ring.snapshot(only_new)?;
            for data in snap.records() {
                f(cpu, data);
                n += 1;
            }
        }
        Ok(n)
    }

    /// One round: reads every ring, copying records into the reorder window,
    /// then moves every record that is now safe (see the module docs) to
    /// `out`, oldest first. Returns how many were appended.
    pub fn read_ordered(&mut self, out: &mut Vec<SessionRecord>) -> usize {
        self.round();
        let before = out.len();
        self.release(Some(self.prev_round_max), |r| out.push(r));
        self.prev_round_max = self.round_max;
        out.len() - before
    }

    /// Reads the rings once more and moves every buffered record to `out`,
    /// oldest first (at the end of a session).
    pub fn flush_ordered(&mut self, out: &mut Vec<SessionRecord>) -> usize {
        self.round();
        let before = out.len();
        out.extend(self.ready.drain(..));
        self.release(None, |r| out.push(r));
        out.len() - before
    }

    fn round(&mut self) {
        for ri in 0..self.rings.len() {
            let slot = &mut self.rings[ri];
            let cpu = slot.cpu;
            let mut last_time = slot.last_time;
            let mut batch = slot.ring.read();
            for data in batch.records() {
                let parsed = RawRecord::from_data(data, Endianness::NATIVE)
                    .ok()
                    .and_then(|raw| {
                        let event = raw
                            .id(&self.id_position)
                            .and_then(|id| lookup(&self.ids, id));
                        let info =
                            event.map_or(self.events[0].parse_info, |e| self.events[e].parse_info);
                        let time = raw.parse(&info).ok().and_then(|r| r.time())?;
                        Some((event, info, time))
                    });
                let (event, info, time) = match parsed {
                    Some(p) => p,
                    None => {
                        self.order.unparsed += 1;
                        (None, self.events[0].parse_info, last_time)
                    }
                };
                last_time = time;
                let mut bytes = vec![0u8; data.len()];
                data.copy_to(&mut bytes);
                self.round_max = self.round_max.max(time);
                self.order.buffered += 1;
                self.seq += 1;
                self.heap.push(Reverse(Pending {
                    key: (time, self.seq),
                    record: SessionRecord {
                        time,
                        event,
                        cpu,
                        info,
                        bytes,
                    },
                }));
                self.order.peak_buffered = self.order.peak_buffered.max(self.heap.len());
                if self.heap.len() > self.opts.max_buffered {
                    if let Some(Reverse(p)) = self.heap.pop() {
                        self.order.forced += 1;
                        note_emitted(&mut self.order, &mut self.last_emitted, p.record.time);
                        self.ready.push_back(p.record);
                    }
                }
            }
            drop(batch);
            self.rings[ri].last_time = last_time;
        }
    }

    /// Emits forced records, then heap records up to `horizon` (all when None).
    fn release(&mut self, horizon: Option<u64>, mut push: impl FnMut(SessionRecord)) {
        while let Some(r) = self.ready.pop_front() {
            push(r);
        }
        while let Some(Reverse(top)) = self.heap.peek() {
            if horizon.is_some_and(|h| top.key.0 > h) {
                break;
            }
            let Some(Reverse(p)) = self.heap.pop() else {
                break;
            };
            note_emitted(&mut self.order, &mut self.last_emitted, p.record.time);
            push(p.record);
        }
    }

    /// Ends the session now: disables the events, reads the rings one last
    /// time and moves every buffered record to `out`.
    pub fn finish(&mut self, out: &mut Vec<SessionRecord>) -> Result<usize> {
        self.disable()?;
        let n = self.flush_ordered(out);
        self.finished = true;
        Ok(n)
    }

    /// The next record in time order, waiting for the rings as needed
    /// ([`SessionOptions::poll_interval`] at a time). `None` once the
    /// session is finished (every task gone, or [`StopHandle::stop`]) and
    /// every record has been returned.
    pub fn next_ordered(&mut self) -> Result<Option<SessionRecord>> {
        let mut out = Vec::new();
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Ok(Some(r));
            }
            if self.finished {
                return Ok(None);
            }
            // Relaxed: see StopHandle::stop.
            let gone = if self.stop.load(Ordering::Relaxed) {
                self.disable()?;
                true
            } else {
                self.wait(Some(self.opts.poll_interval))?.finished
            };
            if gone {
                self.flush_ordered(&mut out);
                self.finished = true;
            } else {
                self.read_ordered(&mut out);
            }
            self.ready.extend(out.drain(..));
        }
    }

    /// An iterator over [`SamplingSession::next_ordered`].
    pub fn ordered(&mut self) -> OrderedRecords<'_> {
        OrderedRecords { session: self }
    }

    /// The poller's fd (readable when some ring or hang-up is pending), for
    /// an async reactor.
    #[cfg(feature = "tokio")]
    pub(crate) fn poller_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.poller.as_fd()
    }

    /// Records taken out of the window and not yet returned.
    #[cfg(feature = "tokio")]
    pub(crate) fn pop_ready(&mut self) -> Option<SessionRecord> {
        self.ready.pop_front()
    }

    /// One non-blocking step for the async stream: look at the poller,
    /// read a round (or flush when the target is gone or stopped).
    #[cfg(feature = "tokio")]
    pub(crate) fn step(&mut self) -> Result<()> {
        let mut out = Vec::new();
        // Relaxed: see StopHandle::stop.
        let gone = if self.stop.load(Ordering::Relaxed) {
            self.disable()?;
            true
        } else {
            self.wait(Some(Duration::ZERO))?.finished
        };
        if gone {
            self.flush_ordered(&mut out);
            self.finished = true;
        } else {
            self.read_ordered(&mut out);
        }
        self.ready.extend(out);
        Ok(())
    }

    /// Turns the session into an async [`futures_core::Stream`] of records
    /// in time order (feature `tokio`; must be called inside a Tokio
    /// runtime with I/O and time enabled).
    #[cfg(feature = "tokio")]
    pub fn into_stream(self) -> Result<crate::session_stream::RecordStream> {
        crate::session_stream::RecordStream::new(self)
    }

    #[cfg(feature = "tokio")]
    pub(crate) fn poll_interval(&self) -> Duration {
        self.opts.poll_interval
    }
}

/// Counts a record emitted older than one before it.
fn note_emitted(order: &mut OrderStats, last_emitted: &mut u64, time: u64) {
    if time < *last_emitted {
        order.late += 1;
    } else {
        *last_emitted = time;
    }
}

fn lookup(ids: &[(u64, usize)], id: u64) -> Option<usize> {
    ids.binary_search_by_key(&id, |&(i, _)| i)
        .ok()
        .map(|at| ids[at].1)
}

/// Records of a session in time order; see [`SamplingSession::next_ordered`].
#[derive(Debug)]
pub struct OrderedRecords<'s> {
    session: &'s mut SamplingSession,
}

impl Iterator for OrderedRecords<'_> {
    type Item = Result<SessionRecord>;

    fn next(&mut self) -> Option<Result<SessionRecord>> {
        self.session.next_ordered().transpose()
    }
}
