//! Counters and groups: one event, or one group of events, opened on one
//! thread or one CPU (one perf_event_open(2) per event), and read back.
//! Counting a whole target (every thread of a process, every CPU) is
//! [`crate::counting_session`].
//!
//! Seed 004 is the brief: many counters are read in one call, and the argument
//! vector of a small read never touches the heap. A [`Group`] is read with one
//! read(2) of `PERF_FORMAT_GROUP | ID | TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING`
//! into a buffer on the stack (groups of up to [`STACK_GROUP_MAX`] members; a
//! larger group, which no hardware PMU can schedule anyway, spills to the heap).
//! A single [`Counter`] read is four u64s on the stack.
//!
//! This module does not decide what to print: it returns raw counts with their
//! enabled and running times, and [`CounterValue::scaled`] does the multiplex
//! scaling.

use crate::attr::EventConfig;
use crate::error::{Error, Result};
use crate::security;
use crate::sys;
use perf_event_open_sys::bindings as pb;
use smallvec::SmallVec;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Groups of up to this many members are read into a stack buffer.
pub const STACK_GROUP_MAX: usize = 32;

const SINGLE_FORMAT: u64 = (pb::PERF_FORMAT_TOTAL_TIME_ENABLED
    | pb::PERF_FORMAT_TOTAL_TIME_RUNNING
    | pb::PERF_FORMAT_ID) as u64;
const GROUP_FORMAT: u64 = SINGLE_FORMAT | pb::PERF_FORMAT_GROUP as u64;

/// How counters are opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountOptions {
    /// Count children forked after the counter was opened (perf's default).
    pub inherit: bool,
    /// Open disabled; enable with [`Counter::enable`] / [`Group::enable`].
    pub disabled: bool,
    /// Enable automatically when the target calls exec (for a command that
    /// was started stopped): nothing before exec is counted.
    pub enable_on_exec: bool,
}

impl Default for CountOptions {
    fn default() -> Self {
        CountOptions {
            inherit: true,
            disabled: true,
            enable_on_exec: false,
        }
    }
}

/// One reading of one counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterValue {
    /// The raw count.
    pub value: u64,
    /// Nanoseconds the event was enabled.
    pub time_enabled: u64,
    /// Nanoseconds the event was actually on the PMU (less than enabled when
    /// multiplexed).
    pub time_running: u64,
}

impl CounterValue {
    /// The count scaled for multiplexing (`value * enabled / running`), or
    /// `None` when the counter never ran: "0" would be a lie.
    pub fn scaled(&self) -> Option<f64> {
        if self.time_running == 0 {
            if self.time_enabled == 0 && self.value == 0 {
                // Never enabled at all (e.g. a command that never exec'd).
                return None;
            }
            return if self.value == 0 {
                None
            } else {
                Some(self.value as f64)
            };
        }
        if self.time_running >= self.time_enabled {
            return Some(self.value as f64);
        }
        Some(self.value as f64 * self.time_enabled as f64 / self.time_running as f64)
    }

    /// Percentage of the enabled time the counter was running (100 when not
    /// multiplexed), or `None` when it was never enabled.
    pub fn running_percent(&self) -> Option<f64> {
        if self.time_enabled == 0 {
            return None;
        }
        Some(100.0 * (self.time_running.min(self.time_enabled)) as f64 / self.time_enabled as f64)
    }

    /// Adds another reading (another thread or CPU of the same event). The
    /// sums saturate at `u64::MAX` rather than wrap.
    pub fn accumulate(&mut self, other: &CounterValue) {
        self.value = self.value.saturating_add(other.value);
        self.time_enabled = self.time_enabled.saturating_add(other.time_enabled);
        self.time_running = self.time_running.saturating_add(other.time_running);
    }

    /// This reading minus an earlier one of the same counter (an interval's
    /// counts); 0 where the earlier one is larger.
    pub fn since(&self, earlier: &CounterValue) -> CounterValue {
        CounterValue {
            value: self.value.saturating_sub(earlier.value),
            time_enabled: self.time_enabled.saturating_sub(earlier.time_enabled),
            time_running: self.time_running.saturating_sub(earlier.time_running),
        }
    }
}

/// One open event, counting.
#[derive(Debug)]
pub struct Counter {
    fd: OwnedFd,
    id: u64,
    event: EventConfig,
    kernel_excluded: bool,
}

/// Opens `attr` for `event`, mapping errno to an [`Error`] a user can act on.
/// With perf_event_paranoid >= 2 and no privilege, an event that would count
/// the kernel is retried user-only, as perf does; the returned flag says so.
pub(crate) fn open_attr(
    event: &EventConfig,
    attr: &mut pb::perf_event_attr,
    pid: i32,
    cpu: i32,
    group: Option<BorrowedFd<'_>>,
) -> Result<(OwnedFd, bool)> {
    match sys::perf_event_open(attr, pid, cpu, group, 0) {
        Ok(fd) => Ok((fd, false)),
        Err(e)
            if matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM))
                && attr.exclude_kernel() == 0
                && pid != -1 =>
        {
            attr.set_exclude_kernel(1);
            attr.set_exclude_hv(1);
            match sys::perf_event_open(attr, pid, cpu, group, 0) {
                Ok(fd) => Ok((fd, true)),
                Err(_) => Err(open_error(event, e, pid, cpu)),
            }
        }
        Err(e)
            if attr.sample_type & pb::PERF_SAMPLE_BRANCH_STACK as u64 != 0
                && matches!(
                    e.raw_os_error(),
                    Some(libc::EOPNOTSUPP) | Some(libc::EINVAL) | Some(libc::ENOENT)
                ) =>
        {
            Err(Error::NotSupported {
                event: event.name.clone(),
                reason: format!(
                    "branch stack sampling (-b) is not supported here ({e}): it needs a \
                     hardware PMU that records taken branches (Intel LBR, AMD BRS, ARM BRBE); \
                     record without -b"
                ),
                source: Some(e),
            })
        }
        Err(e) => Err(open_error(event, e, pid, cpu)),
    }
}

/// Turns a perf_event_open errno into a user-facing error.
pub fn open_error(event: &EventConfig, e: io::Error, pid: i32, cpu: i32) -> Error {
    let name = event.name.clone();
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => Error::Permission {
            event: name,
            errno: if e.raw_os_error() == Some(libc::EACCES) {
                "EACCES"
            } else {
                "EPERM"
            },
            advice: security::permission_advice(pid, cpu),
        },
        Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) | Some(libc::ENODEV)
            if event.kind.needs_hardware_pmu() =>
        {
            Error::NotSupported {
                event: name,
                reason: "this machine has no hardware PMU (typical of a VM without PMU \
                         passthrough); software events such as cpu-clock and task-clock still work"
                    .into(),
                // The errno says no more than the reason, and a message
                // printed with its causes would repeat it.
                source: None,
            }
        }
        Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) | Some(libc::ENODEV) => Error::NotSupported {
            event: name,
            reason: format!("the kernel does not support this event here ({e})"),
            source: Some(e),
        },
        Some(libc::ESRCH) => Error::NoSuchProcess { pid },
        Some(libc::EMFILE) | Some(libc::ENFILE) => Error::Io {
            what: format!(
                "{name}: out of file descriptors (one per event per thread or CPU); raise the \
                 limit with `ulimit -n`"
            ),
            source: e,
        },
        Some(libc::EBUSY) => Error::Io {
            what: format!("{name}: the PMU is busy (another tool holds it exclusively)"),
            source: e,
        },
        Some(libc::EINVAL) => Error::Invalid {
            event: name,
            source: e,
            hint: if cpu >= 0 && pid == -1 {
                format!("; is CPU {cpu} online?")
            } else if event.modifiers.precise_ip > 0 || event.modifiers.precise_max {
                "; try without the :p modifier".into()
            } else {
                String::new()
            },
        },
        _ => Error::Io {
            what: format!("{name}: perf_event_open"),
            source: e,
        },
    }
}

fn base_attr(event: &EventConfig, opts: &CountOptions, read_format: u64) -> pb::perf_event_attr {
    let mut attr = event.to_attr();
    attr.read_format = read_format;
    attr.set_disabled(opts.disabled as u64);
    attr.set_inherit(opts.inherit as u64);
    attr.set_enable_on_exec(opts.enable_on_exec as u64);
    attr
}

impl Counter {
    /// Opens one counter for `event` on task `pid` (0 = the caller, -1 = all
    /// tasks) and CPU `cpu` (-1 = any CPU).
    pub fn open(event: &EventConfig, pid: i32, cpu: i32, opts: &CountOptions) -> Result<Counter> {
        let mut attr = base_attr(event, opts, SINGLE_FORMAT);
        let (fd, kernel_excluded) = open_attr(event, &mut attr, pid, cpu, None)?;
        let id = sys::event_id(fd.as_fd()).map_err(|e| Error::io("PERF_EVENT_IOC_ID", e))?;
        Ok(Counter {
            fd,
            id,
            event: event.clone(),
            kernel_excluded,
        })
    }

    /// The event this counter counts.
    pub fn event(&self) -> &EventConfig {
        &self.event
    }

    /// The kernel's id of this event.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// True when the kernel refused to count kernel space and we fell back to
    /// user space only (perf_event_paranoid >= 2 without privilege).
    pub fn kernel_excluded(&self) -> bool {
        self.kernel_excluded
    }

    /// Starts counting.
    pub fn enable(&self) -> Result<()> {
        sys::enable(self.fd.as_fd(), false).map_err(|e| Error::io("enable counter", e))
    }

    /// Stops counting.
    pub fn disable(&self) -> Result<()> {
        sys::disable(self.fd.as_fd(), false).map_err(|e| Error::io("disable counter", e))
    }

    /// Zeroes the count.
    pub fn reset(&self) -> Result<()> {
        sys::reset(self.fd.as_fd(), false).map_err(|e| Error::io("reset counter", e))
    }

    /// Reads the counter: one read(2) into four u64s on the stack, no allocation.
    #[inline]
    pub fn read(&self) -> Result<CounterValue> {
        let mut buf = [0u64; 4];
        let n = sys::read_into(self.fd.as_fd(), &mut buf)
            .map_err(|e| Error::io(format!("{}: read counter", self.event.name), e))?;
        if n < 32 {
            return Err(short_read(&self.event.name, n, 32));
        }
        Ok(CounterValue {
            value: buf[0],
            time_enabled: buf[1],
            time_running: buf[2],
        })
    }
}

impl AsFd for Counter {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn short_read(name: &str, got: usize, want: usize) -> Error {
    Error::ShortRead {
        what: name.to_owned(),
        got,
        want,
    }
}

/// One reading of a whole group: the shared times and one value per member,
/// in the order the members were given to [`Group::open`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupValues {
    /// Nanoseconds the group was enabled.
    pub time_enabled: u64,
    /// Nanoseconds the group was on the PMU.
    pub time_running: u64,
    /// One raw count per member (inline for groups of up to 16).
    pub values: SmallVec<[u64; 16]>,
}

impl GroupValues {
    /// The reading of member `i` as a [`CounterValue`].
    pub fn member(&self, i: usize) -> CounterValue {
        CounterValue {
            value: self.values[i],
            time_enabled: self.time_enabled,
            time_running: self.time_running,
        }
    }
}

/// Events scheduled together on the PMU and read together in one read(2).
#[derive(Debug)]
pub struct Group {
    leader: Counter,
    members: Vec<Counter>,
}

impl Group {
    /// Opens `events` as one group (the first is the leader) on `pid`/`cpu`.
    pub fn open(events: &[EventConfig], pid: i32, cpu: i32, opts: &CountOptions) -> Result<Group> {
        let (first, rest) = events
            .split_first()
            .ok_or_else(|| Error::misuse("an event group needs at least one event"))?;
        let mut attr = base_attr(first, opts, GROUP_FORMAT);
        let (fd, kernel_excluded) = open_attr(first, &mut attr, pid, cpu, None)?;
        let id = sys::event_id(fd.as_fd()).map_err(|e| Error::io("PERF_EVENT_IOC_ID", e))?;
        let leader = Counter {
            fd,
            id,
            event: first.clone(),
            kernel_excluded,
        };
        let mut members = Vec::with_capacity(rest.len());
        for ev in rest {
            // Members are enabled and disabled through the leader.
            let member_opts = CountOptions {
                disabled: false,
                enable_on_exec: false,
                ..*opts
            };
            let mut attr = base_attr(ev, &member_opts, GROUP_FORMAT);
            if leader.kernel_excluded {
                attr.set_exclude_kernel(1);
                attr.set_exclude_hv(1);
            }
            let (fd, kernel_excluded) =
                open_attr(ev, &mut attr, pid, cpu, Some(leader.fd.as_fd()))?;
            let id = sys::event_id(fd.as_fd()).map_err(|e| Error::io("PERF_EVENT_IOC_ID", e))?;
            members.push(Counter {
                fd,
                id,
                event: ev.clone(),
                kernel_excluded,
            });
        }
        Ok(Group { leader, members })
    }

    /// Number of events in the group.
    pub fn len(&self) -> usize {
        1 + self.members.len()
    }

    /// Always false: a group has a leader.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The leader.
    pub fn leader(&self) -> &Counter {
        &self.leader
    }

    /// Every counter, leader first.
    pub fn counters(&self) -> impl Iterator<Item = &Counter> {
        std::iter::once(&self.leader).chain(self.members.iter())
    }

    /// Starts the whole group.
    pub fn enable(&self) -> Result<()> {
        sys::enable(self.leader.fd.as_fd(), true).map_err(|e| Error::io("enable group", e))
    }

    /// Stops the whole group.
    pub fn disable(&self) -> Result<()> {
        sys::disable(self.leader.fd.as_fd(), true).map_err(|e| Error::io("disable group", e))
    }

    /// Zeroes the whole group.
    pub fn reset(&self) -> Result<()> {
        sys::reset(self.leader.fd.as_fd(), true).map_err(|e| Error::io("reset group", e))
    }

    /// Reads every member with one read(2) into `out` (one slot per member,
    /// in open order) and returns `(time_enabled, time_running)`.
    ///
    /// The kernel's buffer is on the stack for groups of up to
    /// [`STACK_GROUP_MAX`]: no heap allocation at all.
    #[inline]
    pub fn read_into(&self, out: &mut [u64]) -> Result<(u64, u64)> {
        let n = self.len();
        let words = 3 + 2 * n;
        let mut buf: SmallVec<[u64; 3 + 2 * STACK_GROUP_MAX]> = SmallVec::new();
        buf.resize(words, 0);
        let got = sys::read_into(self.leader.fd.as_fd(), &mut buf)
            .map_err(|e| Error::io(format!("{}: read group", self.leader.event.name), e))?;
        if got < words * 8 || buf[0] as usize != n {
            return Err(short_read(&self.leader.event.name, got, words * 8));
        }
        // The kernel returns members in group order (leader, then siblings in
        // the order they were attached). Match by id anyway, so a reordering
        // can never silently swap two counts.
        for (i, counter) in self.counters().enumerate() {
            let slot = &buf[3 + 2 * i..5 + 2 * i];
            out[i] = if slot[1] == counter.id {
                slot[0]
            } else {
                (0..n)
                    .find(|&j| buf[4 + 2 * j] == counter.id)
                    .map_or(0, |j| buf[3 + 2 * j])
            };
        }
        Ok((buf[1], buf[2]))
    }

    /// Reads every member with one read(2). Allocation-free for groups of up
    /// to 16 members.
    pub fn read(&self) -> Result<GroupValues> {
        let mut values: SmallVec<[u64; 16]> = SmallVec::new();
        values.resize(self.len(), 0);
        let (time_enabled, time_running) = self.read_into(&mut values)?;
        Ok(GroupValues {
            time_enabled,
            time_running,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_handles_multiplexing_and_never_ran() {
        let v = CounterValue {
            value: 100,
            time_enabled: 1000,
            time_running: 250,
        };
        assert_eq!(v.scaled(), Some(400.0));
        assert_eq!(v.running_percent(), Some(25.0));
        let never = CounterValue {
            value: 0,
            time_enabled: 1000,
            time_running: 0,
        };
        assert_eq!(never.scaled(), None);
        let full = CounterValue {
            value: 7,
            time_enabled: 10,
            time_running: 10,
        };
        assert_eq!(full.scaled(), Some(7.0));
        assert_eq!(full.running_percent(), Some(100.0));
    }
}
