//! [`Client`]: fetches a build id's debug file or executable from the first
//! server that has it into the [`crate::cache`], or many at once on a small
//! pool of threads.
//!
//! As elfutils' client: `GET SERVER/buildid/HEX/debuginfo` (or
//! `executable`), a cached file is used without asking, a failure leaves a
//! negative-cache entry. Unlike it, every failure is remembered (a timeout
//! too, not only a 404), and a server that did not answer once in a run is
//! not asked again in that run, so an unreachable server costs at most one
//! timeout per run and none in the next run within the miss period. A
//! fetched file whose build id is not the one asked for is rejected.
//!
//! It does not retry, follow `DEBUGINFOD_URLS` files (`.d` directories), or
//! send elfutils' `X-DEBUGINFOD-*` headers.

use crate::cache::{Cache, Lookup};
use crate::{hex, Artifact, ClientConfig, Error, ServerFailure};
use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// One file to fetch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// The build id.
    pub build_id: Vec<u8>,
    /// Which file.
    pub artifact: Artifact,
}

/// A debuginfod client: servers, cache and HTTP agent; shared by the
/// threads of [`Client::fetch_all`].
pub struct Client {
    config: ClientConfig,
    cache: Cache,
    miss: Duration,
    agent: ureq::Agent,
    /// Servers that did not answer in this run.
    dead: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("miss", &self.miss)
            .finish_non_exhaustive()
    }
}

/// What went wrong with one server: its failure, or a cache that cannot be
/// written (which no other server fixes).
enum Attempt {
    Server(ServerFailure),
    Cache(Error),
}

impl Client {
    /// A client for `config` (reads the cache's `cache_miss_s` now when the
    /// config does not say).
    pub fn new(config: ClientConfig) -> Self {
        let cache = Cache::new(config.cache.clone());
        let miss = config.cache_miss.unwrap_or_else(|| cache.cache_miss());
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(config.timeout))
            .timeout_recv_response(Some(config.timeout))
            .timeout_per_read(Some(config.timeout))
            .timeout_global(config.max_time)
            .http_status_as_error(false)
            .user_agent(concat!("lwprof/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            config,
            cache,
            miss,
            agent,
            dead: Mutex::new(HashSet::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The file of a build id: from the cache, else from the first server
    /// that has it (stored in the cache). A recent negative-cache entry
    /// fails at once; a failure of every server leaves one.
    pub fn fetch(&self, build_id: &[u8], artifact: Artifact) -> Result<PathBuf, Error> {
        match self.cache.lookup(build_id, artifact, self.miss) {
            Lookup::Hit(path) => return Ok(path),
            Lookup::Miss { path, age } => {
                return Err(Error::CachedMiss {
                    path,
                    age_s: age.as_secs(),
                    miss_s: self.miss.as_secs(),
                })
            }
            Lookup::Absent => {}
        }
        let mut failures = Vec::new();
        for server in &self.config.urls {
            if self.is_dead(server) {
                failures.push((server.clone(), ServerFailure::Skipped));
                continue;
            }
            match self.ask_server(server, build_id, artifact) {
                Ok(path) => return Ok(path),
                Err(Attempt::Cache(e)) => return Err(e),
                Err(Attempt::Server(f)) => {
                    if matches!(
                        f,
                        ServerFailure::Timeout { .. } | ServerFailure::Transport { .. }
                    ) {
                        self.mark_dead(server);
                    }
                    failures.push((server.clone(), f));
                }
            }
        }
        self.cache
            .record_miss(build_id, artifact)
            .map_err(|error| Error::Cache {
                path: self.cache.path(build_id, artifact),
                error,
            })?;
        Err(Error::Failed(failures))
    }

    /// Fetches every request, at most `threads` at once; the results are in
    /// the order of the requests. With `progress`, a count is kept on
    /// stderr while they run (`debuginfod: 3/5 fetched, 1 failed`).
    pub fn fetch_all(&self, requests: &[Request]) -> Vec<Result<PathBuf, Error>> {
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let results: Vec<Mutex<Option<Result<PathBuf, Error>>>> =
            requests.iter().map(|_| Mutex::new(None)).collect();
        let progress = self.config.progress && io::stderr().is_terminal();
        let threads = self.config.threads.clamp(1, requests.len().max(1));
        if progress && !requests.is_empty() {
            show_progress(0, requests.len(), 0);
        }
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = requests.get(i) else { break };
                    let result = self.fetch(&r.build_id, r.artifact);
                    if result.is_err() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(result);
                    }
                    if progress {
                        show_progress(n, requests.len(), failed.load(Ordering::Relaxed));
                    }
                });
            }
        });
        if progress && !requests.is_empty() {
            eprintln!();
        }
        results
            .into_iter()
            .map(|slot| {
                slot.into_inner().ok().flatten().unwrap_or_else(|| {
                    // A worker that panicked left its slot empty.
                    Err(Error::Failed(Vec::new()))
                })
            })
            .collect()
    }

    fn is_dead(&self, server: &str) -> bool {
        self.dead.lock().is_ok_and(|d| d.contains(server))
    }

    fn mark_dead(&self, server: &str) {
        if let Ok(mut d) = self.dead.lock() {
            d.insert(server.to_string());
        }
    }

    /// One GET, the body streamed into a temporary file in the cache, its
    /// build id checked, then renamed into place.
    fn ask_server(
        &self,
        server: &str,
        build_id: &[u8],
        artifact: Artifact,
    ) -> Result<PathBuf, Attempt> {
        let url = format!("{server}/buildid/{}/{}", hex(build_id), artifact.name());
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| Attempt::Server(self.failure(e)))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Err(Attempt::Server(ServerFailure::NotFound)),
            status => return Err(Attempt::Server(ServerFailure::Status { status })),
        }
        let cache_error = |error| {
            Attempt::Cache(Error::Cache {
                path: self.cache.path(build_id, artifact),
                error,
            })
        };
        let mut file = self
            .cache
            .temp_file(build_id, artifact)
            .map_err(cache_error)?;
        let mut body = response.into_body().into_reader();
        let size = match io::copy(&mut body, &mut file) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::StorageFull => return Err(cache_error(e)),
            Err(e) => return Err(Attempt::Server(self.io_failure(e))),
        };
        file.flush().map_err(cache_error)?;
        match lwprof_symbols::read_build_id(file.path()) {
            Some(found) if found == build_id => {}
            Some(found) => {
                return Err(Attempt::Server(ServerFailure::WrongFile {
                    found: format!("a file with build id {}", hex(&found)),
                }))
            }
            None => {
                return Err(Attempt::Server(ServerFailure::WrongFile {
                    found: format!("{size} bytes that are not an ELF file with a build id"),
                }))
            }
        }
        self.cache
            .commit(file, build_id, artifact)
            .map_err(cache_error)
    }

    fn failure(&self, e: ureq::Error) -> ServerFailure {
        match e {
            ureq::Error::Timeout(_) => self.timeout(),
            ureq::Error::Io(io) => self.io_failure(io),
            ureq::Error::StatusCode(404) => ServerFailure::NotFound,
            ureq::Error::StatusCode(status) => ServerFailure::Status { status },
            other => ServerFailure::Transport {
                reason: other.to_string(),
            },
        }
    }

    fn io_failure(&self, e: io::Error) -> ServerFailure {
        let timed_out = matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) || e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
        if timed_out {
            return self.timeout();
        }
        ServerFailure::Transport {
            reason: e.to_string(),
        }
    }

    fn timeout(&self) -> ServerFailure {
        ServerFailure::Timeout {
            secs: self.config.timeout.as_secs(),
        }
    }
}

fn show_progress(done: usize, total: usize, failed: usize) {
    let fetched = done - failed.min(done);
    let mut err = io::stderr().lock();
    // The line is rewritten in place; a failed write only loses progress.
    let _ = write!(
        err,
        "\rdebuginfod: {fetched}/{total} fetched, {failed} failed"
    );
    let _ = err.flush();
}
