//! `lwprof-profile`: the profile model, symbolization, unwinding, recording
//! and the output formats of lwprof. It sits above `lwprof-events` and
//! contains no `unsafe`.
//!
//! - [`model`]: processes, threads, mappings, locations, frames, the stack
//!   table and samples; [`model::ProfileBuilder`] builds a profile from plain
//!   values; the report API (top, call graph, filters) reads a
//!   [`model::Profile`].
//! - [`convert`]: the one road from perf records to a profile, for live
//!   rings and perf.data files alike (with off-CPU time and DWARF unwinding);
//!   [`import`] reads a perf.data file through it.
//! - [`recorder`]: a sampling session streamed into a perf.data file;
//!   [`synth`] writes the records of tasks that existed before it started.
//! - [`perfdata`]: the perf.data format, written and read.
//! - [`symbols`]: ELF symbols, DWARF lines and inline frames, debug-file
//!   lookup, demangling, kallsyms and JIT maps.
//! - [`unwind`]: call stacks from frame pointers or, with `--call-graph
//!   dwarf`, from DWARF CFI over a copy of the user stack (framehop).
//! - [`output`]: the output formats (text, folded, flame graph, pprof,
//!   Firefox Profiler, JSON) behind one trait, [`output::ProfileWriter`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod convert;
pub mod import;
pub mod model;
pub mod output;
pub mod perfdata;
pub mod recorder;
pub mod symbols;
pub mod synth;
pub mod unwind;

pub use model::{Profile, ProfileBuilder};
