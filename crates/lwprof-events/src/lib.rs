//! `lwprof-events`: the kernel interface of lwprof.
//!
//! This crate is the only one in lwprof that talks to the kernel and the only
//! one that contains `unsafe`. It covers:
//!
//! - [`spec`]: event specifications in the syntax perf users type
//!   (`cycles:u`, `{a,b}`, `msr/tsc/`, `sched:sched_switch`, `mem:0x1000:rw`);
//! - [`pmu`]: sysfs PMU discovery, with the sysfs root as a parameter;
//! - [`attr`]: the plain description of one event, turned into a
//!   `perf_event_attr`;
//! - [`counter`]: counters and groups, read with one read(2) into a stack buffer;
//! - [`record`]: typed perf records parsed from ring or perf.data bytes,
//!   zero-copy across the ring's wrap, in either byte order;
//! - [`sys`]: thin, documented wrappers over the system calls.
#![deny(missing_docs)]

pub mod attr;
pub mod counter;
pub mod error;
pub mod raw;
pub mod record;
pub mod security;
pub mod sys;

pub use attr::{EventConfig, EventKind, Modifiers};
pub use error::{Error, Result};
