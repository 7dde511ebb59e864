//! [`ClientConfig`]: the servers, the cache, the timeouts and the thread
//! count of a [`crate::Client`], as plain values, and how elfutils'
//! environment variables fill them.
//!
//! It does not decide whether the network may be used: the caller (the
//! CLI's `--offline`) does not build a config at all then.

use crate::{cache::default_cache_path, Error};
use std::path::PathBuf;
use std::time::Duration;

/// elfutils' default `DEBUGINFOD_TIMEOUT`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// How many files are fetched at once by default.
pub const DEFAULT_THREADS: usize = 6;

/// What a [`crate::Client`] asks, where it keeps what it got, and how long
/// it waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Server base URLs (`https://debuginfod.debian.net`), asked in order.
    pub urls: Vec<String>,
    /// The cache directory (elfutils' layout).
    pub cache: PathBuf,
    /// How long to wait for a connection, for the response to start, and
    /// for each read of its body (elfutils' `DEBUGINFOD_TIMEOUT`).
    pub timeout: Duration,
    /// The most one download may take in all (`DEBUGINFOD_MAXTIME`);
    /// `None` is no limit.
    pub max_time: Option<Duration>,
    /// How long a failed fetch is remembered; `None` reads
    /// `CACHE/cache_miss_s` as elfutils does (600 s when it is missing).
    pub cache_miss: Option<Duration>,
    /// How many files are fetched at once.
    pub threads: usize,
    /// Show a one-line progress count on stderr (the caller sets it when
    /// stderr is a terminal).
    pub progress: bool,
}

impl ClientConfig {
    /// A config for these servers and this cache, with elfutils' defaults.
    pub fn new(urls: Vec<String>, cache: PathBuf) -> Self {
        Self {
            urls,
            cache,
            timeout: DEFAULT_TIMEOUT,
            max_time: None,
            cache_miss: None,
            threads: DEFAULT_THREADS,
            progress: false,
        }
    }

    /// The config elfutils' client would use: servers from
    /// `DEBUGINFOD_URLS` (space-separated), the cache of
    /// [`default_cache_path`], `DEBUGINFOD_TIMEOUT` (seconds, default 90)
    /// and `DEBUGINFOD_MAXTIME`. `None` when `DEBUGINFOD_URLS` is unset or
    /// empty: no server, no network.
    pub fn from_env() -> Result<Option<Self>, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(urls) = var("DEBUGINFOD_URLS") else {
            return Ok(None);
        };
        let urls = parse_urls(&urls);
        if urls.is_empty() {
            return Err(Error::NoServers);
        }
        let cache = default_cache_path().ok_or(Error::NoCacheDir)?;
        let mut config = Self::new(urls, cache);
        if let Some(t) = var("DEBUGINFOD_TIMEOUT") {
            config.timeout = seconds("DEBUGINFOD_TIMEOUT", &t)?;
        }
        if let Some(t) = var("DEBUGINFOD_MAXTIME") {
            config.max_time = Some(seconds("DEBUGINFOD_MAXTIME", &t)?);
        }
        Ok(Some(config))
    }
}

/// Server URLs from a `DEBUGINFOD_URLS` value: space-separated (elfutils
/// also splits on other whitespace), trailing slashes dropped.
pub fn parse_urls(value: &str) -> Vec<String> {
    value
        .split_whitespace()
        .map(|u| u.trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
        .collect()
}

fn seconds(name: &'static str, value: &str) -> Result<Duration, Error> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| Error::BadSeconds {
            name,
            value: value.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_on_whitespace_and_lose_trailing_slashes() {
        assert_eq!(
            parse_urls(" http://a:1/  https://b/x/\thttp://c "),
            ["http://a:1", "https://b/x", "http://c"]
        );
        assert!(parse_urls("   ").is_empty());
    }

    #[test]
    fn seconds_must_be_whole_numbers() {
        assert_eq!(seconds("T", " 7 ").ok(), Some(Duration::from_secs(7)));
        let e = seconds("DEBUGINFOD_TIMEOUT", "1.5")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "DEBUGINFOD_TIMEOUT=1.5: not a whole number of seconds (unset it for the default)"
            )
        );
    }
}
