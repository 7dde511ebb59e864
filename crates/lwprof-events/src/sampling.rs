//! Sampling events: opening an event that writes records into a ring.
//!
//! [`SampleConfig`] holds the sampling fields of a `perf_event_attr` (what
//! each sample carries, how often, when to wake the reader, forward or
//! backward ring) and [`SamplingEvent::open`] opens one event with them. The
//! caller then maps its ring with [`SamplingEvent::map_ring`] (or
//! [`crate::ring::Ring::map`] on the fd), and may redirect further events into
//! it with [`SamplingEvent::set_output`].
//!
//! This module does not decide which events a session opens on which CPUs,
//! nor parse samples: that is the sessions layer and the record parser.

use crate::attr::EventConfig;
use crate::counter::open_attr;
use crate::error::{Error, Result};
use crate::ring::{Ring, RingOptions};
use crate::selfmon;
use crate::sys;
use perf_event_open_sys::bindings as pb;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// How often the event samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One sample every N events (`sample_period`).
    Count(u64),
    /// About N samples per second (`freq = 1`, `sample_freq`).
    Frequency(u64),
}

/// When the kernel wakes a reader polling the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// After every N samples (`wakeup_events`).
    Events(u32),
    /// Once more than N bytes are in the ring (`watermark = 1`,
    /// `wakeup_watermark`).
    Watermark(u32),
}

/// The sampling fields of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleConfig {
    /// `PERF_SAMPLE_*` bits: what each sample record carries.
    pub sample_type: u64,
    /// Sampling period or frequency.
    pub period: Period,
    /// Reader wakeups.
    pub wakeup: Wakeup,
    /// `read_format` (what read(2) returns, and `PERF_SAMPLE_READ` carries).
    pub read_format: u64,
    /// Open disabled (enable with [`SamplingEvent::enable`]).
    pub disabled: bool,
    /// Follow children (the kernel refuses to mmap an inherited per-task
    /// event unless it is per-CPU).
    pub inherit: bool,
    /// Enable on exec.
    pub enable_on_exec: bool,
    /// Write the ring backward (for an overwrite ring; set it together with
    /// [`RingOptions::overwrite`]).
    pub write_backward: bool,
    /// Put the `sample_type` id fields on non-sample records too.
    pub sample_id_all: bool,
    /// `PERF_RECORD_MMAP2` records for executable mappings.
    pub mmap: bool,
    /// `PERF_RECORD_MMAP2` records for non-executable mappings too
    /// (`mmap_data`), with `mmap`.
    pub mmap_data: bool,
    /// `PERF_RECORD_COMM` records.
    pub comm: bool,
    /// `PERF_RECORD_FORK`/`EXIT` records.
    pub task: bool,
    /// `PERF_RECORD_SWITCH` records when the task is switched in or out
    /// (`context_switch`), for off-CPU time.
    pub context_switch: bool,
    /// User registers each sample carries (`sample_regs_user`, with
    /// `PERF_SAMPLE_REGS_USER`), for DWARF unwinding.
    pub sample_regs_user: u64,
    /// Bytes of user stack each sample copies (`sample_stack_user`, with
    /// `PERF_SAMPLE_STACK_USER`), for DWARF unwinding.
    pub sample_stack_user: u32,
    /// Leave user frames out of `PERF_SAMPLE_CALLCHAIN`
    /// (`exclude_callchain_user`): with DWARF unwinding the user part of
    /// the stack comes from the stack copy, as perf records it.
    pub exclude_callchain_user: bool,
    /// `branch_sample_type` (`PERF_SAMPLE_BRANCH_*`, with
    /// `PERF_SAMPLE_BRANCH_STACK`): which taken branches each sample carries.
    pub branch_sample_type: u64,
    /// `inherit_stat`: children's counts are kept per task, and the kernel
    /// writes a `PERF_RECORD_READ` with them when each task exits.
    pub inherit_stat: bool,
}

impl Default for SampleConfig {
    /// IP, TID and TIME every 4000 events, a wakeup per sample, enabled.
    fn default() -> Self {
        SampleConfig {
            sample_type: (pb::PERF_SAMPLE_IP | pb::PERF_SAMPLE_TID | pb::PERF_SAMPLE_TIME) as u64,
            period: Period::Count(4000),
            wakeup: Wakeup::Events(1),
            read_format: 0,
            disabled: false,
            inherit: false,
            enable_on_exec: false,
            write_backward: false,
            sample_id_all: false,
            mmap: false,
            mmap_data: false,
            comm: false,
            task: false,
            context_switch: false,
            sample_regs_user: 0,
            sample_stack_user: 0,
            exclude_callchain_user: false,
            branch_sample_type: 0,
            inherit_stat: false,
        }
    }
}

impl SampleConfig {
    /// Writes these fields into `attr`.
    pub fn apply(&self, attr: &mut pb::perf_event_attr) {
        attr.sample_type = self.sample_type;
        attr.read_format = self.read_format;
        match self.period {
            Period::Count(n) => {
                attr.set_freq(0);
                attr.__bindgen_anon_1.sample_period = n;
            }
            Period::Frequency(f) => {
                attr.set_freq(1);
                attr.__bindgen_anon_1.sample_freq = f;
            }
        }
        match self.wakeup {
            Wakeup::Events(n) => {
                attr.set_watermark(0);
                attr.__bindgen_anon_2.wakeup_events = n;
            }
            Wakeup::Watermark(bytes) => {
                attr.set_watermark(1);
                attr.__bindgen_anon_2.wakeup_watermark = bytes;
            }
        }
        attr.set_disabled(self.disabled as u64);
        attr.set_inherit(self.inherit as u64);
        attr.set_enable_on_exec(self.enable_on_exec as u64);
        attr.set_write_backward(self.write_backward as u64);
        attr.set_sample_id_all(self.sample_id_all as u64);
        attr.set_mmap(self.mmap as u64);
        attr.set_mmap2(self.mmap as u64);
        attr.set_mmap_data((self.mmap && self.mmap_data) as u64);
        attr.set_comm(self.comm as u64);
        attr.set_task(self.task as u64);
        attr.set_context_switch(self.context_switch as u64);
        attr.sample_regs_user = self.sample_regs_user;
        attr.sample_stack_user = self.sample_stack_user;
        attr.set_exclude_callchain_user(self.exclude_callchain_user as u64);
        attr.branch_sample_type = self.branch_sample_type;
        attr.set_inherit_stat(self.inherit_stat as u64);
    }
}

/// One open sampling event.
#[derive(Debug)]
pub struct SamplingEvent {
    fd: OwnedFd,
    id: u64,
    event: EventConfig,
    read_format: u64,
    kernel_excluded: bool,
}

impl SamplingEvent {
    /// Opens `event` on task `pid` (0 = the calling thread, -1 = every task)
    /// and CPU `cpu` (-1 = any), with the sampling fields of `cfg`.
    pub fn open(
        event: &EventConfig,
        pid: i32,
        cpu: i32,
        cfg: &SampleConfig,
    ) -> Result<SamplingEvent> {
        let mut attr = event.to_attr();
        cfg.apply(&mut attr);
        Self::open_attr(event, attr, pid, cpu, None)
    }

    /// Opens a fully built `attr` (e.g. one the sessions layer tuned), as a
    /// member of `group` when given. Errors are mapped as for counters; with
    /// perf_event_paranoid >= 2 and no privilege, kernel samples are dropped
    /// (retry with `exclude_kernel`) as perf does.
    pub fn open_attr(
        event: &EventConfig,
        mut attr: pb::perf_event_attr,
        pid: i32,
        cpu: i32,
        group: Option<BorrowedFd<'_>>,
    ) -> Result<SamplingEvent> {
        let (fd, kernel_excluded) = open_attr(event, &mut attr, pid, cpu, group)?;
        let id = sys::event_id(fd.as_fd()).map_err(|e| Error::io("PERF_EVENT_IOC_ID", e))?;
        Ok(SamplingEvent {
            fd,
            id,
            event: event.clone(),
            read_format: attr.read_format,
            kernel_excluded,
        })
    }

    /// The kernel's id of this event (the id in its LOST records and, with
    /// `PERF_SAMPLE_ID`/`IDENTIFIER`, in its samples).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The event.
    pub fn event(&self) -> &EventConfig {
        &self.event
    }

    /// True when the kernel refused kernel samples and user space only is sampled.
    pub fn kernel_excluded(&self) -> bool {
        self.kernel_excluded
    }

    /// Maps this event's ring (see [`Ring::map`]).
    pub fn map_ring(&self, opts: &RingOptions) -> Result<Ring> {
        Ring::map(self.fd.as_fd(), opts)
    }

    /// Sends this event's records into the ring of `target`
    /// (`PERF_EVENT_IOC_SET_OUTPUT`): one ring for several events on the
    /// same CPU or task. Call before mapping anything on this event.
    pub fn set_output(&self, target: &SamplingEvent) -> Result<()> {
        sys::set_output(self.fd.as_fd(), target.fd.as_fd()).map_err(|e| {
            Error::io(
                format!(
                    "{}: redirect records to {}",
                    self.event.name, target.event.name
                ),
                e,
            )
        })
    }

    /// Starts sampling.
    pub fn enable(&self) -> Result<()> {
        sys::enable(self.fd.as_fd(), false)
            .map_err(|e| Error::io(format!("{}: enable", self.event.name), e))
    }

    /// Stops sampling.
    pub fn disable(&self) -> Result<()> {
        sys::disable(self.fd.as_fd(), false)
            .map_err(|e| Error::io(format!("{}: disable", self.event.name), e))
    }

    /// The event's count by read(2) (every event counted, sampled or not).
    /// Fails for a group leader read with `PERF_FORMAT_GROUP`.
    pub fn read_count(&self) -> Result<u64> {
        if self.read_format & pb::PERF_FORMAT_GROUP as u64 != 0 {
            return Err(Error::misuse(format!(
                "{}: read_count on a PERF_FORMAT_GROUP event; read the group instead",
                self.event.name
            )));
        }
        let mut buf = [0u64; 8];
        let n = sys::read_into(self.fd.as_fd(), &mut buf)
            .map_err(|e| Error::io(format!("{}: read count", self.event.name), e))?;
        if n < 8 {
            return Err(Error::ShortRead {
                what: format!("{}: read count", self.event.name),
                got: n,
                want: 8,
            });
        }
        Ok(buf[0])
    }

    /// The count of this (self-monitored) event: `rdpmc` through the user
    /// page of `ring` when the kernel allows it, read(2) otherwise.
    pub fn self_count(&self, ring: &Ring) -> Result<u64> {
        match ring.user_page().count {
            Some(c) => Ok(c),
            None => self.read_count(),
        }
    }
}

impl AsFd for SamplingEvent {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Re-exported so callers of [`SamplingEvent::self_count`] can read the page themselves.
pub use selfmon::UserPageReading;
