//! `lwprof list [FILTER]`: every event usable on this machine, grouped by kind.

use anyhow::Result;
use lwprof_events::catalog::Catalog;
use lwprof_events::{PmuRegistry, Tracefs, TracepointSource};
use std::io::Write;

/// Arguments of `lwprof list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Show only events whose name contains FILTER (a glob with * ? [ ]), or
    /// one section: sw, hw, cache, pmu, raw, bp, tp.
    filter: Option<String>,
}

/// What `lwprof list` will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListConfig {
    /// Substring, glob or section keyword.
    pub filter: Option<String>,
}

impl ListArgs {
    /// The plain config.
    pub fn into_config(self) -> ListConfig {
        ListConfig {
            filter: self.filter,
        }
    }
}

/// Prints the catalogue; returns the exit code.
pub fn run(config: ListConfig) -> Result<u8> {
    let pmus = PmuRegistry::system()?;
    let tracefs = Tracefs::find_or_mount().ok();
    let catalog = Catalog::build(&pmus, tracefs.as_ref().map(|t| t as &dyn TracepointSource))?;
    let catalog = match &config.filter {
        Some(f) => catalog.filter(f),
        None => catalog,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if catalog.is_empty() {
        if let Some(f) = &config.filter {
            eprintln!("lwprof: no event matches '{f}' (run `lwprof list` for all)");
        }
        return Ok(1);
    }
    writeln!(out)?;
    for section in &catalog.sections {
        if section.entries.is_empty() {
            continue;
        }
        for entry in &section.entries {
            writeln!(
                out,
                "  {:<50} [{}]",
                entry.display_name(),
                entry.kind.label()
            )?;
        }
        writeln!(out)?;
    }
    if tracefs.is_none() {
        writeln!(
            out,
            "  (tracepoints not listed: tracefs is not mounted at /sys/kernel/tracing; mount it as root \
             with `mount -t tracefs nodev /sys/kernel/tracing`)"
        )?;
    }
    if !catalog.has_cpu_pmu {
        writeln!(
            out,
            "  (no hardware PMU on this machine: hardware and cache events are not available; \
             cpu-clock and task-clock stand in for cycles)"
        )?;
    }
    out.flush()?;
    Ok(0)
}
