#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod attr;
pub mod budget;
pub mod catalog;
pub mod command;
pub mod counter;
pub mod counting_session;
pub mod error;
pub mod locale;
pub mod mapped;
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
