//! `lwprof stat`: count events while a command runs, or on a process, a
//! thread or CPUs, and print the counts laid out like `perf stat`.
//!
//! - [`args`]: the arguments, validated once into a [`StatConfig`];
//! - [`events`]: the event list (`-e`, perf's default set, `-d`);
//! - [`counting`]: one run: open, start, wait, read, as rows of readings;
//! - [`display`]: perf's human, CSV and JSON layouts;
//! - [`output`]: stderr or the `-o` file, naming it in write errors.
//!
//! The counting itself is `lwprof_events::count`, and the figures after `#`
//! are `lwprof_events::stat_metrics`. The command's exit status becomes
//! lwprof's.

mod args;
mod counting;
mod display;
mod events;
mod output;

pub use args::{StatArgs, StatConfig};

use anyhow::{Context, Result};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Runs `lwprof stat`; returns the exit code (the command's, when there is one).
pub fn run(config: StatConfig) -> Result<u8> {
    let (requests, shown) = events::resolve_events(&config)?;
    let interrupted = Arc::new(AtomicBool::new(false));
    // Ctrl-C stops counting and prints what was counted; the command gets
    // the signal from the terminal (or from us, in counting::wait).
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))
        .context("installing the Ctrl-C handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&interrupted))
        .context("installing the SIGTERM handler")?;
    let mut out = output::StatOutput::open(config.output.as_deref())?;
    let mut printer = display::Printer::new(&config, &shown);
    let mut runs = Vec::new();
    for _ in 0..config.repeat {
        let r = counting::run_once(&config, &requests, &mut printer, &interrupted, &mut out)?;
        runs.push(r);
        if interrupted.load(Ordering::Relaxed) {
            break;
        }
    }
    if config.interval.is_none() || config.repeat > 1 {
        printer.print_summary(&runs, &mut out)?;
    }
    if let Some(first) = runs.first() {
        printer.print_notes(first, &mut out)?;
    }
    out.flush()?;
    let code = runs.last().and_then(|r| r.status).map_or(0, |s| s.code());
    Ok(code.clamp(0, 255) as u8)
}
