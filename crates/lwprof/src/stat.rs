//! `lwprof stat`: count events while a command runs, or on a process, a
//! thread or every CPU, and print the counts laid out like `perf stat`.
//!
//! Arguments become a [`StatConfig`] once; the counting itself is
//! `lwprof_events::count`. Output goes to stderr (as perf's does), so the
//! command's own stdout stays clean, or to `-o FILE`.

use anyhow::{bail, Context, Result};
use lwprof_events::command::{ExitStatus, PreparedCommand};
use lwprof_events::count::{CountRequest, CountingSession, EventStatus, Target};
use lwprof_events::counter::{CountOptions, CounterValue};
use lwprof_events::{EventConfig, EventKind, PmuRegistry};
use perf_event_open_sys::bindings as pb;
use serde_json::json;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `lwprof stat`, as typed.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  lwprof stat -- ls -R /usr/share\n  lwprof stat -e page-faults,'{task-clock,context-switches}' -x, -- make\n  lwprof stat -p 1234 -I 1000"
)]
pub struct StatArgs {
    /// Events to count: a comma-separated list in perf syntax (repeatable).
    #[arg(short = 'e', long = "event", value_name = "LIST")]
    events: Vec<String>,
    /// Count on a running process and all its threads.
    #[arg(short = 'p', long = "pid", conflicts_with_all = ["tid", "all_cpus"])]
    pid: Option<i32>,
    /// Count on one thread.
    #[arg(short = 't', long = "tid", conflicts_with = "all_cpus")]
    tid: Option<i32>,
    /// Count every task on every CPU (system-wide).
    #[arg(short = 'a', long = "all-cpus")]
    all_cpus: bool,
    /// With -a: only these CPUs (e.g. 0-1,3).
    #[arg(short = 'C', long = "cpu", value_name = "LIST", requires = "all_cpus")]
    cpus: Option<String>,
    /// CSV output with this separator.
    #[arg(short = 'x', long = "field-separator", value_name = "SEP")]
    separator: Option<String>,
    /// JSON output, one object per line.
    #[arg(short = 'j', long = "json", conflicts_with = "separator")]
    json: bool,
    /// Print counts every MS milliseconds.
    #[arg(short = 'I', long = "interval-print", value_name = "MS")]
    interval: Option<u64>,
    /// Run the command N times and print the mean and its spread.
    #[arg(short = 'r', long = "repeat", value_name = "N", default_value_t = 1)]
    repeat: u32,
    /// Do not count children of the command.
    #[arg(short = 'i', long = "no-inherit")]
    no_inherit: bool,
    /// Stop after this many milliseconds (for -p, -t and -a without a command).
    #[arg(long = "timeout", value_name = "MS")]
    timeout: Option<u64>,
    /// Write the counts to FILE instead of stderr.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// The command to run and count.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// Where to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatTarget {
    /// Start the command and count it (and its children unless no_inherit).
    Command,
    /// An existing process.
    Pid(i32),
    /// An existing thread.
    Tid(i32),
    /// Every CPU, or the listed ones.
    AllCpus(Vec<i32>),
}

/// How to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatFormat {
    /// Laid out like perf stat.
    Human,
    /// perf's -x CSV with this separator.
    Csv(String),
    /// One JSON object per line, with perf's keys.
    Json,
}

/// What `lwprof stat` will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatConfig {
    /// The -e lists joined with commas, or None for the default set.
    pub events: Option<String>,
    /// Where to count.
    pub target: StatTarget,
    /// The command (may be empty for -p/-t/-a).
    pub command: Vec<OsString>,
    /// Output layout.
    pub format: StatFormat,
    /// Interval printing.
    pub interval: Option<Duration>,
    /// Number of runs.
    pub repeat: u32,
    /// Count children.
    pub inherit: bool,
    /// Stop after this long.
    pub timeout: Option<Duration>,
    /// Output file.
    pub output: Option<std::path::PathBuf>,
}

impl StatArgs {
    /// Validates the arguments into a plain config.
    pub fn into_config(self) -> Result<StatConfig> {
        let target = if let Some(pid) = self.pid {
            StatTarget::Pid(pid)
        } else if let Some(tid) = self.tid {
            StatTarget::Tid(tid)
        } else if self.all_cpus {
            let cpus = match &self.cpus {
                Some(list) => {
                    let cpus = lwprof_events::command::parse_cpu_list(list);
                    if cpus.is_empty() {
                        bail!("-C {list}: not a CPU list (use e.g. 0-3,6)");
                    }
                    cpus
                }
                None => Vec::new(),
            };
            StatTarget::AllCpus(cpus)
        } else {
            StatTarget::Command
        };
        if target == StatTarget::Command && self.command.is_empty() {
            bail!("nothing to count: give a command after `--` (lwprof stat -- CMD ARGS), or -p PID, -t TID or -a");
        }
        if self.repeat == 0 {
            bail!("-r 0: the number of runs must be at least 1");
        }
        if self.repeat > 1 && self.command.is_empty() {
            bail!("-r needs a command to repeat (lwprof stat -r N -- CMD)");
        }
        if let Some(0) = self.interval {
            bail!("-I 0: the interval must be at least 1 ms (perf allows 10 ms and more)");
        }
        let format = match (self.separator, self.json) {
            (Some(sep), _) => StatFormat::Csv(sep),
            (None, true) => StatFormat::Json,
            (None, false) => StatFormat::Human,
        };
        Ok(StatConfig {
            events: if self.events.is_empty() {
                None
            } else {
                Some(self.events.join(","))
            },
            target,
            command: self.command,
            format,
            interval: self.interval.map(Duration::from_millis),
            repeat: self.repeat,
            inherit: !self.no_inherit,
            timeout: self.timeout.map(Duration::from_millis),
            output: self.output,
        })
    }
}

/// One event as counted and shown.
#[derive(Debug, Clone)]
struct ShownEvent {
    config: EventConfig,
    scale: f64,
    unit: Option<String>,
}

fn default_events(pmus: &PmuRegistry) -> Vec<CountRequest> {
    let sw = |name: &str, c: u32| CountRequest {
        events: vec![EventConfig::software(name, c as u64)],
        grouped: false,
    };
    let hw = |name: &str, c: u32| CountRequest {
        events: vec![EventConfig::hardware(name, c as u64)],
        grouped: false,
    };
    let mut v = vec![
        sw("task-clock", pb::PERF_COUNT_SW_TASK_CLOCK),
        sw("context-switches", pb::PERF_COUNT_SW_CONTEXT_SWITCHES),
        sw("cpu-migrations", pb::PERF_COUNT_SW_CPU_MIGRATIONS),
        sw("page-faults", pb::PERF_COUNT_SW_PAGE_FAULTS),
    ];
    if pmus.has_cpu_pmu() {
        v.push(hw("cycles", pb::PERF_COUNT_HW_CPU_CYCLES));
        v.push(hw("instructions", pb::PERF_COUNT_HW_INSTRUCTIONS));
        v.push(hw("branches", pb::PERF_COUNT_HW_BRANCH_INSTRUCTIONS));
        v.push(hw("branch-misses", pb::PERF_COUNT_HW_BRANCH_MISSES));
    }
    v
}

/// Resolves the event list into requests plus display info per event.
fn resolve_events(config: &StatConfig) -> Result<(Vec<CountRequest>, Vec<ShownEvent>)> {
    let requests = match &config.events {
        None => {
            let pmus = PmuRegistry::system()?;
            default_events(&pmus)
        }
        Some(text) => {
            let groups = lwprof_events::parse_events_system(text)?;
            let mut shown = Vec::new();
            let mut requests = Vec::new();
            for g in groups {
                for ev in &g.events {
                    shown.push(ShownEvent {
                        config: ev.config.clone(),
                        scale: ev.scale,
                        unit: ev.unit.clone(),
                    });
                }
                if g.is_group {
                    requests.push(CountRequest {
                        events: g.configs(),
                        grouped: true,
                    });
                } else {
                    requests.extend(g.events.iter().map(|e| CountRequest {
                        events: vec![e.config.clone()],
                        grouped: false,
                    }));
                }
            }
            return Ok((requests, shown));
        }
    };
    let shown = requests
        .iter()
        .flat_map(|r| r.events.iter())
        .map(|c| ShownEvent {
            config: c.clone(),
            scale: 1.0,
            unit: None,
        })
        .collect();
    Ok((requests, shown))
}

/// The counts of one run.
#[derive(Debug, Clone)]
struct RunResult {
    values: Vec<EventStatus>,
    elapsed: Duration,
    times: Option<(Duration, Duration)>,
    status: Option<ExitStatus>,
}

/// Runs `lwprof stat`; returns the exit code (the command's, when there is one).
pub fn run(config: StatConfig) -> Result<u8> {
    let (requests, shown) = resolve_events(&config)?;
    let interrupted = Arc::new(AtomicBool::new(false));
    // Ctrl-C stops counting and prints what was counted; the command gets
    // the signal from the terminal (or from us, below).
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))
        .context("installing the Ctrl-C handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&interrupted))
        .context("installing the SIGTERM handler")?;
    let mut out: Box<dyn Write> = match &config.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stderr()),
    };
    let printer = Printer {
        config: &config,
        shown: &shown,
    };
    let mut runs = Vec::new();
    for _ in 0..config.repeat {
        let r = run_once(&config, &requests, &printer, &interrupted, &mut out)?;
        let stop = interrupted.load(Ordering::Relaxed);
        runs.push(r);
        if stop {
            break;
        }
    }
    if config.interval.is_none() || config.repeat > 1 {
        printer.print_summary(&runs, &mut out)?;
    }
    printer.print_notes(&runs[0], &mut out)?;
    out.flush()?;
    let code = runs.last().and_then(|r| r.status).map_or(0, |s| s.code());
    Ok(code.clamp(0, 255) as u8)
}

fn run_once(
    config: &StatConfig,
    requests: &[CountRequest],
    printer: &Printer<'_>,
    interrupted: &AtomicBool,
    out: &mut dyn Write,
) -> Result<RunResult> {
    let opts = CountOptions {
        inherit: config.inherit,
        disabled: true,
        enable_on_exec: config.target == StatTarget::Command,
    };
    let mut child = if config.command.is_empty() {
        None
    } else {
        Some(PreparedCommand::new(&config.command)?)
    };
    let target = match &config.target {
        StatTarget::Command => Target::Task(child.as_ref().map_or(0, |c| c.pid())),
        StatTarget::Pid(p) => Target::Process(*p),
        StatTarget::Tid(t) => Target::Task(*t),
        StatTarget::AllCpus(c) => Target::Cpus(c.clone()),
    };
    // If opening fails, dropping `child` makes it exit without running.
    let session = CountingSession::open(requests, &target, &opts)?;
    if config.target != StatTarget::Command {
        session.enable()?;
    }
    let start = Instant::now();
    if let Some(c) = child.as_mut() {
        c.start()?;
    }
    let mut status = None;
    let mut forwarded = false;
    let mut interrupt_seen: Option<Instant> = None;
    let mut next_tick = config.interval.map(|i| start + i);
    let mut last = session.read()?;
    loop {
        let now = Instant::now();
        if let Some(t) = config.timeout {
            if child.is_none() && now >= start + t {
                break;
            }
        }
        if interrupted.load(Ordering::Relaxed) {
            match child.as_mut() {
                None => break,
                Some(c) => {
                    // The terminal already sent SIGINT to the command; if it
                    // is still running a moment later (the signal came to us
                    // alone), pass it on.
                    let seen = *interrupt_seen.get_or_insert(now);
                    if !forwarded && now.duration_since(seen) > Duration::from_millis(100) {
                        let _ = c.kill(libc::SIGINT);
                        forwarded = true;
                    }
                }
            }
        }
        let mut wait = Duration::from_millis(100);
        if let Some(t) = next_tick {
            wait = wait.min(t.saturating_duration_since(now));
        }
        match child.as_mut() {
            Some(c) => {
                if let Some(s) = c.wait_timeout(wait)? {
                    status = Some(s);
                    break;
                }
            }
            None => std::thread::sleep(wait),
        }
        if let Some(t) = next_tick {
            if Instant::now() >= t {
                let now_values = session.read()?;
                printer.print_interval(
                    t.duration_since(start),
                    &now_values,
                    &last,
                    config.interval.unwrap_or_default(),
                    out,
                )?;
                out.flush()?;
                last = now_values;
                next_tick = Some(t + config.interval.unwrap_or_default());
            }
        }
    }
    let elapsed = start.elapsed();
    session.disable()?;
    let values = session.read()?;
    if config.interval.is_some() && config.repeat == 1 {
        let since = elapsed.saturating_sub(
            (elapsed.as_nanos() / config.interval.unwrap_or_default().as_nanos().max(1)) as u32
                * config.interval.unwrap_or_default(),
        );
        if since > Duration::from_millis(1) {
            printer.print_interval(elapsed, &values, &last, since, out)?;
        }
    }
    let times = child.as_ref().and_then(|c| c.times());
    Ok(RunResult {
        values,
        elapsed,
        times,
        status,
    })
}

/// A derived figure printed after `#`.
struct Metric {
    value: f64,
    unit: String,
}

struct Printer<'a> {
    config: &'a StatConfig,
    shown: &'a [ShownEvent],
}

fn is_clock(ev: &EventConfig) -> bool {
    ev.is_task_clock() || ev.is_cpu_clock()
}

/// Groups digits by thousands: 1234567 -> 1,234,567.
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn rate_metric(per_sec: f64) -> Metric {
    let (v, unit) = if per_sec >= 1e9 {
        (per_sec / 1e9, "G/sec")
    } else if per_sec >= 1e6 {
        (per_sec / 1e6, "M/sec")
    } else if per_sec >= 1e3 {
        (per_sec / 1e3, "K/sec")
    } else {
        (per_sec, "/sec")
    };
    Metric {
        value: v,
        unit: unit.into(),
    }
}

fn hw_config(ev: &EventConfig) -> Option<u32> {
    (ev.kind == EventKind::Hardware).then_some(ev.config as u32)
}

impl Printer<'_> {
    fn scaled(&self, i: usize, st: &EventStatus) -> Option<f64> {
        match st {
            EventStatus::Counted(v) => v.scaled().map(|x| x * self.shown[i].scale),
            EventStatus::NotSupported(_) => None,
        }
    }

    /// The value of the first event matching `pred`, for derived metrics.
    fn find(&self, values: &[EventStatus], pred: impl Fn(&EventConfig) -> bool) -> Option<f64> {
        self.shown
            .iter()
            .enumerate()
            .find(|(_, s)| pred(&s.config))
            .and_then(|(i, _)| self.scaled(i, &values[i]))
    }

    fn metric(&self, i: usize, values: &[EventStatus], wall: Duration) -> Option<Metric> {
        let ev = &self.shown[i].config;
        let v = self.scaled(i, &values[i])?;
        let task_ns = self
            .find(values, |e| e.is_task_clock())
            .or_else(|| self.find(values, |e| e.is_cpu_clock()));
        if is_clock(ev) {
            let wall_ns = wall.as_nanos() as f64;
            if wall_ns <= 0.0 {
                return None;
            }
            return Some(Metric {
                value: v / wall_ns,
                unit: "CPUs utilized".into(),
            });
        }
        let per_task_sec = |x: f64| task_ns.filter(|&t| t > 0.0).map(|t| x / (t / 1e9));
        match hw_config(ev) {
            Some(c) if c == pb::PERF_COUNT_HW_CPU_CYCLES => {
                task_ns.filter(|&t| t > 0.0).map(|t| Metric {
                    value: v / t,
                    unit: "GHz".into(),
                })
            }
            Some(c) if c == pb::PERF_COUNT_HW_INSTRUCTIONS => {
                let cycles = self.find(values, |e| {
                    hw_config(e) == Some(pb::PERF_COUNT_HW_CPU_CYCLES)
                })?;
                (cycles > 0.0).then(|| Metric {
                    value: v / cycles,
                    unit: "insn per cycle".into(),
                })
            }
            Some(c) if c == pb::PERF_COUNT_HW_BRANCH_MISSES => {
                let br = self.find(values, |e| {
                    hw_config(e) == Some(pb::PERF_COUNT_HW_BRANCH_INSTRUCTIONS)
                })?;
                (br > 0.0).then(|| Metric {
                    value: 100.0 * v / br,
                    unit: "% of all branches".into(),
                })
            }
            Some(c) if c == pb::PERF_COUNT_HW_CACHE_MISSES => {
                let refs = self.find(values, |e| {
                    hw_config(e) == Some(pb::PERF_COUNT_HW_CACHE_REFERENCES)
                })?;
                (refs > 0.0).then(|| Metric {
                    value: 100.0 * v / refs,
                    unit: "% of all cache refs".into(),
                })
            }
            _ => per_task_sec(v).map(rate_metric),
        }
    }

    fn title(&self) -> String {
        let cmd = self
            .config
            .command
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let what = match &self.config.target {
            StatTarget::Command => format!("'{cmd}'"),
            StatTarget::Pid(p) => format!("process id '{p}'"),
            StatTarget::Tid(t) => format!("thread id '{t}'"),
            StatTarget::AllCpus(_) => "'system wide'".into(),
        };
        let runs = if self.config.repeat > 1 {
            format!(" ({} runs)", self.config.repeat)
        } else {
            String::new()
        };
        format!(" Performance counter stats for {what}{runs}:")
    }

    /// The value column for one event: formatted count, unit, and the raw
    /// numbers for CSV/JSON.
    fn value_text(&self, i: usize, st: &EventStatus, human: bool) -> (String, String) {
        let ev = &self.shown[i];
        match st {
            EventStatus::NotSupported(_) => ("<not supported>".into(), String::new()),
            EventStatus::Counted(v) => match v.scaled().map(|x| x * ev.scale) {
                None => ("<not counted>".into(), String::new()),
                Some(x) if is_clock(&ev.config) => (format!("{:.2}", x / 1e6), "msec".into()),
                Some(x) if ev.scale != 1.0 => {
                    (format!("{x:.2}"), ev.unit.clone().unwrap_or_default())
                }
                Some(x) => {
                    let n = x.round() as u64;
                    (
                        if human { thousands(n) } else { n.to_string() },
                        ev.unit.clone().unwrap_or_default(),
                    )
                }
            },
        }
    }

    fn raw_counter(st: &EventStatus) -> CounterValue {
        match st {
            EventStatus::Counted(v) => *v,
            EventStatus::NotSupported(_) => CounterValue::default(),
        }
    }

    /// One event line in the configured format (no trailing newline).
    fn line(
        &self,
        i: usize,
        values: &[EventStatus],
        wall: Duration,
        spread: Option<f64>,
        prefix: Option<Duration>,
    ) -> String {
        let ev = &self.shown[i];
        let st = &values[i];
        let raw = Self::raw_counter(st);
        let metric = self.metric(i, values, wall);
        let pct = raw.running_percent();
        match &self.config.format {
            StatFormat::Human => {
                let (val, unit) = self.value_text(i, st, true);
                let mut s = String::new();
                if let Some(t) = prefix {
                    let _ = write!(s, "{:>15.9} ", t.as_secs_f64());
                }
                let _ = write!(s, "{val:>18} {unit:<4} {:<32}", ev.config.name);
                match &metric {
                    Some(m) if m.unit.starts_with('%') => {
                        let _ = write!(s, " # {:>7.2}{:<23}", m.value, m.unit);
                    }
                    Some(m) => {
                        let _ = write!(s, " # {:>8.3} {:<22}", m.value, m.unit);
                    }
                    None => {}
                }
                if let Some(p) = pct.filter(|p| *p < 99.995) {
                    if matches!(st, EventStatus::Counted(_)) {
                        let _ = write!(s, "  ({p:.2}%)");
                    }
                }
                if let Some(sp) = spread {
                    let _ = write!(s, "  ( +- {sp:>5.2}% )");
                }
                s.trim_end().to_string()
            }
            StatFormat::Csv(sep) => {
                let (val, unit) = self.value_text(i, st, false);
                let mut fields = Vec::new();
                if let Some(t) = prefix {
                    fields.push(format!("{:.9}", t.as_secs_f64()));
                }
                fields.push(val);
                fields.push(unit);
                fields.push(ev.config.name.clone());
                fields.push(raw.time_running.to_string());
                fields.push(format!(
                    "{:.2}",
                    pct.unwrap_or(if matches!(st, EventStatus::NotSupported(_)) {
                        100.0
                    } else {
                        0.0
                    })
                ));
                match &metric {
                    Some(m) => {
                        fields.push(format!("{:.3}", m.value));
                        fields.push(m.unit.trim_start_matches("% ").to_string());
                    }
                    None => {
                        fields.push(String::new());
                        fields.push(String::new());
                    }
                }
                fields.join(sep)
            }
            StatFormat::Json => {
                let (val, unit) = self.value_text(i, st, false);
                let mut obj = json!({
                    "counter-value": val,
                    "unit": unit,
                    "event": ev.config.name,
                    "event-runtime": raw.time_running,
                    "pcnt-running": (pct.unwrap_or(0.0) * 100.0).round() / 100.0,
                });
                if let Some(t) = prefix {
                    obj["interval"] = json!(t.as_secs_f64());
                }
                if let Some(m) = &metric {
                    obj["metric-value"] = json!(m.value);
                    obj["metric-unit"] = json!(m.unit.trim_start_matches("% "));
                }
                if let Some(sp) = spread {
                    obj["variance"] = json!(sp);
                }
                obj.to_string()
            }
        }
    }

    fn print_summary(&self, runs: &[RunResult], out: &mut dyn Write) -> Result<()> {
        let n = runs.len();
        let human = self.config.format == StatFormat::Human;
        // Mean of every event over the runs; spread = standard error of the
        // mean in percent of the mean (what perf prints as "+- x%").
        let values: Vec<EventStatus> = (0..self.shown.len())
            .map(|i| mean_status(runs.iter().map(|r| &r.values[i])))
            .collect();
        let spreads: Vec<Option<f64>> = (0..self.shown.len())
            .map(|i| {
                if n < 2 {
                    return None;
                }
                let xs: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| self.scaled(i, &r.values[i]))
                    .collect();
                rel_stderr(&xs)
            })
            .collect();
        let wall = Duration::from_secs_f64(
            runs.iter().map(|r| r.elapsed.as_secs_f64()).sum::<f64>() / n as f64,
        );
        if human {
            writeln!(out)?;
            writeln!(out, "{}", self.title())?;
            writeln!(out)?;
        }
        for (i, spread) in spreads.iter().enumerate() {
            writeln!(out, "{}", self.line(i, &values, wall, *spread, None))?;
        }
        if human {
            writeln!(out)?;
            let secs: Vec<f64> = runs.iter().map(|r| r.elapsed.as_secs_f64()).collect();
            match rel_stderr(&secs).filter(|_| n > 1) {
                Some(sp) => {
                    let mean = wall.as_secs_f64();
                    writeln!(
                        out,
                        "{:>18.7} +- {:.7} seconds time elapsed  ( +- {:>5.2}% )",
                        mean,
                        mean * sp / 100.0,
                        sp
                    )?;
                }
                None => writeln!(out, "{:>18.9} seconds time elapsed", wall.as_secs_f64())?,
            }
            if n == 1 {
                if let Some((user, sys)) = runs[0].times {
                    writeln!(out)?;
                    writeln!(out, "{:>18.9} seconds user", user.as_secs_f64())?;
                    writeln!(out, "{:>18.9} seconds sys", sys.as_secs_f64())?;
                }
            }
            writeln!(out)?;
        }
        Ok(())
    }

    fn print_interval(
        &self,
        at: Duration,
        now: &[EventStatus],
        before: &[EventStatus],
        span: Duration,
        out: &mut dyn Write,
    ) -> Result<()> {
        if self.config.format == StatFormat::Human
            && at <= self.config.interval.unwrap_or_default() + Duration::from_millis(1)
        {
            writeln!(out, "#{:>14} {:>18} {:<4} events", "time", "counts", "unit")?;
        }
        let delta: Vec<EventStatus> = now
            .iter()
            .zip(before)
            .map(|(a, b)| match (a, b) {
                (EventStatus::Counted(a), EventStatus::Counted(b)) => {
                    EventStatus::Counted(CounterValue {
                        value: a.value.saturating_sub(b.value),
                        time_enabled: a.time_enabled.saturating_sub(b.time_enabled),
                        time_running: a.time_running.saturating_sub(b.time_running),
                    })
                }
                (a, _) => a.clone(),
            })
            .collect();
        for i in 0..self.shown.len() {
            writeln!(out, "{}", self.line(i, &delta, span, None, Some(at)))?;
        }
        Ok(())
    }

    fn print_notes(&self, run: &RunResult, out: &mut dyn Write) -> Result<()> {
        let mut seen: Vec<&str> = Vec::new();
        for st in &run.values {
            if let EventStatus::NotSupported(reason) = st {
                if !seen.contains(&reason.as_str()) {
                    seen.push(reason);
                    let names: Vec<&str> = run
                        .values
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| matches!(s, EventStatus::NotSupported(r) if r == reason))
                        .map(|(j, _)| self.shown[j].config.name.as_str())
                        .collect();
                    writeln!(
                        out,
                        "lwprof: note: {}: not supported: {reason}",
                        names.join(", ")
                    )?;
                }
            }
        }
        Ok(())
    }
}

fn mean_status<'a>(mut it: impl Iterator<Item = &'a EventStatus>) -> EventStatus {
    let first = match it.next() {
        Some(f) => f.clone(),
        None => return EventStatus::Counted(CounterValue::default()),
    };
    let EventStatus::Counted(mut acc) = first else {
        return first;
    };
    let mut n = 1u64;
    for st in it {
        if let EventStatus::Counted(v) = st {
            acc.accumulate(v);
            n += 1;
        }
    }
    EventStatus::Counted(CounterValue {
        value: acc.value / n,
        time_enabled: acc.time_enabled / n,
        time_running: acc.time_running / n,
    })
}

/// Standard error of the mean, in percent of the mean.
fn rel_stderr(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if mean == 0.0 {
        return Some(0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(100.0 * (var / n).sqrt() / mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(20049), "20,049");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn spread_is_standard_error_of_mean() {
        assert_eq!(rel_stderr(&[1.0]), None);
        let s = rel_stderr(&[9.0, 11.0]).unwrap();
        // sd = sqrt(2), stderr = 1, mean 10 -> 10%.
        assert!((s - 10.0).abs() < 1e-9, "{s}");
    }

    #[test]
    fn rates_pick_a_unit() {
        assert_eq!(rate_metric(12.0).unit, "/sec");
        assert_eq!(rate_metric(94_809.0).unit, "K/sec");
        assert!((rate_metric(94_809.0).value - 94.809).abs() < 1e-9);
        assert_eq!(rate_metric(2.5e6).unit, "M/sec");
    }
}
