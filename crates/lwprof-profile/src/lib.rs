//! `lwprof-profile`: the profile model, symbolization, unwinding and the
//! output formats of lwprof. It sits above `lwprof-events` and contains no
//! `unsafe`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod perfdata;
