//! Counting a list of events on a whole target: a thread, a process and all
//! its threads, a command started by [`crate::command::PreparedCommand`], or
//! every CPU.
//!
//! Named apart from [`crate::counter`] by its scope: a [`Counter`] or a
//! [`Group`] is one event (or one group) opened on one thread or CPU; a
//! [`CountingSession`] is what `perf stat` opens, many of those over every
//! thread or CPU of a target, summed or kept apart on read.
//!
//! A [`CountingSession`] opens one [`Group`] (for events written as a group)
//! or one [`Counter`] per event and per thread or CPU of the target, and sums
//! them on read. An event the machine cannot count (a hardware event without a
//! hardware PMU) is kept as [`EventStatus::NotSupported`] with the reason, so
//! the other events are still counted, as `perf stat` does.
//!
//! [`CountingSession::read`] sums every thread or CPU; [`CountingSession::read_places`]
//! keeps them apart, for `perf stat -A` (per CPU) and `--per-thread`.

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

/// Where one set of counters counts: a thread (with `cpu` -1) or a CPU (with
/// `pid` -1), as passed to perf_event_open(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    /// The thread id, or -1 for every task on `cpu`.
    pub pid: i32,
    /// The CPU, or -1 for any CPU the thread runs on.
    pub cpu: i32,
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
    instances: Vec<(Place, Instance)>,
}

/// Counters for a list of requests on one target.
pub struct CountingSession {
    slots: Vec<Slot>,
    places: Vec<Place>,
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
            places: Vec::new(),
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
        self.places
            .extend(places.iter().map(|&(pid, cpu)| Place { pid, cpu }));
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
                        slot.instances.push((Place { pid, cpu }, inst));
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

    /// The threads or CPUs counted on, in the order they were opened: the
    /// target's threads by id, or its CPUs.
    pub fn places(&self) -> &[Place] {
        &self.places
    }

    fn each(&self, mut f: impl FnMut(&Instance) -> Result<()>) -> Result<()> {
        for slot in &self.slots {
            for (_, inst) in &slot.instances {
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
            let mut sums = vec![CounterValue::default(); slot.request.events.len()];
            if slot.unsupported.is_none() {
                for (_, inst) in &slot.instances {
                    read_instance(inst, &mut sums)?;
                }
            }
            push_slot(&mut out, slot, sums);
        }
        Ok(out)
    }

    /// Reads every event on each thread or CPU apart: for every place of
    /// [`CountingSession::places`], one entry per event of every request, in
    /// order. A thread that exited before its counter for some request was
    /// opened reads as never counted there.
    pub fn read_places(&self) -> Result<Vec<(Place, Vec<EventStatus>)>> {
        let index: std::collections::HashMap<Place, usize> = self
            .places
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, i))
            .collect();
        let mut out: Vec<(Place, Vec<EventStatus>)> =
            self.places.iter().map(|p| (*p, Vec::new())).collect();
        for slot in &self.slots {
            let n = slot.request.events.len();
            let mut sums = vec![vec![CounterValue::default(); n]; self.places.len()];
            if slot.unsupported.is_none() {
                for (place, inst) in &slot.instances {
                    if let Some(&i) = index.get(place) {
                        read_instance(inst, &mut sums[i])?;
                    }
                }
            }
            for (row, sums) in out.iter_mut().zip(sums) {
                push_slot(&mut row.1, slot, sums);
            }
        }
        Ok(out)
    }
}

fn read_instance(inst: &Instance, sums: &mut [CounterValue]) -> Result<()> {
    match inst {
        Instance::Single(c) => sums[0].accumulate(&c.read()?),
        Instance::Group(g) => {
            let v = g.read()?;
            for (i, s) in sums.iter_mut().enumerate() {
                s.accumulate(&v.member(i));
            }
        }
    }
    Ok(())
}

/// Appends one request's statuses: its sums, or "not supported" for each of
/// its events.
fn push_slot(out: &mut Vec<EventStatus>, slot: &Slot, sums: Vec<CounterValue>) {
    match &slot.unsupported {
        Some(reason) => out.extend(
            slot.request
                .events
                .iter()
                .map(|_| EventStatus::NotSupported(reason.clone())),
        ),
        None => out.extend(sums.into_iter().map(EventStatus::Counted)),
    }
}
