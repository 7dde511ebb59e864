//! Fetches the debug files (or, with `--executable`, the binaries) of the
//! build ids given as arguments from the `DEBUGINFOD_URLS` servers into the
//! debuginfod cache, in parallel, and prints each file's path (as
//! `debuginfod-find debuginfo HEX` does for one). `scripts/bench-debuginfod`
//! times it against `debuginfod-find`.
//!
//! `cargo run --release -p lwprof-debuginfod --example fetch -- HEX...`

use lwprof_debuginfod::{Artifact, Client, ClientConfig, Request};
use std::io::IsTerminal;
use std::process::ExitCode;

fn unhex(h: &str) -> Option<Vec<u8>> {
    if !h.len().is_multiple_of(2) || h.is_empty() {
        return None;
    }
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn main() -> ExitCode {
    let mut artifact = Artifact::Debuginfo;
    let mut requests = Vec::new();
    let mut threads = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--executable" {
            artifact = Artifact::Executable;
            continue;
        }
        if arg == "--threads" {
            match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if n > 0 => threads = Some(n),
                _ => {
                    eprintln!("fetch: --threads takes a positive number");
                    return ExitCode::from(2);
                }
            }
            continue;
        }
        let Some(build_id) = unhex(&arg) else {
            eprintln!("fetch: {arg}: not a hex build id");
            return ExitCode::from(2);
        };
        requests.push(Request { build_id, artifact });
    }
    let config = match ClientConfig::from_env() {
        Ok(Some(c)) => c,
        Ok(None) => {
            eprintln!("fetch: DEBUGINFOD_URLS is not set: no server to ask");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("fetch: {e}");
            return ExitCode::from(2);
        }
    };
    let client = Client::new(ClientConfig {
        progress: std::io::stderr().is_terminal(),
        threads: threads.unwrap_or(config.threads),
        ..config
    });
    let mut failed = false;
    for (r, result) in requests.iter().zip(client.fetch_all(&requests)) {
        match result {
            Ok(path) => println!("{}", path.display()),
            Err(e) => {
                eprintln!("fetch: {}: {e}", lwprof_debuginfod::hex(&r.build_id));
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
