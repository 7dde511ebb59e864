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
//! - [`output`]: the output formats (text, folded, flame graph, pprof,
//!   Firefox Profiler, JSON) behind one trait, [`output::ProfileWriter`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod model;
pub mod output;
pub mod perfdata;
pub mod symbols;

pub use model::{Profile, ProfileBuilder};
