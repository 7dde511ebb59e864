//! The arguments of `lwprof script`, as typed, and their check into a
//! [`ScriptConfig`]: the input, `-F` fields, filters and `--time`.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Arguments of `lwprof script`, as typed.
#[derive(clap::Args, Debug)]
#[command(
    override_usage = "lwprof script [OPTIONS]",
    after_help = "Examples:\n  lwprof script\n  lwprof script -i perf.data | inferno-collapse-perf | inferno-flamegraph > flame.svg\n  lwprof script -F comm,tid,time,event,trace --comm myprog"
)]
pub struct ScriptArgs {
    /// The perf.data file to read [default: perf.data]; `-` is standard
    /// input.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Vec<PathBuf>,
    /// Fields (perf's -F): comm, tid, pid, time, cpu, event, period, ip,
    /// sym, symoff, dso, srcline, addr, trace; `+f`/`-f` change the default.
    #[arg(
        short = 'F',
        long = "fields",
        value_name = "FIELDS",
        allow_hyphen_values = true
    )]
    fields: Option<String>,
    /// Only these thread names (comma-separated).
    #[arg(long = "comm", value_name = "COMMS")]
    comm: Option<String>,
    /// Only these processes (comma-separated pids).
    #[arg(long = "pid", value_name = "PIDS")]
    pid: Option<String>,
    /// Only these threads (comma-separated tids).
    #[arg(long = "tid", value_name = "TIDS")]
    tid: Option<String>,
    /// Only samples in START,END (seconds, as the time column shows them;
    /// either may be empty).
    #[arg(long = "time", value_name = "START,END")]
    time: Option<String>,
    /// Do not show inline frames (perf 6.1 adds them to DWARF-unwound call
    /// chains only, and so does lwprof).
    #[arg(long = "no-inline")]
    no_inline: bool,
    /// Also show MMAP/MMAP2 records.
    #[arg(long = "show-mmap-events")]
    show_mmap_events: bool,
    /// Also show context-switch records.
    #[arg(long = "show-switch-events")]
    show_switch_events: bool,
}

/// What `lwprof script` was asked to do, checked.
#[derive(Debug, Clone, Default)]
pub struct ScriptConfig {
    /// The files to read.
    pub inputs: Vec<PathBuf>,
    /// `-F`, unparsed (it is checked against each event's defaults).
    pub fields: Option<String>,
    /// Thread names to keep.
    pub comms: Vec<String>,
    /// Pids to keep.
    pub pids: Vec<u32>,
    /// Tids to keep.
    pub tids: Vec<u32>,
    /// Time range in ns.
    pub time: (Option<u64>, Option<u64>),
    /// Inline frames off.
    pub no_inline: bool,
    /// Show MMAP/MMAP2 records.
    pub show_mmap_events: bool,
    /// Show SWITCH records.
    pub show_switch_events: bool,
}

fn ids(flag: &str, list: &Option<String>) -> Result<Vec<u32>> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse()
                .with_context(|| format!("{flag} takes comma-separated numbers, not `{s}`"))
        })
        .collect()
}

fn seconds(s: &str) -> Result<Option<u64>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let v: f64 = s
        .parse()
        .with_context(|| format!("--time takes START,END in seconds, not `{s}`"))?;
    if v.is_nan() || v < 0.0 {
        bail!("--time takes START,END in seconds, not `{s}`");
    }
    Ok(Some((v * 1e9).round() as u64))
}

impl ScriptArgs {
    /// Checks the arguments.
    pub fn into_config(self) -> Result<ScriptConfig> {
        let time = match &self.time {
            None => (None, None),
            Some(t) => {
                let (a, b) = t.split_once(',').unwrap_or((t.as_str(), ""));
                (seconds(a)?, seconds(b)?)
            }
        };
        Ok(ScriptConfig {
            inputs: if self.input.is_empty() {
                vec![PathBuf::from("perf.data")]
            } else {
                self.input
            },
            fields: self.fields,
            comms: self
                .comm
                .iter()
                .flat_map(|c| c.split(','))
                .map(str::to_string)
                .collect(),
            pids: ids("--pid", &self.pid)?,
            tids: ids("--tid", &self.tid)?,
            time,
            no_inline: self.no_inline,
            show_mmap_events: self.show_mmap_events,
            show_switch_events: self.show_switch_events,
        })
    }
}
