//! One run of `lwprof stat`: open the counters on the target, start the
//! command, wait (printing every interval with `-I`), and read the counts as
//! rows: one for the total, or one per CPU (`-A`) or per thread
//! (`--per-thread`).
//!
//! The counts become [`Reading`]s here, scaled for multiplexing and by the
//! event's scale; the averaging of repeated runs is here too. Laying them
//! out is the display module's job.

use super::args::{Aggregation, StatConfig, StatTarget};
use super::display::Printer;
use super::events::ShownEvent;
use anyhow::Result;
use lwprof_events::command::{ExitStatus, PreparedCommand};
use lwprof_events::count::{CountRequest, CountingSession, EventStatus, Target};
use lwprof_events::counter::CountOptions;
#[cfg(test)]
use lwprof_events::counter::CounterValue;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one row of counts is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    /// Every thread or CPU together.
    Total,
    /// One CPU (`-A`).
    Cpu(i32),
    /// One thread (`--per-thread`), with its command name.
    Thread {
        /// The command name, from /proc.
        comm: String,
        /// The thread id.
        tid: i32,
    },
}

/// One event's count in one row, as shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// Counted: scaled for multiplexing and by the event's scale (clocks in
    /// ns), with the running and enabled nanoseconds.
    Counted {
        /// The value.
        value: f64,
        /// Nanoseconds on the PMU.
        run: u64,
        /// Nanoseconds enabled.
        ena: u64,
    },
    /// Opened but never ran.
    NotCounted {
        /// Nanoseconds on the PMU.
        run: u64,
        /// Nanoseconds enabled.
        ena: u64,
    },
    /// The event cannot be counted here, and why.
    NotSupported(String),
}

impl Reading {
    fn of(status: &EventStatus, scale: f64) -> Reading {
        match status {
            EventStatus::NotSupported(r) => Reading::NotSupported(r.clone()),
            EventStatus::Counted(v) => match v.scaled() {
                Some(x) => Reading::Counted {
                    value: x * scale,
                    run: v.time_running,
                    ena: v.time_enabled,
                },
                None => Reading::NotCounted {
                    run: v.time_running,
                    ena: v.time_enabled,
                },
            },
        }
    }

    /// The value, when counted.
    pub fn value(&self) -> Option<f64> {
        match self {
            Reading::Counted { value, .. } => Some(*value),
            _ => None,
        }
    }

    /// Running and enabled nanoseconds (0 and 0 when not supported).
    pub fn times(&self) -> (u64, u64) {
        match self {
            Reading::Counted { run, ena, .. } | Reading::NotCounted { run, ena } => (*run, *ena),
            Reading::NotSupported(_) => (0, 0),
        }
    }
}

/// One row: its key and one reading per shown event.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What the row is for.
    pub key: RowKey,
    /// One reading per shown event.
    pub readings: Vec<Reading>,
}

/// The counts of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The rows.
    pub rows: Vec<Row>,
    /// Wall-clock time from the start of counting to its end.
    pub elapsed: Duration,
    /// The command's user and system time, when it was ours.
    pub times: Option<(Duration, Duration)>,
    /// The command's exit status.
    pub status: Option<ExitStatus>,
}

type RawRows = Vec<(RowKey, Vec<EventStatus>)>;

/// The open counters of one run and how to read them as rows.
struct Counters {
    session: CountingSession,
    aggregation: Aggregation,
    keys: Vec<RowKey>,
}

impl Counters {
    fn open(
        config: &StatConfig,
        requests: &[CountRequest],
        child: Option<&PreparedCommand>,
    ) -> Result<Counters> {
        let opts = CountOptions {
            inherit: config.inherit,
            disabled: true,
            enable_on_exec: config.target == StatTarget::Command,
        };
        let (target, owner) = match &config.target {
            StatTarget::Command => {
                let pid = child.map_or(0, |c| c.pid());
                (Target::Task(pid), pid)
            }
            StatTarget::Pid(p) => (Target::Process(*p), *p),
            StatTarget::Tid(t) => (Target::Task(*t), *t),
            StatTarget::SystemWide(c) | StatTarget::CpuList(c, _) => (Target::Cpus(c.clone()), -1),
        };
        let session = CountingSession::open(requests, &target, &opts)?;
        let keys = match config.aggregation {
            Aggregation::Total => vec![RowKey::Total],
            Aggregation::PerCpu => session
                .places()
                .iter()
                .map(|p| RowKey::Cpu(p.cpu))
                .collect(),
            Aggregation::PerThread => session
                .places()
                .iter()
                .map(|p| RowKey::Thread {
                    comm: lwprof_events::command::thread_comm(owner, p.pid)
                        .unwrap_or_else(|| "<unknown>".into()),
                    tid: p.pid,
                })
                .collect(),
        };
        Ok(Counters {
            session,
            aggregation: config.aggregation,
            keys,
        })
    }

    fn read(&self) -> Result<RawRows> {
        Ok(match self.aggregation {
            Aggregation::Total => vec![(RowKey::Total, self.session.read()?)],
            _ => self
                .keys
                .iter()
                .cloned()
                .zip(self.session.read_places()?.into_iter().map(|(_, v)| v))
                .collect(),
        })
    }
}

/// Turns raw counts into readings.
pub fn readings(raw: &RawRows, shown: &[ShownEvent]) -> Vec<Row> {
    raw.iter()
        .map(|(key, statuses)| Row {
            key: key.clone(),
            readings: statuses
                .iter()
                .zip(shown)
                .map(|(s, ev)| Reading::of(s, ev.scale))
                .collect(),
        })
        .collect()
}

/// The counts between two readings of the same counters.
fn since(now: &RawRows, before: &RawRows) -> RawRows {
    now.iter()
        .zip(before)
        .map(|((key, a), (_, b))| {
            let delta = a
                .iter()
                .zip(b)
                .map(|(a, b)| match (a, b) {
                    (EventStatus::Counted(a), EventStatus::Counted(b)) => {
                        EventStatus::Counted(a.since(b))
                    }
                    (a, _) => a.clone(),
                })
                .collect();
            (key.clone(), delta)
        })
        .collect()
}

/// Ticks of `-I`: when the next one is due.
struct Ticks {
    every: Duration,
    next: Instant,
}

/// Runs the command (or waits on the target) once, counting.
pub fn run_once(
    config: &StatConfig,
    requests: &[CountRequest],
    printer: &mut Printer<'_>,
    interrupted: &AtomicBool,
    out: &mut dyn Write,
) -> Result<RunResult> {
    let mut child = if config.command.is_empty() {
        None
    } else {
        Some(PreparedCommand::new(&config.command)?)
    };
    // If opening fails, dropping `child` makes it exit without running.
    let counters = Counters::open(config, requests, child.as_ref())?;
    if config.target != StatTarget::Command {
        counters.session.enable()?;
    }
    let start = Instant::now();
    if let Some(c) = child.as_mut() {
        c.start()?;
    }
    let mut ticks = config.interval.map(|every| Ticks {
        every,
        next: start + every,
    });
    let mut last = counters.read()?;
    let mut last_at = Duration::ZERO;
    let status = wait(
        config,
        child.as_mut(),
        start,
        &mut ticks,
        interrupted,
        |at| {
            let now = counters.read()?;
            printer.print_interval(at, &readings(&since(&now, &last), printer.shown()), out)?;
            out.flush()?;
            last = now;
            last_at = at;
            Ok(())
        },
    )?;
    let elapsed = start.elapsed();
    counters.session.disable()?;
    let raw = counters.read()?;
    let tail = elapsed.saturating_sub(last_at) > Duration::from_millis(1);
    if config.interval.is_some() && config.repeat == 1 && tail {
        // What was counted after the last tick (perf prints it too).
        printer.print_interval(
            elapsed,
            &readings(&since(&raw, &last), printer.shown()),
            out,
        )?;
    }
    let times = child.as_ref().and_then(|c| c.times());
    Ok(RunResult {
        rows: readings(&raw, printer.shown()),
        elapsed,
        times,
        status,
    })
}

/// Waits until the command ends, the timeout passes or the user interrupts,
/// calling `tick` with the time since `start` at every interval.
fn wait(
    config: &StatConfig,
    mut child: Option<&mut PreparedCommand>,
    start: Instant,
    ticks: &mut Option<Ticks>,
    interrupted: &AtomicBool,
    mut tick: impl FnMut(Duration) -> Result<()>,
) -> Result<Option<ExitStatus>> {
    let mut forwarded = false;
    let mut interrupt_seen: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if let Some(t) = config.timeout {
            if child.is_none() && now.duration_since(start) >= t {
                return Ok(None);
            }
        }
        if interrupted.load(Ordering::Relaxed) {
            let Some(c) = child.as_deref_mut() else {
                return Ok(None);
            };
            // The terminal already sent SIGINT to the command; if it is
            // still running a moment later (the signal came to us alone),
            // pass it on.
            let seen = *interrupt_seen.get_or_insert(now);
            if !forwarded && now.duration_since(seen) > Duration::from_millis(100) {
                let _ = c.kill(libc::SIGINT);
                forwarded = true;
            }
        }
        let mut wait = Duration::from_millis(100);
        if let Some(t) = ticks.as_ref() {
            wait = wait.min(t.next.saturating_duration_since(now));
        }
        match child.as_deref_mut() {
            Some(c) => {
                if let Some(s) = c.wait_timeout(wait)? {
                    return Ok(Some(s));
                }
            }
            None => std::thread::sleep(wait),
        }
        if let Some(t) = ticks.as_mut() {
            let now = Instant::now();
            if now >= t.next {
                // perf prints the time measured at the tick, not the nominal one.
                tick(now.duration_since(start))?;
                t.next += t.every;
                if t.next < now {
                    // Far behind (a stopped terminal): skip the missed ticks.
                    t.next = now + t.every;
                }
            }
        }
    }
}

/// The mean of every reading over the runs, and each one's spread (the
/// standard error of the mean in percent; `None` for a single run). Rows are
/// matched by key; a row the first run lacks is left out.
pub fn mean_rows(runs: &[RunResult]) -> (Vec<Row>, Vec<Vec<Option<f64>>>) {
    let Some(first) = runs.first() else {
        return (Vec::new(), Vec::new());
    };
    let mut rows = Vec::new();
    let mut spreads = Vec::new();
    for row in &first.rows {
        let same: Vec<&Row> = runs
            .iter()
            .filter_map(|r| r.rows.iter().find(|x| x.key == row.key))
            .collect();
        let mut readings = Vec::new();
        let mut row_spreads = Vec::new();
        for i in 0..row.readings.len() {
            let all: Vec<&Reading> = same.iter().map(|r| &r.readings[i]).collect();
            readings.push(mean_reading(&all));
            let values: Vec<f64> = all.iter().map(|r| r.value().unwrap_or(0.0)).collect();
            row_spreads.push(lwprof_events::stat_metrics::relative_spread(&values));
        }
        rows.push(Row {
            key: row.key.clone(),
            readings,
        });
        spreads.push(row_spreads);
    }
    (rows, spreads)
}

fn mean_reading(all: &[&Reading]) -> Reading {
    if let Some(Reading::NotSupported(r)) = all.first() {
        return Reading::NotSupported(r.clone());
    }
    let n = all.len().max(1);
    let mean_u64 = |f: fn(&Reading) -> u64| -> u64 {
        (all.iter().map(|r| f(r) as u128).sum::<u128>() / n as u128) as u64
    };
    let run = mean_u64(|r| r.times().0);
    let ena = mean_u64(|r| r.times().1);
    let counted: Vec<f64> = all.iter().filter_map(|r| r.value()).collect();
    if counted.is_empty() {
        return Reading::NotCounted { run, ena };
    }
    Reading::Counted {
        value: counted.iter().sum::<f64>() / counted.len() as f64,
        run,
        ena,
    }
}

/// A counter value for tests and for building readings by hand.
#[cfg(test)]
pub fn counted(value: u64, run: u64) -> EventStatus {
    EventStatus::Counted(CounterValue {
        value,
        time_enabled: run,
        time_running: run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(values: &[u64]) -> RunResult {
        RunResult {
            rows: vec![Row {
                key: RowKey::Total,
                readings: values
                    .iter()
                    .map(|&v| Reading::of(&counted(v, 1000), 1.0))
                    .collect(),
            }],
            elapsed: Duration::from_millis(1),
            times: None,
            status: None,
        }
    }

    #[test]
    fn huge_counts_average_without_overflow() {
        let runs = [
            run_of(&[u64::MAX]),
            run_of(&[u64::MAX]),
            run_of(&[u64::MAX]),
        ];
        let (rows, spreads) = mean_rows(&runs);
        assert_eq!(rows[0].readings[0].value(), Some(u64::MAX as f64));
        assert_eq!(spreads[0][0], Some(0.0));
    }

    #[test]
    fn a_never_running_counter_reads_not_counted() {
        let r = Reading::of(&EventStatus::Counted(CounterValue::default()), 1.0);
        assert_eq!(r, Reading::NotCounted { run: 0, ena: 0 });
    }

    #[test]
    fn interval_counts_are_differences() {
        let before = vec![(RowKey::Total, vec![counted(10, 100)])];
        let now = vec![(RowKey::Total, vec![counted(25, 300)])];
        assert_eq!(
            since(&now, &before),
            vec![(RowKey::Total, vec![counted(15, 200)])]
        );
    }
}
