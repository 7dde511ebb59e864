//! `lwprof-events`: the kernel interface of lwprof.
//!
//! This crate is the only one in lwprof that talks to the kernel and the only
//! one that contains `unsafe`. It covers:
//!
//! - [`spec`]: event specifications in the syntax perf users type
//!   (`cycles:u`, `{a,b}`, `msr/tsc/`, `sched:sched_switch`, `mem:0x1000:rw`);
//! - [`pmu`]: sysfs PMU discovery, with the sysfs root as a parameter;
//! - [`tracefs`]: tracepoint lookup, with the tracefs root as a parameter;
//! - [`catalog`]: every event usable here, for `lwprof list`;
//! - [`attr`]: the plain description of one event, turned into a
//!   `perf_event_attr`;
//! - [`counter`]: one counter or group on one thread or CPU, read with one
//!   read(2) into a stack buffer;
//! - [`counting_session`]: counting a list of events over a whole target (a
//!   task, every thread of a process, every CPU), as `perf stat` does;
//! - [`stat_metrics`]: the derived figures of `perf stat` (CPUs utilized,
//!   rates, GHz, IPC, miss ratios) and the spread of repeated runs;
//! - [`locale`]: digit grouping as the user's locale writes it;
//! - [`command`]: starting a command stopped before exec, for enable-on-exec;
//! - [`record`]: typed perf records parsed from ring or perf.data bytes,
//!   zero-copy across the ring's wrap, in either byte order;
//! - [`sampling`]: sampling events, opened to write records into a ring;
//! - [`ring`]: ring buffers read in place (forward, overwrite, AUX), with
//!   lost-record accounting;
//! - [`budget`]: the process-wide locked-memory budget rings draw from;
//! - [`poll`]: epoll over many rings, woken by watermarks;
//! - [`selfmon`]: the user page's self-monitoring fields (seqlock, rdpmc),
//!   and [`selfmon::SelfProfiler`], an application sampling itself;
//! - [`session`]: sampling sessions on a command, a process or every CPU,
//!   one ring per CPU, records merged in time order (async `Stream` with the
//!   `tokio` feature);
//! - [`security`]: disabling monitoring (prctl, seccomp) and permission advice;
//! - [`sys`]: thin, documented wrappers over the system calls.
#![deny(missing_docs)]

pub mod attr;
pub mod budget;
pub mod catalog;
pub mod command;
pub mod counter;
pub mod counting_session;
pub mod error;
pub mod locale;
pub mod pmu;
pub mod poll;
pub mod ring;
pub mod sampling;
pub mod security;
pub mod selfmon;
pub mod session;
#[cfg(feature = "tokio")]
pub mod session_stream;
pub mod spec;
pub mod stat_metrics;
pub mod sys;
pub mod tracefs;

/// The former name of [`counting_session`]: `lwprof_events::count::...`
/// paths keep compiling.
pub use counting_session as count;

pub use attr::parse_info;
pub use attr::{EventConfig, EventKind, Modifiers};
pub use error::{Error, Result};
pub use lwprof_records::RawData;
/// The record layer, re-exported: `lwprof_events::record` and
/// `lwprof_events::raw` are `lwprof_records`' own modules.
pub use lwprof_records::{raw, record};
pub use pmu::PmuRegistry;
pub use ring::{Ring, RingOptions, RingStats};
pub use sampling::{SampleConfig, SamplingEvent};
pub use session::{SamplingSession, SessionEvent, SessionOptions, SessionRecord};
pub use spec::{parse_events, parse_events_system, EventGroupSpec, ResolvedEvent, SpecError};
pub use tracefs::{Tracefs, TracepointSource};
