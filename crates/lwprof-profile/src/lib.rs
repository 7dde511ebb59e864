//! `lwprof-profile`: the profile model, symbolization, unwinding and the
//! output formats of lwprof. It sits above `lwprof-events` and contains no
//! `unsafe`.
//!
//! - [`model`]: processes, threads, mappings, locations, frames, the stack
//!   table and samples; [`model::ProfileBuilder`] is the one converter that
//!   live recording and perf.data reading feed; the report API (top, call
//!   graph, filters) reads a [`model::Profile`].
//! - [`symbols`]: ELF symbols, DWARF lines and inline frames, debug-file
//!   lookup, demangling, kallsyms and JIT maps.
//! - [`unwind`]: call stacks from frame pointers or, with `--call-graph
//!   dwarf`, from DWARF CFI over a copy of the user stack (framehop).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod convert;
pub mod import;
pub mod model;
pub mod perfdata;
pub mod recorder;
pub mod symbols;
pub mod synth;
pub mod unwind;

pub use model::{Profile, ProfileBuilder};
