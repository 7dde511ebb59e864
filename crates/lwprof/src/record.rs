//! `lwprof record`: sample a command, a process, a thread or every CPU into
//! a perf.data file that both `lwprof report` and `perf report` read.
//!
//! Arguments become a `RecordPlan` once (every number checked here, before
//! anything is opened or started); the recording itself is
//! `lwprof_profile::recorder`. A one-line live status goes to stderr when it
//! is a terminal; the summary line at the end always does (unless `-q`).

use crate::args::{parse_cpu_list, parse_duration_secs, parse_size, parse_switch_output};
use anyhow::{bail, Context, Result};
use lwprof_events::sampling::Period;
use lwprof_events::{EventConfig, PmuRegistry};
use lwprof_output::Format;
use lwprof_profile::recorder::{self, Progress, RecordConfig, RecordTarget, Update};
use lwprof_profile::unwind::CallGraph;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Arguments of `lwprof record`, as typed.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  lwprof record ./my-program args\n  lwprof record -F 999 --call-graph dwarf -p 1234 --duration 10\n  lwprof record -a -- sleep 5\n  lwprof record --off-cpu -o sleep.data -- ./server\n  lwprof record --overwrite --switch-output=signal -a   (dump the latest samples on SIGUSR2)"
)]
pub struct RecordArgs {
    /// Events to sample (perf syntax). Default: cycles, or cpu-clock where
    /// there is no hardware PMU.
    #[arg(short = 'e', long = "event", value_name = "LIST")]
    events: Vec<String>,
    /// Samples per second, or `max` (kernel.perf_event_max_sample_rate).
    #[arg(
        short = 'F',
        long = "freq",
        value_name = "HZ",
        conflicts_with = "count"
    )]
    freq: Option<String>,
    /// One sample every N events.
    #[arg(short = 'c', long = "count", value_name = "N")]
    count: Option<String>,
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
    #[arg(short = 'p', long = "pid", value_name = "PID", conflicts_with_all = ["all_cpus", "tid"])]
    pid: Option<String>,
    /// Record one running thread.
    #[arg(
        short = 't',
        long = "tid",
        value_name = "TID",
        conflicts_with = "all_cpus"
    )]
    tid: Option<String>,
    /// Record every CPU (system-wide).
    #[arg(short = 'a', long = "all-cpus")]
    all_cpus: bool,
    /// Only these CPUs (e.g. 0-1,3).
    #[arg(short = 'C', long = "cpu", value_name = "CPUS")]
    cpus: Option<String>,
    /// The perf.data file to write; `-` writes pipe mode to standard
    /// output (`lwprof record -o - -- CMD | perf report -i -`).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "perf.data"
    )]
    output: PathBuf,
    /// zstd-compress the records (level 1, fastest, to 22, smallest; 1 when
    /// not given), as perf record -z does.
    #[arg(
        short = 'z',
        long = "compression-level",
        value_name = "LEVEL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "1"
    )]
    compression_level: Option<String>,
    /// Stop after this many seconds.
    #[arg(long = "duration", value_name = "SECS")]
    duration: Option<String>,
    /// Ring size per CPU: data pages (a power of two) or a size with a unit
    /// (512K, 16M).
    #[arg(short = 'm', long = "mmap-pages", value_name = "PAGES|SIZE")]
    pages: Option<String>,
    /// Do not follow children.
    #[arg(short = 'i', long = "no-inherit")]
    no_inherit: bool,
    /// Sample timestamps (always recorded; accepted for perf compatibility).
    #[arg(short = 'T', long = "timestamp")]
    timestamp: bool,
    /// Per-thread counts: each task's totals are written when it exits
    /// (perf's --stat).
    #[arg(short = 's', long = "stat")]
    stat: bool,
    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Record every context switch (PERF_RECORD_SWITCH).
    #[arg(long = "switch-events")]
    switch_events: bool,
    /// Do not write build ids (and do not fill the build-id cache).
    #[arg(short = 'B', long = "no-buildid")]
    no_buildid: bool,
    /// Do not copy the sampled binaries into the build-id cache (~/.debug).
    #[arg(short = 'N', long = "no-buildid-cache")]
    no_buildid_cache: bool,
    /// Sample the taken-branch stack of every sample (needs a PMU with LBR,
    /// BRS or BRBE).
    #[arg(short = 'b', long = "branch-any")]
    branch_any: bool,
    /// Flight recorder: keep only the latest samples in the rings and write
    /// them on each --switch-output (and at the end).
    #[arg(long = "overwrite")]
    overwrite: bool,
    /// Write numbered files (FILE.<timestamp>): on SIGUSR2 (`signal`, the
    /// default), per size (`100M`) or per time (`30s`, `5m`).
    #[arg(
        long = "switch-output",
        value_name = "signal|SIZE|TIME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "signal"
    )]
    switch_output: Option<String>,
    /// Also write the profile in this format after recording
    /// (text, folded, flamegraph, pprof, firefox, json).
    #[arg(long = "format", value_name = "FORMAT")]
    format: Option<String>,
    /// With --format: the profile file (default: stdout for text, folded and
    /// json; a name by format otherwise).
    #[arg(long = "profile-output", value_name = "FILE", requires = "format")]
    profile_output: Option<PathBuf>,
    /// With --format: use no network (fetch no debug files from the
    /// DEBUGINFOD_URLS servers).
    #[arg(long = "offline")]
    offline: bool,
    /// The command to run and record (`--` before it is optional).
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
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
    pub format: Option<(Format, Option<PathBuf>)>,
    /// Where that profile's debug files come from.
    pub debuginfod: crate::report::DebuginfodConfig,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Notes about the arguments (a rounded ring size...).
    pub notes: Vec<String>,
}

/// The exit status of a writer whose reader closed the pipe (128 + SIGPIPE).
const SIGPIPE_EXIT: u8 = 141;

/// The highest value `kernel.perf_event_max_sample_rate` can take (an int).
const MAX_SAMPLE_RATE_SYSCTL: u64 = i32::MAX as u64;

/// The largest pid Linux hands out (`PID_MAX_LIMIT` on 64-bit).
const PID_MAX_LIMIT: i64 = 4_194_304;

fn parse_task_id(flag: &str, s: &str) -> Result<i32> {
    let v: i64 = s.trim().parse().map_err(|_| {
        anyhow::anyhow!("{flag} {s}: not a process id (give one number, e.g. {flag} 1234)")
    })?;
    if !(1..=PID_MAX_LIMIT).contains(&v) {
        bail!("{flag} {s}: out of range: Linux ids are 1 to {PID_MAX_LIMIT} (kernel.pid_max)");
    }
    Ok(v as i32)
}

fn parse_period(freq: Option<&str>, count: Option<&str>) -> Result<Period> {
    if let Some(c) = count {
        let n: u64 = c
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("-c {c}: not a number of events"))?;
        if n == 0 {
            bail!("-c 0: the period must be at least 1");
        }
        return Ok(Period::Count(n));
    }
    let max = max_sample_rate();
    let f = match freq.map(str::trim) {
        None => return Ok(Period::Frequency(4000.min(max.unwrap_or(4000)))),
        Some("max") => max.ok_or_else(|| {
            anyhow::anyhow!(
                "-F max: cannot read /proc/sys/kernel/perf_event_max_sample_rate; give a number"
            )
        })?,
        Some(f) => f.parse::<u64>().map_err(|_| {
            anyhow::anyhow!("-F {f}: not a frequency; give samples per second (e.g. -F 999) or max")
        })?,
    };
    if f == 0 {
        bail!("-F 0: the frequency must be at least 1 Hz");
    }
    if let Some(max) = max.filter(|&m| f > m) {
        if f > MAX_SAMPLE_RATE_SYSCTL {
            bail!(
                "-F {f}: above the kernel's limit of {max} Hz, which can be raised to at most \
                 {MAX_SAMPLE_RATE_SYSCTL}; lower -F (or use -F max)"
            );
        }
        bail!(
            "-F {f}: above the kernel's limit of {max} Hz; lower -F (or use -F max), or raise it \
             with `sysctl -w kernel.perf_event_max_sample_rate={f}`"
        );
    }
    Ok(Period::Frequency(f))
}

/// Ring pages from `-m`: a page count or a size; rounded up to a power of
/// two, as perf does, with a note.
fn parse_pages(s: &str, notes: &mut Vec<String>) -> Result<usize> {
    let page = 4096u64;
    let t = s.trim();
    let pages = if t.chars().all(|c| c.is_ascii_digit()) {
        t.parse::<u64>()
            .map_err(|_| anyhow::anyhow!("-m {s}: too large"))?
    } else {
        let bytes = parse_size(t).map_err(|e| anyhow::anyhow!("-m {s}: {e}"))?;
        bytes.div_ceil(page)
    };
    if pages == 0 {
        bail!("-m {s}: the ring needs at least one data page");
    }
    // 1 GiB of ring per CPU is far past any locked-memory allowance.
    if pages > (1 << 18) {
        bail!("-m {s}: too large: at most 262144 pages (1 GiB) per CPU");
    }
    let rounded = pages.next_power_of_two();
    if rounded != pages {
        notes.push(format!(
            "rounding the ring size to {} KiB ({rounded} pages, a power of two)",
            rounded * page / 1024
        ));
    }
    Ok(rounded as usize)
}

impl RecordArgs {
    /// Validates the arguments into a plan.
    pub fn into_plan(self) -> Result<RecordPlan> {
        let mut notes = Vec::new();
        let target = if let Some(p) = &self.pid {
            RecordTarget::Pid(parse_task_id("-p", p)?)
        } else if let Some(t) = &self.tid {
            RecordTarget::Tid(parse_task_id("-t", t)?)
        } else if self.all_cpus {
            RecordTarget::AllCpus
        } else if self.command.is_empty() {
            bail!(
                "nothing to record: give a command (lwprof record CMD ARGS), or -p PID, -t TID or -a"
            );
        } else {
            RecordTarget::Command
        };
        let call_graph = match self.call_graph.as_deref() {
            None => Some(CallGraph::FramePointer),
            Some("none") | Some("no") => None,
            Some(mode) => Some(
                CallGraph::parse(mode).map_err(|e| anyhow::anyhow!("--call-graph {mode}: {e}"))?,
            ),
        };
        let period = parse_period(self.freq.as_deref(), self.count.as_deref())?;
        let data_pages = self
            .pages
            .as_deref()
            .map(|p| parse_pages(p, &mut notes))
            .transpose()?;
        let duration = self
            .duration
            .as_deref()
            .map(|d| parse_duration_secs("--duration", d))
            .transpose()?;
        let cpus = match &self.cpus {
            Some(c) => parse_cpu_list(c).map_err(|e| anyhow::anyhow!("-C {c}: {e}"))?,
            None => Vec::new(),
        };
        let switch_output = self
            .switch_output
            .as_deref()
            .map(|s| {
                parse_switch_output(s).map_err(|e| anyhow::anyhow!("--switch-output={s}: {e}"))
            })
            .transpose()?;
        let format = self
            .format
            .as_deref()
            .map(|f| {
                f.parse::<Format>()
                    .map_err(|e| anyhow::anyhow!("--format {f}: {e}"))
            })
            .transpose()?;
        let compression_level = self
            .compression_level
            .as_deref()
            .map(parse_compression_level)
            .transpose()?;
        let pipe = self.output == std::path::Path::new("-");
        if pipe && (self.switch_output.is_some() || self.overwrite) {
            bail!("-o - (pipe mode) writes one stream: it cannot be combined with --switch-output or --overwrite");
        }
        if pipe && std::io::stdout().is_terminal() {
            bail!("-o -: standard output is a terminal; pipe it (`| perf report -i -`) or redirect it to a file");
        }
        if pipe && compression_level.is_some() {
            bail!("-z with -o -: perf 6.1 cannot read compressed pipe-mode data (not even its own); compress a file instead (-z -o FILE)");
        }
        if pipe && format.is_some() {
            bail!("-o - (pipe mode) and --format: the profile is made from the file; record to a file, or pipe into `lwprof report -i -`");
        }
        let (events, fell_back) = resolve_events(&self.events)?;
        let mut config = RecordConfig::new(events, target, self.output);
        config.period = period;
        config.compression_level = compression_level;
        config.period_given = self.freq.is_some() || self.count.is_some();
        config.call_graph = call_graph;
        config.off_cpu = self.off_cpu;
        config.command = self.command;
        config.cpus = cpus;
        config.duration = duration;
        config.data_pages = data_pages;
        config.inherit = !self.no_inherit;
        config.cmdline = std::env::args().collect();
        config.switch_events = self.switch_events;
        config.inherit_stat = self.stat;
        config.build_ids = !self.no_buildid;
        if self.no_buildid || self.no_buildid_cache {
            config.build_id_cache = None;
        }
        if self.branch_any {
            config.branch_sample_type =
                u64::from(perf_event_open_sys::bindings::PERF_SAMPLE_BRANCH_ANY);
        }
        config.overwrite = self.overwrite;
        config.switch_output = switch_output;
        let _ = self.timestamp;
        Ok(RecordPlan {
            config,
            fell_back,
            debuginfod: if format.is_some() {
                crate::report::DebuginfodConfig::from_env(self.offline)?
            } else {
                crate::report::DebuginfodConfig::default()
            },
            format: format.map(|f| (f, self.profile_output)),
            quiet: self.quiet,
            notes,
        })
    }
}

/// `-z=LEVEL`: zstd's levels, 1 to 22.
fn parse_compression_level(s: &str) -> Result<i32> {
    let max = lwprof_perfdata::Compression::MAX_LEVEL;
    match s.trim().parse::<i32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => {
            bail!("--compression-level={s}: give a zstd level from 1 (fastest) to {max} (smallest)")
        }
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

/// `; zstd: 1.2 MiB of records, 6.1x smaller` with `-z`.
fn compression_note(level: Option<i32>, f: &recorder::WrittenFile) -> String {
    match level {
        Some(_) if f.bytes > 0 => format!(
            "; zstd: {} of records, {:.1}x smaller",
            human_bytes(f.record_bytes),
            f.record_bytes as f64 / f.bytes as f64
        ),
        _ => String::new(),
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
    let say = |s: &str| {
        if !plan.quiet {
            eprintln!("{s}");
        }
    };
    if plan.fell_back {
        say("lwprof: no hardware PMU here (a VM?): sampling cpu-clock instead of cycles");
    }
    for n in &plan.notes {
        say(&format!("lwprof: note: {n}"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let switch = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))
        .context("installing the Ctrl-C handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))
        .context("installing the SIGTERM handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGUSR2, Arc::clone(&switch))
        .context("installing the SIGUSR2 handler")?;
    let tty = std::io::stderr().is_terminal() && !plan.quiet;
    let result = recorder::record(&plan.config, &stop, &switch, |u| match u {
        Update::Progress(p) if tty => {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\x1b[K", status_line(p));
            let _ = err.flush();
        }
        Update::FileWritten(f) if !plan.quiet => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "{}[ lwprof record: dump {} ({} samples, {}) ]",
                if tty { "\r\x1b[K" } else { "" },
                f.path.display(),
                f.samples,
                human_bytes(f.bytes)
            );
        }
        _ => {}
    });
    if tty {
        eprint!("\r\x1b[K");
    }
    let summary = match result {
        Ok(s) => s,
        Err(recorder::RecordError::WriteFailed {
            target: recorder::WriteTarget::Stdout,
            cause,
            samples,
            ..
        }) if cause.kind() == std::io::ErrorKind::BrokenPipe => {
            // The reader went away (`| head`): the recording ends, as a
            // writer killed by SIGPIPE would, with one line and no error.
            say(&format!(
                "lwprof: standard output was closed by its reader; stopped recording after {samples} samples"
            ));
            return Ok(SIGPIPE_EXIT);
        }
        Err(e) => return Err(e.into()),
    };
    for w in &summary.warnings {
        say(&format!("lwprof: note: {w}"));
    }
    let p = &summary.progress;
    match summary.files.as_slice() {
        [one] if plan.config.switch_output.is_none() => say(&format!(
            "[ lwprof record: wrote {} to {} ({} samples in {:.2}s{}) ]",
            human_bytes(one.bytes),
            if one.path == std::path::Path::new("-") {
                "standard output".into()
            } else {
                one.path.display().to_string()
            },
            one.samples,
            p.elapsed.as_secs_f64(),
            compression_note(plan.config.compression_level, one)
        )),
        files => {
            if let Some(last) = files.last() {
                say(&format!(
                    "[ lwprof record: dump {} ({} samples, {}) ]",
                    last.path.display(),
                    last.samples,
                    human_bytes(last.bytes)
                ));
            }
            say(&format!(
                "[ lwprof record: wrote {} files, {} in all ({} samples in {:.2}s) ]",
                files.len(),
                human_bytes(p.bytes),
                p.samples,
                p.elapsed.as_secs_f64()
            ));
        }
    }
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
        let data = summary
            .files
            .last()
            .map_or(plan.config.output.clone(), |f| f.path.clone());
        crate::report::write_profile_after_record(
            &data,
            *format,
            out.as_deref(),
            &plan.debuginfod,
        )?;
    }
    let code = summary.exit_status.map_or(0, |s| s.code());
    Ok(code.clamp(0, 255) as u8)
}
