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

mod order;

pub use order::{OrderStats, OrderedRecords, SessionRecord};

use crate::attr::EventConfig;
use crate::command::{online_cpus, process_threads};
use crate::error::{Error, Result};
use crate::poll::{Poller, Readiness};
use crate::raw::RawData;
use crate::record::{sample_type, Endianness, IdPosition, RawRecord, RecordParseInfo};
use crate::ring::{Ring, RingOptions, RingStats};
use crate::sampling::{SampleConfig, SamplingEvent};
use crate::sys;
use order::Pending;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use crate::counting_session::Target;

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

/// What [`SamplingSession::wait`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitStatus {
    /// Some ring crossed its wakeup threshold (watermark or event count).
    pub woken: bool,
    /// Every event fd has hung up: the target and its children are gone.
    pub finished: bool,
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
    /// The index in `fds` of the event the ring was mapped from: the target
    /// of every other event's `PERF_EVENT_IOC_SET_OUTPUT` on this CPU.
    owner: usize,
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
            return Err(Error::misuse("a sampling session needs at least one event"));
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
            .ok_or_else(|| Error::misuse("events of one session disagree on where the id is"))?;
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
                let target = self.fds[slot.owner].event.as_fd();
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
                    owner: self.fds.len(),
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

    /// The poller's fd (readable when some ring or hang-up is pending), for
    /// an async reactor.
    #[cfg(feature = "tokio")]
    pub(crate) fn poller_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.poller.as_fd()
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
