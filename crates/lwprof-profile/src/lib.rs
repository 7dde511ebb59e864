#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`model`]: processes, threads, mappings, locations, frames, the stack
//!   table and samples; [`model::ProfileBuilder`] builds a profile from plain
//!   values; the report API (top, call graph, filters) reads a
//!   [`model::Profile`].
//! - [`convert`]: the one road from perf records to a profile, for live
//!   rings and perf.data files alike (with off-CPU time and DWARF unwinding);
//!   [`import`] reads a perf.data file through it, in time order from
//!   [`ordered`].
//! - [`recorder`]: a sampling session streamed into a perf.data file;
//!   [`synth`] writes the records of tasks that existed before it started.
//! - [`unwind`]: call stacks from frame pointers or, with `--call-graph
//!   dwarf`, from DWARF CFI over a copy of the user stack (framehop).
//! - [`symbolize`]: a profile's frames from `lwprof_symbols`.
//! - [`walk`]: the samples of a file streamed one by one in time order
//!   (`lwprof script`), each frame symbolized once per distinct address;
//!   [`stream`] holds what a streaming converter hands out.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod convert;
pub mod import;
pub mod model;
pub mod ordered;
pub mod recorder;
pub mod stream;
pub mod streams;
pub mod symbolize;
pub mod synth;
pub mod unwind;
pub mod walk;

pub use model::{Profile, ProfileBuilder};
pub use symbolize::SymbolizeProfile;
