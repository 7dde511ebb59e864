#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

//! # Modules
//!
//! - [`config`]: [`ClientConfig`], from elfutils' environment variables
//!   (`DEBUGINFOD_URLS`, `DEBUGINFOD_CACHE_PATH`, `DEBUGINFOD_TIMEOUT`,
//!   `DEBUGINFOD_MAXTIME`);
//! - [`cache`]: the cache shared with elfutils (`CACHE/HEX/debuginfo`,
//!   `CACHE/HEX/executable`, empty negative-cache files, `cache_miss_s`);
//! - [`client`]: [`Client`], which fetches one file (first server that has
//!   it, build id checked, written whole or not at all) or many in parallel.
//!
//! It does not symbolize, parse DWARF or decide what to fetch: the caller
//! asks for build ids (`lwprof_symbols::Symbolizer::missing_files` tells
//! which), and the symbolizer reads the cache. It fetches no source files
//! and sends no `X-DEBUGINFOD-*` headers.

pub mod cache;
pub mod client;
pub mod config;

pub use cache::{default_cache_path, Cache};
pub use client::{Client, Request};
pub use config::ClientConfig;

use std::path::PathBuf;

/// Which file of a build id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Artifact {
    /// The separate debug file (`/buildid/HEX/debuginfo`).
    Debuginfo,
    /// The binary itself (`/buildid/HEX/executable`).
    Executable,
}

impl Artifact {
    /// The name in URLs and in the cache: `debuginfo` or `executable`.
    pub fn name(self) -> &'static str {
        match self {
            Artifact::Debuginfo => "debuginfo",
            Artifact::Executable => "executable",
        }
    }
}

impl std::fmt::Display for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why one server did not give a file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServerFailure {
    /// The server answered 404.
    #[error("not found")]
    NotFound,
    /// No connection, or no answer, within `DEBUGINFOD_TIMEOUT`.
    #[error("no answer within {secs} s (DEBUGINFOD_TIMEOUT)")]
    Timeout {
        /// The timeout, in seconds.
        secs: u64,
    },
    /// The server answered with another error status.
    #[error("HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The connection failed (refused, reset, TLS, bad address).
    #[error("{reason}")]
    Transport {
        /// What the HTTP client said.
        reason: String,
    },
    /// The server sent a file that is not ELF, or has another build id.
    #[error("sent {found}, not the ELF file of that build id; rejected")]
    WrongFile {
        /// What it sent: `a file with build id HEX`, or `N bytes that are not ELF`.
        found: String,
    },
    /// An earlier request in this run got no answer from this server, so it
    /// was not asked again (one timeout per server per run).
    #[error("skipped (it did not answer earlier in this run)")]
    Skipped,
}

/// Why a file was not fetched.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `DEBUGINFOD_URLS` is set but names no server.
    #[error("DEBUGINFOD_URLS is set but names no server (give space-separated URLs, or unset it)")]
    NoServers,
    /// An environment variable has a value that is not a number of seconds.
    #[error("{name}={value}: not a whole number of seconds (unset it for the default)")]
    BadSeconds {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// No cache directory: neither `DEBUGINFOD_CACHE_PATH`,
    /// `XDG_CACHE_HOME` nor `HOME` is set.
    #[error("no debuginfod cache directory (set DEBUGINFOD_CACHE_PATH, XDG_CACHE_HOME or HOME)")]
    NoCacheDir,
    /// A fetch failed recently and the empty negative-cache file says not to
    /// ask again yet.
    #[error(
        "no server had it {age_s} s ago (negative cache {}, kept {miss_s} s; delete it to ask again)",
        path.display()
    )]
    CachedMiss {
        /// The empty file.
        path: PathBuf,
        /// Its age in seconds.
        age_s: u64,
        /// How long a miss is kept (`CACHE/cache_miss_s`).
        miss_s: u64,
    },
    /// Every server failed; one entry per server.
    #[error("{}", failures_text(.0))]
    Failed(Vec<(String, ServerFailure)>),
    /// The cache could not be written.
    #[error("{}: {error} (check the permissions of the debuginfod cache, or set DEBUGINFOD_CACHE_PATH)", path.display())]
    Cache {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
}

fn failures_text(failures: &[(String, ServerFailure)]) -> String {
    let parts: Vec<String> = failures.iter().map(|(s, f)| format!("{s}: {f}")).collect();
    parts.join("; ")
}

/// Lower-case hex of a build id.
pub fn hex(build_id: &[u8]) -> String {
    lwprof_symbols::hex(build_id)
}
