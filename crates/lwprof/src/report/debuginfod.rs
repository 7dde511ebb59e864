//! Debug files from debuginfod before a report symbolizes: the file DSOs
//! of the profile's locations that lack symbols here (binary gone, or
//! stripped with no debug file) are fetched by build id into the debuginfod
//! cache, which the symbolizer then reads.
//!
//! The network is used only when `DEBUGINFOD_URLS` names a server and
//! `--offline` is not given; the cache is read either way. A fetch that
//! fails is one note line (the DSO, its build id, each server and why) and
//! the DSO's frames show as addresses; it never fails the report.

use anyhow::Result;
use lwprof_debuginfod::{Artifact, Client, ClientConfig, Request};
use lwprof_profile::model::{AddressSpace, DsoKind, Profile};
use lwprof_symbols::Symbolizer;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Where fetched files are, and the client that may fetch more.
#[derive(Debug, Clone, Default)]
pub struct DebuginfodConfig {
    /// The client; `None` is no network (`--offline`, or no
    /// `DEBUGINFOD_URLS`).
    pub client: Option<ClientConfig>,
    /// The debuginfod cache the symbolizer reads.
    pub cache: Option<PathBuf>,
}

impl DebuginfodConfig {
    /// From the environment (elfutils' variables) and `--offline`.
    pub fn from_env(offline: bool) -> Result<Self> {
        let client = if offline {
            None
        } else {
            ClientConfig::from_env()?.map(|mut c| {
                c.progress = std::io::stderr().is_terminal();
                c
            })
        };
        let cache = client
            .as_ref()
            .map(|c| c.cache.clone())
            .or_else(lwprof_debuginfod::default_cache_path);
        Ok(Self { client, cache })
    }
}

/// One DSO to fetch for: its recorded path and build id, and which files.
struct Wanted {
    path: String,
    build_id: Vec<u8>,
    artifacts: Vec<Artifact>,
}

/// The file DSOs of the profile's locations that lack symbols, with what
/// each lacks.
fn wanted(symbolizer: &Symbolizer, profile: &Profile) -> Vec<Wanted> {
    let dsos: BTreeSet<usize> = profile
        .locations()
        .iter()
        .filter(|l| matches!(l.space, AddressSpace::File(_)))
        .filter_map(|l| l.dso.map(|d| d.index()))
        .collect();
    let mut out = Vec::new();
    for i in dsos {
        let dso = &profile.dsos()[i];
        let Some(id) = dso.build_id.as_deref().filter(|id| !id.is_empty()) else {
            continue;
        };
        if dso.kind != DsoKind::File {
            continue;
        }
        let missing = symbolizer.missing_files(&dso.path, id);
        let mut artifacts = Vec::new();
        if missing.executable {
            artifacts.push(Artifact::Executable);
        }
        if missing.debuginfo {
            artifacts.push(Artifact::Debuginfo);
        }
        if !artifacts.is_empty() {
            out.push(Wanted {
                path: dso.path.clone(),
                build_id: id.to_vec(),
                artifacts,
            });
        }
    }
    out
}

/// Fetches what the profile's DSOs lack; prints one note per DSO that
/// stays without symbols.
pub fn fetch_missing(symbolizer: &Symbolizer, profile: &Profile, config: &ClientConfig) {
    let wanted = wanted(symbolizer, profile);
    if wanted.is_empty() {
        return;
    }
    // One request per file, however many DSOs share the build id.
    let mut requests: Vec<Request> = Vec::new();
    for w in &wanted {
        for &artifact in &w.artifacts {
            let r = Request {
                build_id: w.build_id.clone(),
                artifact,
            };
            if !requests.contains(&r) {
                requests.push(r);
            }
        }
    }
    let client = Client::new(config.clone());
    let results = client.fetch_all(&requests);
    let result = |id: &[u8], artifact: Artifact| {
        requests
            .iter()
            .position(|r| r.build_id == id && r.artifact == artifact)
            .map(|i| &results[i])
    };
    for w in &wanted {
        let failures: Vec<String> = w
            .artifacts
            .iter()
            .filter_map(|&artifact| match result(&w.build_id, artifact) {
                Some(Err(e)) => Some(format!("{artifact}: {e}")),
                _ => None,
            })
            .collect();
        // What was fetched may be enough (an executable with its symbols);
        // a debug file without the binary is not (it maps no file offsets).
        if !failures.is_empty() && symbolizer.missing_files(&w.path, &w.build_id).any() {
            eprintln!(
                "lwprof: note: debuginfod: {} (build id {}): {}; its frames show as addresses",
                w.path,
                lwprof_debuginfod::hex(&w.build_id),
                failures.join("; ")
            );
        }
    }
}
