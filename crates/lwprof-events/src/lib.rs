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
//! - [`counter`]: counters and groups, read with one read(2) into a stack buffer;
//! - [`sys`]: thin, documented wrappers over the system calls.
#![deny(missing_docs)]

pub mod attr;
pub mod catalog;
pub mod counter;
pub mod error;
pub mod pmu;
pub mod raw;
pub mod security;
pub mod spec;
pub mod sys;
pub mod tracefs;

pub use attr::{EventConfig, EventKind, Modifiers};
pub use error::{Error, Result};
pub use pmu::PmuRegistry;
pub use spec::{parse_events, parse_events_system, EventGroupSpec, ResolvedEvent, SpecError};
pub use tracefs::{Tracefs, TracepointSource};
