#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

//! # Modules
//!
//! - [`scratch`](mod@scratch): scratch directories;
//! - [`run`](mod@run): commands and their text, Linux perf;
//! - [`shares`]: the `perf report` share parser;
//! - [`cc`]: small C programs;
//! - [`debuginfod`]: loopback debuginfod servers (real and misbehaving),
//!   stripped programs with their debug files;
//! - [`tools`]: optional tools, and `LWPROF_REQUIRE_TOOLS`;
//! - `fixture` (feature `fixture`): the crafted profile.

pub mod cc;
pub mod debuginfod;
#[cfg(feature = "fixture")]
pub mod fixture;
pub mod run;
pub mod scratch;
pub mod shares;
pub mod tools;

pub use cc::{busy_c, compile_c, compile_c_file};
pub use run::{output, perf, perf_ok, run, stderr, stdout, text};
pub use scratch::{scratch, TempDir};
pub use shares::{parse_shares, perf_shares, perf_shares_and_stderr, share, Shares};
