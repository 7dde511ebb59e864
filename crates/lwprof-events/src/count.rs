//! Counting a list of events on a target: a thread, a process and all its
//! threads, a command started by [`crate::command::PreparedCommand`], or
//! every CPU.
//!
//! A [`CountingSession`] opens one [`Group`] (for events written as a group)
//! or one [`Counter`] per event and per thread or CPU of the target, and sums
//! them on read. An event the machine cannot count (a hardware event without a
//! hardware PMU) is kept as [`EventStatus::NotSupported`] with the reason, so
//! the other events are still counted, as `perf stat` does.

use crate::attr::EventConfig;
use crate::command::{online_cpus, process_threads};
use crate::counter::{CountOptions, Counter, CounterValue, Group};
use crate::error::{Error, Result};
use std::collections::BTreeSet;

/// What to count on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One task (a command's pid, or a thread with `-t`), following children
    /// when `inherit` is set.
    Task(i32),
    /// A running process: every thread it has now, and those created while
    /// we attach.
    Process(i32),
    /// Every task on these CPUs (`-a`); empty means every online CPU.
    Cpus(Vec<i32>),
}

/// Events counted together: a group `{a,b}` or a single event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRequest {
    /// The events; the first is the leader when `grouped`.
    pub events: Vec<EventConfig>,
    /// Whether the events form one PMU group read with one read(2).
    pub grouped: bool,
}

/// The outcome of counting one event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventStatus {
    /// Counted: the sum over every thread or CPU.
    Counted(CounterValue),
    /// The event cannot be counted here, and why.
    NotSupported(String),
}

enum Instance {
    Group(Group),
    Single(Counter),
}

struct Slot {
    request: CountRequest,
    unsupported: Option<String>,
    instances: Vec<Instance>,
}

/// Counters for a list of requests on one target.
pub struct CountingSession {
    slots: Vec<Slot>,
    kernel_excluded: bool,
}

impl std::fmt::Debug for CountingSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingSession")
            .field("slots", &self.slots.len())
            .finish()
    }
}

fn open_instance(req: &CountRequest, pid: i32, cpu: i32, opts: &CountOptions) -> Result<Instance> {
    if req.grouped {
        Group::open(&req.events, pid, cpu, opts).map(Instance::Group)
    } else {
        Counter::open(&req.events[0], pid, cpu, opts).map(Instance::Single)
    }
}

impl CountingSession {
    /// Opens every request on `target`. Ungrouped requests must hold exactly
    /// one event. Events that the machine does not support are recorded as
    /// such; any other failure (permissions, a missing pid) is an error.
    pub fn open(requests: &[CountRequest], target: &Target, opts: &CountOptions) -> Result<Self> {
        let mut opts = *opts;
        let places: Vec<(i32, i32)> = match target {
            Target::Task(pid) => vec![(*pid, -1)],
            Target::Process(pid) => process_threads(*pid)?
                .into_iter()
                .map(|t| (t, -1))
                .collect(),
            Target::Cpus(cpus) => {
                opts.inherit = false;
                let cpus = if cpus.is_empty() {
                    online_cpus()?
                } else {
                    cpus.clone()
                };
                cpus.into_iter().map(|c| (-1, c)).collect()
            }
        };
        let mut session = CountingSession {
            slots: requests
                .iter()
                .map(|r| Slot {
                    request: r.clone(),
                    unsupported: None,
                    instances: Vec::new(),
                })
                .collect(),
            kernel_excluded: false,
        };
        let mut opened: BTreeSet<i32> = BTreeSet::new();
        session.open_places(&places, &opts, target)?;
        if let Target::Process(pid) = target {
            // Threads may be created while we attach: rescan until the set of
            // threads is stable, so none is missed.
            opened.extend(places.iter().map(|p| p.0));
            loop {
                let now = process_threads(*pid)?;
                let new: Vec<(i32, i32)> = now
                    .into_iter()
                    .filter(|t| !opened.contains(t))
                    .map(|t| (t, -1))
                    .collect();
                if new.is_empty() {
                    break;
                }
                opened.extend(new.iter().map(|p| p.0));
                session.open_places(&new, &opts, target)?;
            }
        }
        Ok(session)
    }

    fn open_places(
        &mut self,
        places: &[(i32, i32)],
        opts: &CountOptions,
        target: &Target,
    ) -> Result<()> {
        for slot in &mut self.slots {
            if slot.unsupported.is_some() {
                continue;
            }
            for &(pid, cpu) in places {
                match open_instance(&slot.request, pid, cpu, opts) {
                    Ok(inst) => {
                        let excluded = match &inst {
                            Instance::Group(g) => g.leader().kernel_excluded(),
                            Instance::Single(c) => c.kernel_excluded(),
                        };
                        self.kernel_excluded |= excluded;
                        slot.instances.push(inst);
                    }
                    Err(Error::NotSupported { reason, .. }) => {
                        slot.unsupported = Some(reason);
                        slot.instances.clear();
                        break;
                    }
                    // A thread that exited while we attached is not an error.
                    Err(Error::NoSuchProcess { .. })
                        if matches!(target, Target::Process(_)) && pid > 0 => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// True when the kernel refused kernel-space counting and the events fell
    /// back to user space only.
    pub fn kernel_excluded(&self) -> bool {
        self.kernel_excluded
    }

    /// The requests, in order.
    pub fn requests(&self) -> impl Iterator<Item = &CountRequest> {
        self.slots.iter().map(|s| &s.request)
    }

    fn each(&self, mut f: impl FnMut(&Instance) -> Result<()>) -> Result<()> {
        for slot in &self.slots {
            for inst in &slot.instances {
                f(inst)?;
            }
        }
        Ok(())
    }

    /// Starts every counter.
    pub fn enable(&self) -> Result<()> {
        self.each(|i| match i {
            Instance::Group(g) => g.enable(),
            Instance::Single(c) => c.enable(),
        })
    }

    /// Stops every counter.
    pub fn disable(&self) -> Result<()> {
        self.each(|i| match i {
            Instance::Group(g) => g.disable(),
            Instance::Single(c) => c.disable(),
        })
    }

    /// Reads every event, summed over threads or CPUs: one entry per event of
    /// every request, in order.
    pub fn read(&self) -> Result<Vec<EventStatus>> {
        let mut out = Vec::new();
        for slot in &self.slots {
            if let Some(reason) = &slot.unsupported {
                out.extend(
                    slot.request
                        .events
                        .iter()
                        .map(|_| EventStatus::NotSupported(reason.clone())),
                );
                continue;
            }
            let mut sums = vec![CounterValue::default(); slot.request.events.len()];
            for inst in &slot.instances {
                match inst {
                    Instance::Single(c) => sums[0].accumulate(&c.read()?),
                    Instance::Group(g) => {
                        let v = g.read()?;
                        for (i, s) in sums.iter_mut().enumerate() {
                            s.accumulate(&v.member(i));
                        }
                    }
                }
            }
            out.extend(sums.into_iter().map(EventStatus::Counted));
        }
        Ok(out)
    }
}
