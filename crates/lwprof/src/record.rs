//! `lwprof record`: sample a command, a process or every CPU into a
//! perf.data file that both `lwprof report` and `perf report` read.
//!
//! Arguments become a `RecordConfig` once; the recording itself is
//! `lwprof_profile::recorder`. A one-line live status goes to stderr when it
//! is a terminal; the summary line at the end always does.

use anyhow::{bail, Context, Result};
use lwprof_events::sampling::Period;
use lwprof_events::{EventConfig, PmuRegistry};
use lwprof_profile::recorder::{self, Progress, RecordConfig, RecordTarget};
use lwprof_profile::unwind::CallGraph;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `lwprof record`, as typed.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  lwprof record -- ./my-program args\n  lwprof record -F 999 --call-graph dwarf -p 1234 --duration 10\n  lwprof record --off-cpu -o sleep.data -- ./server"
)]
pub struct RecordArgs {
    /// Events to sample (perf syntax). Default: cycles, or cpu-clock where
    /// there is no hardware PMU.
    #[arg(short = 'e', long = "event", value_name = "LIST")]
    events: Vec<String>,
    /// Samples per second.
    #[arg(
        short = 'F',
        long = "freq",
        value_name = "HZ",
        conflicts_with = "count"
    )]
    freq: Option<u64>,
    /// One sample every N events.
    #[arg(short = 'c', long = "count", value_name = "N")]
    count: Option<u64>,
    /// Record call stacks with frame pointers (the default).
    #[arg(short = 'g')]
    g: bool,
    /// Call stacks: fp, dwarf[,STACK_BYTES] or none.
    #[arg(long = "call-graph", value_name = "MODE")]
    call_graph: Option<String>,
    /// Also record where threads block, and for how long (off-CPU time).
    #[arg(long = "off-cpu")]
    off_cpu: bool,
    /// Record a running process and all its threads.
    #[arg(short = 'p', long = "pid", conflicts_with = "all_cpus")]
    pid: Option<i32>,
    /// Record every CPU (system-wide).
    #[arg(short = 'a', long = "all-cpus")]
    all_cpus: bool,
    /// The perf.data file to write.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "perf.data"
    )]
    output: PathBuf,
    /// Stop after this many seconds.
    #[arg(long = "duration", value_name = "SECS")]
    duration: Option<f64>,
    /// Ring buffer data pages per CPU (a power of two).
    #[arg(short = 'm', long = "mmap-pages", value_name = "PAGES")]
    pages: Option<usize>,
    /// Do not follow children.
    #[arg(short = 'i', long = "no-inherit")]
    no_inherit: bool,
    /// Also write the profile in this format after recording
    /// (text, folded, flamegraph, pprof, firefox, json).
    #[arg(long = "format", value_name = "FORMAT")]
    format: Option<String>,
    /// With --format: the profile file (default: stdout for text, folded and
    /// json; a name by format otherwise).
    #[arg(long = "profile-output", value_name = "FILE", requires = "format")]
    profile_output: Option<PathBuf>,
    /// The command to run and record.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// What `lwprof record` will do, plus what to do after.
#[derive(Debug, Clone)]
pub struct RecordPlan {
    /// The recording.
    pub config: RecordConfig,
    /// The events were not given and cycles fell back to cpu-clock.
    pub fell_back: bool,
    /// Write a profile in this format afterwards.
    pub format: Option<(String, Option<PathBuf>)>,
}

impl RecordArgs {
    /// Validates the arguments into a plan.
    pub fn into_plan(self) -> Result<RecordPlan> {
        let target = if let Some(pid) = self.pid {
            RecordTarget::Pid(pid)
        } else if self.all_cpus {
            RecordTarget::AllCpus
        } else if self.command.is_empty() {
            bail!("nothing to record: give a command after `--` (lwprof record -- CMD ARGS), or -p PID or -a");
        } else {
            RecordTarget::Command(self.command.clone())
        };
        let call_graph = match self.call_graph.as_deref() {
            None => Some(CallGraph::FramePointer),
            Some("none") | Some("no") => None,
            Some(mode) => Some(
                CallGraph::parse(mode).map_err(|e| anyhow::anyhow!("--call-graph {mode}: {e}"))?,
            ),
        };
        let period = match (self.freq, self.count) {
            (_, Some(0)) => bail!("-c 0: the period must be at least 1"),
            (Some(0), _) => bail!("-F 0: the frequency must be at least 1 Hz"),
            (_, Some(c)) => Period::Count(c),
            (Some(f), None) => Period::Frequency(f),
            (None, None) => Period::Frequency(4000),
        };
        if let Period::Frequency(f) = period {
            let max = max_sample_rate();
            if let Some(max) = max.filter(|&m| f > m) {
                bail!(
                    "-F {f}: above the kernel's limit of {max} Hz; lower -F or raise it with \
                     `sysctl -w kernel.perf_event_max_sample_rate={f}`"
                );
            }
        }
        if let Some(p) = self.pages {
            if !p.is_power_of_two() {
                bail!("-m {p}: the ring size must be a power of two (e.g. 64, 128, 256)");
            }
        }
        let duration = match self.duration {
            Some(d) if !(d > 0.0 && d.is_finite()) => {
                bail!("--duration {d}: must be a positive number of seconds")
            }
            Some(d) => Some(Duration::from_secs_f64(d)),
            None => None,
        };
        let (events, fell_back) = resolve_events(&self.events)?;
        let cmdline: Vec<String> = std::env::args().collect();
        Ok(RecordPlan {
            config: RecordConfig {
                events,
                period,
                period_given: self.freq.is_some() || self.count.is_some(),
                call_graph,
                off_cpu: self.off_cpu,
                target,
                output: self.output,
                duration,
                data_pages: self.pages,
                inherit: !self.no_inherit,
                cmdline,
            },
            fell_back,
            format: self.format.map(|f| (f, self.profile_output)),
        })
    }
}

fn max_sample_rate() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_max_sample_rate")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The sampled events; `cycles` falls back to `cpu-clock` without a PMU.
fn resolve_events(specs: &[String]) -> Result<(Vec<EventConfig>, bool)> {
    let pmus = PmuRegistry::system()?;
    let text = if specs.is_empty() {
        "cycles".to_string()
    } else {
        specs.join(",")
    };
    let groups = lwprof_events::parse_events_system(&text)?;
    let mut events = Vec::new();
    let mut fell_back = false;
    for g in groups {
        for e in g.events {
            let mut cfg = e.config;
            if cfg.kind.needs_hardware_pmu() && !pmus.has_cpu_pmu() {
                if cfg.kind == lwprof_events::EventKind::Hardware
                    && cfg.config == perf_event_open_sys::bindings::PERF_COUNT_HW_CPU_CYCLES as u64
                {
                    let modifiers = cfg.modifiers;
                    cfg = EventConfig::software(
                        "cpu-clock",
                        perf_event_open_sys::bindings::PERF_COUNT_SW_CPU_CLOCK as u64,
                    );
                    cfg.modifiers = modifiers;
                    fell_back = true;
                } else {
                    bail!(
                        "{}: not supported: this machine has no hardware PMU (typical of a VM); \
                         sample cpu-clock or task-clock instead",
                        cfg.name
                    );
                }
            }
            events.push(cfg);
        }
    }
    Ok((events, fell_back))
}

fn human_bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.2} MiB", b as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", b as f64 / 1024.0)
    }
}

fn status_line(p: &Progress) -> String {
    format!(
        "[ lwprof record: {:.1}s, {} samples, {} lost, {} written ]",
        p.elapsed.as_secs_f64(),
        p.samples,
        p.lost,
        human_bytes(p.bytes)
    )
}

/// Runs `lwprof record`; returns the exit code (the command's, when there
/// is one).
pub fn run(plan: RecordPlan) -> Result<u8> {
    if plan.fell_back {
        eprintln!("lwprof: no hardware PMU here (a VM?): sampling cpu-clock instead of cycles");
    }
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))
        .context("installing the Ctrl-C handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))
        .context("installing the SIGTERM handler")?;
    let tty = std::io::stderr().is_terminal();
    let summary = recorder::record(&plan.config, &stop, |p| {
        if tty {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\x1b[K", status_line(p));
            let _ = err.flush();
        }
    })?;
    if tty {
        eprint!("\r\x1b[K");
    }
    for w in &summary.warnings {
        eprintln!("lwprof: note: {w}");
    }
    let p = &summary.progress;
    eprintln!(
        "[ lwprof record: wrote {} to {} ({} samples in {:.2}s) ]",
        human_bytes(p.bytes),
        plan.config.output.display(),
        p.samples,
        p.elapsed.as_secs_f64()
    );
    if p.lost > 0 {
        eprintln!(
            "lwprof: warning: {} samples were lost (the ring filled faster than it was read); \
             use a larger ring (-m {}) or a lower rate (-F)",
            p.lost,
            plan.config.data_pages.unwrap_or(128) * 4
        );
    }
    if summary.throttles > 0 {
        eprintln!(
            "lwprof: warning: the kernel throttled sampling {} times (kernel.perf_event_max_sample_rate); \
             lower -F",
            summary.throttles
        );
    }
    if let Some((format, out)) = &plan.format {
        crate::report::write_profile_after_record(&plan.config.output, format, out.as_deref())?;
    }
    let code = summary.exit_status.map_or(0, |s| s.code());
    Ok(code.clamp(0, 255) as u8)
}
