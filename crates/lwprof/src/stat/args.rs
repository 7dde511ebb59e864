//! `lwprof stat`'s arguments: what the user typed ([`StatArgs`], clap) and,
//! validated once, what the command will do ([`StatConfig`]).
//!
//! Numbers are taken as text and checked here, so a bad one gets one line
//! naming the flag and the allowed range (clap's own message spans several
//! lines). Nothing here opens a counter or starts a command.

use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `lwprof stat`, as typed.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  lwprof stat ls -R /usr/share\n  lwprof stat -e page-faults,'{task-clock,context-switches}' -x, -- make\n  lwprof stat -p 1234 -I 1000\n  lwprof stat -a -A -e cpu-clock sleep 1"
)]
pub struct StatArgs {
    /// Events to count: a comma-separated list in perf syntax (repeatable).
    #[arg(short = 'e', long = "event", value_name = "LIST")]
    events: Vec<String>,
    /// Count on a running process and all its threads.
    #[arg(short = 'p', long = "pid", value_name = "PID", conflicts_with_all = ["tid", "all_cpus", "cpus"])]
    pid: Option<String>,
    /// Count on one thread.
    #[arg(short = 't', long = "tid", value_name = "TID", conflicts_with_all = ["all_cpus", "cpus"])]
    tid: Option<String>,
    /// Count every task on every CPU (system-wide).
    #[arg(short = 'a', long = "all-cpus")]
    all_cpus: bool,
    /// Count every task on these CPUs only (e.g. 0-1,3).
    #[arg(short = 'C', long = "cpu", value_name = "LIST")]
    cpus: Option<String>,
    /// One row per CPU instead of their sum (with -a or -C).
    #[arg(short = 'A', long = "no-aggr", conflicts_with = "per_thread")]
    no_aggr: bool,
    /// One row per thread instead of their sum (with -p or -t).
    #[arg(long = "per-thread")]
    per_thread: bool,
    /// Add perf's detailed events (cache loads and misses); -dd and -ddd add more.
    #[arg(short = 'd', long = "detailed", action = clap::ArgAction::Count)]
    detailed: u8,
    /// Group digits as the locale does (the default on the human layout).
    #[arg(short = 'B', long = "big-num", overrides_with = "no_big_num")]
    big_num: bool,
    /// Do not group digits.
    #[arg(long = "no-big-num", overrides_with = "big_num")]
    no_big_num: bool,
    /// CSV output with this separator (`\t` is a tab).
    #[arg(short = 'x', long = "field-separator", value_name = "SEP")]
    separator: Option<String>,
    /// JSON output, one object per line.
    #[arg(short = 'j', long = "json", conflicts_with = "separator")]
    json: bool,
    /// Print counts every MS milliseconds.
    #[arg(short = 'I', long = "interval-print", value_name = "MS")]
    interval: Option<String>,
    /// Run the command N times and print the mean and its spread.
    #[arg(short = 'r', long = "repeat", value_name = "N")]
    repeat: Option<String>,
    /// Do not count children of the command.
    #[arg(short = 'i', long = "no-inherit")]
    no_inherit: bool,
    /// Stop after this many milliseconds (for -p, -t and -a without a command).
    #[arg(long = "timeout", value_name = "MS")]
    timeout: Option<String>,
    /// Write the counts to FILE instead of stderr.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The command to run and count, with its arguments (`--` before it is
    /// optional).
    #[arg(value_name = "COMMAND", trailing_var_arg = true)]
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
    /// Every task on every CPU (`-a`), or on the listed ones (`-a -C`).
    SystemWide(Vec<i32>),
    /// Every task on the listed CPUs (`-C` without `-a`), with the list as
    /// typed (perf's title repeats it).
    CpuList(Vec<i32>, String),
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

/// Which counts make one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// The sum over every thread or CPU (perf's default).
    Total,
    /// One row per CPU (`-A`).
    PerCpu,
    /// One row per thread (`--per-thread`).
    PerThread,
}

/// What `lwprof stat` will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatConfig {
    /// The -e lists joined with commas, or None for the default set.
    pub events: Option<String>,
    /// How many of perf's detailed sets to add (-d, -dd, -ddd).
    pub detailed: u8,
    /// Where to count.
    pub target: StatTarget,
    /// Which counts make one row.
    pub aggregation: Aggregation,
    /// The command (may be empty for -p/-t/-a).
    pub command: Vec<OsString>,
    /// Output layout.
    pub format: StatFormat,
    /// Group digits as the locale does (human layout only).
    pub big_num: bool,
    /// Interval printing.
    pub interval: Option<Duration>,
    /// Number of runs.
    pub repeat: u32,
    /// Count children.
    pub inherit: bool,
    /// Stop after this long.
    pub timeout: Option<Duration>,
    /// Output file.
    pub output: Option<PathBuf>,
}

/// perf keeps intervals and timeouts in an unsigned int of milliseconds.
const MAX_MS: u64 = u32::MAX as u64;

impl StatArgs {
    /// Validates the arguments into a plain config.
    pub fn into_config(self) -> Result<StatConfig> {
        let target = self.target()?;
        let has_task = matches!(target, StatTarget::Pid(_) | StatTarget::Tid(_));
        let system_wide = matches!(target, StatTarget::SystemWide(_) | StatTarget::CpuList(..));
        if target == StatTarget::Command && self.command.is_empty() {
            bail!("nothing to count: give a command (lwprof stat CMD ARGS), or -p PID, -t TID, -a or -C CPUS");
        }
        let repeat = match &self.repeat {
            Some(text) => number("-r", text, "the number of runs", 1, i32::MAX as u64)? as u32,
            None => 1,
        };
        if repeat > 1 && self.command.is_empty() {
            bail!("-r needs a command to repeat (lwprof stat -r N CMD)");
        }
        let ms = |flag: &str, text: &Option<String>, what: &str| -> Result<Option<Duration>> {
            text.as_deref()
                .map(|t| number(flag, t, what, 1, MAX_MS).map(Duration::from_millis))
                .transpose()
        };
        let interval = ms("-I", &self.interval, "the interval in ms")?;
        let timeout = ms("--timeout", &self.timeout, "the timeout in ms")?;
        let aggregation = if self.no_aggr {
            if !system_wide {
                bail!("-A (--no-aggr) splits the counts by CPU: use it with -a or -C");
            }
            Aggregation::PerCpu
        } else if self.per_thread {
            if !has_task {
                bail!("--per-thread splits the counts by thread: use it with -p PID or -t TID");
            }
            Aggregation::PerThread
        } else {
            Aggregation::Total
        };
        let format = match (self.separator, self.json) {
            (Some(sep), _) if sep.is_empty() => bail!("-x needs a separator, e.g. -x,"),
            (Some(sep), _) => StatFormat::Csv(if sep == "\\t" { "\t".into() } else { sep }),
            (None, true) => StatFormat::Json,
            (None, false) => StatFormat::Human,
        };
        if self.big_num && format != StatFormat::Human {
            bail!("-B (--big-num) groups digits in the human layout only, not with -x or -j");
        }
        Ok(StatConfig {
            events: (!self.events.is_empty()).then(|| self.events.join(",")),
            detailed: self.detailed.min(3),
            target,
            aggregation,
            command: self.command,
            format,
            big_num: !self.no_big_num,
            interval,
            repeat,
            inherit: !self.no_inherit,
            timeout,
            output: self.output,
        })
    }

    fn target(&self) -> Result<StatTarget> {
        let id = |flag: &str, text: &str, what: &str| -> Result<i32> {
            Ok(number(flag, text, what, 1, i32::MAX as u64)? as i32)
        };
        if let Some(pid) = &self.pid {
            return Ok(StatTarget::Pid(id("-p", pid, "the process id")?));
        }
        if let Some(tid) = &self.tid {
            return Ok(StatTarget::Tid(id("-t", tid, "the thread id")?));
        }
        let cpus = match &self.cpus {
            Some(list) => Some(parse_cpus(list)?),
            None => None,
        };
        Ok(match (self.all_cpus, cpus) {
            (true, cpus) => StatTarget::SystemWide(cpus.unwrap_or_default()),
            (false, Some(cpus)) => StatTarget::CpuList(cpus, self.cpus.clone().unwrap_or_default()),
            (false, None) => StatTarget::Command,
        })
    }
}

/// Parses `text` as a whole number from `min` to `max`, or says in one line
/// what `flag` takes.
fn number(flag: &str, text: &str, what: &str, min: u64, max: u64) -> Result<u64> {
    let shown = crate::stat::display::clip(text, 40);
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        bail!("{flag} {shown}: not a whole number ({what})");
    }
    match digits.parse::<u64>() {
        Ok(n) if n < min => bail!("{flag} {shown}: {what} must be at least {min}"),
        Ok(n) if n <= max => Ok(n),
        _ => bail!("{flag} {shown}: {what} must be at most {max}"),
    }
}

/// Parses a CPU list such as `0-1,3` and checks every CPU in it is online.
fn parse_cpus(text: &str) -> Result<Vec<i32>> {
    let online = lwprof_events::command::online_cpus().context("reading the online CPUs")?;
    let max = online.iter().copied().max().unwrap_or(0) as u64;
    let shown = crate::stat::display::clip(text, 40);
    let bad = || anyhow::anyhow!("-C {shown}: not a CPU list (use e.g. 0-1,3)");
    let mut cpus = Vec::new();
    for part in text.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let parse = |s: &str| -> Result<u64> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            // Anything past the last online CPU is reported below; the cap
            // keeps the parse from overflowing.
            Ok(s.parse::<u64>().unwrap_or(u64::MAX))
        };
        let (a, b) = (parse(a)?, parse(b)?);
        if a > b {
            return Err(bad());
        }
        for cpu in [a, b] {
            if cpu > max || !online.contains(&(cpu as i32)) {
                bail!(
                    "-C {shown}: CPU {} is not online (online: {})",
                    crate::stat::display::clip(&cpu.to_string(), 20),
                    cpu_list_text(&online)
                );
            }
        }
        for cpu in a..=b {
            let cpu = cpu as i32;
            if !online.contains(&cpu) {
                bail!(
                    "-C {shown}: CPU {cpu} is not online (online: {})",
                    cpu_list_text(&online)
                );
            }
            if !cpus.contains(&cpu) {
                cpus.push(cpu);
            }
        }
    }
    cpus.sort_unstable();
    Ok(cpus)
}

/// `0-3,6` for the CPUs 0, 1, 2, 3 and 6.
fn cpu_list_text(cpus: &[i32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_checked_with_one_line_each() {
        assert_eq!(number("-r", "3", "runs", 1, 10).unwrap(), 3);
        for (text, want) in [
            ("0", "-r 0: runs must be at least 1"),
            ("11", "-r 11: runs must be at most 10"),
            ("99999999999999999999999", "must be at most 10"),
            ("1e300", "-r 1e300: not a whole number (runs)"),
            ("-3", "not a whole number"),
            ("", "not a whole number"),
        ] {
            let e = number("-r", text, "runs", 1, 10).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn cpu_lists_print_as_ranges() {
        assert_eq!(cpu_list_text(&[0, 1, 2, 3, 6]), "0-3,6");
        assert_eq!(cpu_list_text(&[1]), "1");
        assert_eq!(cpu_list_text(&[]), "");
    }

    #[test]
    fn cpu_lists_must_name_online_cpus() {
        assert_eq!(parse_cpus("0").unwrap(), vec![0]);
        for bad in ["0-99999999999", "4096", "x", "1-0", "", "0,,1"] {
            let e = parse_cpus(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("-C {bad}:")), "{bad}: {e}");
        }
    }
}
