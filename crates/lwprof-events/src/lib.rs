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
//! - [`sampling`]: sampling events, opened to write records into a ring;
//! - [`ring`]: ring buffers read in place (forward, overwrite, AUX), with
//!   lost-record accounting;
//! - [`budget`]: the process-wide locked-memory budget rings draw from;
//! - [`poll`]: epoll over many rings, woken by watermarks;
//! - [`selfmon`]: the user page's self-monitoring fields (seqlock, rdpmc);
//! - [`security`]: disabling monitoring (prctl, seccomp) and permission advice;
//! - [`sys`]: thin, documented wrappers over the system calls.
#![deny(missing_docs)]

pub mod attr;
pub mod budget;
pub mod counter;
pub mod error;
pub mod poll;
pub mod raw;
pub mod ring;
pub mod sampling;
pub mod security;
pub mod selfmon;
pub mod sys;

pub use attr::{EventConfig, EventKind, Modifiers};
pub use error::{Error, Result};
pub use raw::RawData;
pub use ring::{Ring, RingOptions, RingStats};
pub use sampling::{SampleConfig, SamplingEvent};
