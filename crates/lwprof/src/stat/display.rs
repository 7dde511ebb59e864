//! Laying out `lwprof stat`'s counts byte for byte as perf 6.1 does: the
//! human layout (title, one line per event, the elapsed-time footer), `-x`
//! CSV and `-j` JSON, for the total, per CPU (`-A`), per thread
//! (`--per-thread`), per interval (`-I`) and over repeated runs (`-r`).
//!
//! The column widths are perf 6.1's (counts in 18, the event name in 32, or
//! 25 on a line without a count, the figure after `#` in 35); the CSV columns are perf's: value, unit, event,
//! the spread (with `-r` only), running time, percentage running, figure and
//! its unit. The figures themselves come from `lwprof_events::stat_metrics`.
//! This module writes lines and nothing else.

use super::args::{Aggregation, StatConfig, StatFormat, StatTarget};
use super::counting::{mean_rows, Reading, Row, RowKey, RunResult};
use super::events::ShownEvent;
use anyhow::Result;
use lwprof_events::locale::NumericGrouping;
use lwprof_events::stat_metrics::{self, Denominators, Metric};
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

/// Width of the count column.
const COUNTS_LEN: usize = 18;
/// Width of the event name column.
const EVNAME_LEN: usize = 32;
/// Width of the figure after `#`, with its unit.
const METRIC_LEN: usize = 35;
/// Width of the event name on a `<not counted>` or `<not supported>` line
/// (perf 6.1 pads those less).
const EVNAME_BAD_LEN: usize = 25;
/// perf prints the interval header again after this many intervals.
const HEADER_EVERY: usize = 25;

/// At most `max` characters of `text`, with `...` when cut (for echoing
/// what the user typed in an error).
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max).collect();
    s.push_str("...");
    s
}

/// The printer of one `lwprof stat` invocation.
pub struct Printer<'a> {
    config: &'a StatConfig,
    shown: &'a [ShownEvent],
    grouping: NumericGrouping,
    intervals: usize,
}

/// What one line shows besides its row and event.
struct LineExtras {
    spread: Option<f64>,
    prefix: Option<Duration>,
}

impl<'a> Printer<'a> {
    /// A printer for `config`, showing `shown`.
    pub fn new(config: &'a StatConfig, shown: &'a [ShownEvent]) -> Self {
        let grouping = if config.big_num && config.format == StatFormat::Human {
            NumericGrouping::from_environment()
        } else {
            NumericGrouping::none()
        };
        Printer {
            config,
            shown,
            grouping,
            intervals: 0,
        }
    }

    /// The events shown.
    pub fn shown(&self) -> &'a [ShownEvent] {
        self.shown
    }

    /// perf's title line.
    pub fn title(&self) -> String {
        let what = match &self.config.target {
            StatTarget::Command => {
                let cmd: Vec<_> = self
                    .config
                    .command
                    .iter()
                    .map(|a| a.to_string_lossy())
                    .collect();
                format!("'{}'", cmd.join(" "))
            }
            StatTarget::Pid(p) => format!("process id '{p}'"),
            StatTarget::Tid(t) => format!("thread id '{t}'"),
            // perf 6.1 says 'system wide' for -a, with or without -C.
            StatTarget::SystemWide(_) => "'system wide'".into(),
            StatTarget::CpuList(_, text) => format!("'CPU(s) {text}'"),
        };
        let runs = if self.config.repeat > 1 {
            format!(" ({} runs)", self.config.repeat)
        } else {
            String::new()
        };
        format!(" Performance counter stats for {what}{runs}:")
    }

    /// The counts of every run: their means, spreads and the footer.
    pub fn print_summary(&self, runs: &[RunResult], out: &mut dyn Write) -> Result<()> {
        let n = runs.len().max(1);
        let (rows, spreads) = mean_rows(runs);
        let wall_secs = runs.iter().map(|r| r.elapsed.as_secs_f64()).sum::<f64>() / n as f64;
        let human = self.config.format == StatFormat::Human;
        if human {
            write!(out, "\n{}\n\n", self.title())?;
        }
        let spreads = (runs.len() > 1).then_some(spreads.as_slice());
        self.print_rows(&rows, spreads, wall_secs * 1e9, None, out)?;
        if human {
            self.print_footer(runs, wall_secs, out)?;
        }
        Ok(())
    }

    fn print_footer(&self, runs: &[RunResult], mean: f64, out: &mut dyn Write) -> Result<()> {
        writeln!(out)?;
        let secs: Vec<f64> = runs.iter().map(|r| r.elapsed.as_secs_f64()).collect();
        match stat_metrics::mean_stddev(&secs) {
            Some(sd) => {
                let p = stat_metrics::elapsed_precision(sd);
                write!(out, " {mean:>17.p$} +- {sd:.p$} seconds time elapsed")?;
                let pct = if mean != 0.0 { 100.0 * sd / mean } else { 0.0 };
                if pct != 0.0 {
                    write!(out, "  ( +-{pct:6.2}% )")?;
                }
            }
            None => {
                write!(out, " {mean:>17.9} seconds time elapsed")?;
                // perf shows the command's own CPU times, and only those: not
                // for -p, -t or -a, where the command is not the target.
                let ours = self.config.target == StatTarget::Command;
                if let (true, Some((user, sys))) = (ours, runs.first().and_then(|r| r.times)) {
                    write!(out, "\n\n {:>17.9} seconds user\n", user.as_secs_f64())?;
                    writeln!(out, " {:>17.9} seconds sys", sys.as_secs_f64())?;
                }
            }
        }
        write!(out, "\n\n")?;
        Ok(())
    }

    /// One interval's counts, `at` after the start.
    pub fn print_interval(
        &mut self,
        at: Duration,
        rows: &[Row],
        out: &mut dyn Write,
    ) -> Result<()> {
        if self.config.format == StatFormat::Human && self.intervals.is_multiple_of(HEADER_EVERY) {
            writeln!(out, "{}", self.interval_header())?;
        }
        self.intervals += 1;
        // perf relates an interval's clock to the nominal interval.
        let wall = self.config.interval.unwrap_or(at).as_nanos() as f64;
        self.print_rows(rows, None, wall, Some(at), out)
    }

    fn interval_header(&self) -> String {
        // perf 6.1's literal headers.
        let (row, counts) = match self.config.aggregation {
            Aggregation::Total => ("#           time", "             counts"),
            Aggregation::PerCpu => ("#           time CPU    ", "                counts"),
            Aggregation::PerThread => (
                "#           time             comm-pid",
                "                  counts",
            ),
        };
        format!("{row}{counts} {:>w$} events", "unit", w = self.unit_width())
    }

    /// perf pads units to the longest one, and to at least 4 (`msec`).
    fn unit_width(&self) -> usize {
        self.shown
            .iter()
            .map(|ev| Self::unit_text(ev).len())
            .max()
            .unwrap_or(0)
            .max(4)
    }

    /// Every event's line for every row: event by event, and within an event
    /// CPU by CPU, or thread by thread with the largest count first.
    fn print_rows(
        &self,
        rows: &[Row],
        spreads: Option<&[Vec<Option<f64>>]>,
        wall_ns: f64,
        prefix: Option<Duration>,
        out: &mut dyn Write,
    ) -> Result<()> {
        let denominators: Vec<Denominators> = rows
            .iter()
            .map(|row| {
                Denominators::gather(
                    wall_ns,
                    self.shown
                        .iter()
                        .zip(&row.readings)
                        .map(|(ev, r)| (&ev.config, r.value())),
                )
            })
            .collect();
        for i in 0..self.shown.len() {
            let mut order: Vec<usize> = (0..rows.len()).collect();
            if self.config.aggregation == Aggregation::PerThread {
                let key = |r: usize| rows[r].readings[i].value().unwrap_or(0.0);
                order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
            }
            for r in order {
                let extras = LineExtras {
                    spread: spreads.and_then(|s| s[r][i]),
                    prefix,
                };
                let line = self.line(&rows[r], i, &denominators[r], &extras);
                writeln!(out, "{line}")?;
            }
        }
        Ok(())
    }

    /// The count as perf writes it: `%.2f` for msec and scaled events,
    /// `%.0f` otherwise, grouped in the human layout.
    fn value_text(&self, ev: &ShownEvent, reading: &Reading) -> String {
        match reading {
            Reading::NotSupported(_) => "<not supported>".into(),
            Reading::NotCounted { .. } => "<not counted>".into(),
            Reading::Counted { value, .. } => {
                let text = if ev.is_clock() {
                    format!("{:.2}", value / 1e6)
                } else if ev.scale.floor() != ev.scale {
                    format!("{value:.2}")
                } else {
                    format!("{value:.0}")
                };
                self.grouping.group(&text)
            }
        }
    }

    fn unit_text(ev: &ShownEvent) -> &str {
        if ev.is_clock() {
            "msec"
        } else {
            ev.unit.as_deref().unwrap_or("")
        }
    }

    fn line(&self, row: &Row, i: usize, d: &Denominators, extras: &LineExtras) -> String {
        let ev = &self.shown[i];
        let reading = &row.readings[i];
        let metric = reading
            .value()
            .and_then(|v| stat_metrics::metric(&ev.config, v, d));
        match &self.config.format {
            StatFormat::Human => self.std_line(row, ev, reading, metric.as_ref(), extras),
            StatFormat::Csv(sep) => self.csv_line(sep, row, ev, reading, metric.as_ref(), extras),
            StatFormat::Json => self.json_line(row, ev, reading, metric.as_ref(), extras),
        }
    }

    fn std_line(
        &self,
        row: &Row,
        ev: &ShownEvent,
        reading: &Reading,
        metric: Option<&Metric>,
        extras: &LineExtras,
    ) -> String {
        let mut s = String::new();
        if let Some(t) = extras.prefix {
            let _ = write!(s, "{:6}.{:09} ", t.as_secs(), t.subsec_nanos());
        }
        match &row.key {
            RowKey::Total => {}
            RowKey::Cpu(cpu) => {
                let _ = write!(s, "CPU{cpu:<7} ");
            }
            RowKey::Thread { comm, tid } => {
                let _ = write!(s, "{comm:>16}-{tid:<8} ");
            }
        }
        let value = self.value_text(ev, reading);
        let name_len = match reading {
            Reading::Counted { .. } => EVNAME_LEN,
            _ => EVNAME_BAD_LEN,
        };
        let _ = write!(
            s,
            "{value:>COUNTS_LEN$} {:<uw$} {:<name_len$}",
            Self::unit_text(ev),
            ev.config.name,
            uw = self.unit_width(),
        );
        match metric {
            Some(m) => {
                let text = m.text();
                // perf: " # ", the number, then the unit padded so the two
                // fill METRIC_LEN (C's negative width pads the other way).
                let width = (METRIC_LEN as i64 - 3 - text.len() as i64 - 1).unsigned_abs() as usize;
                let _ = write!(s, " # {text} {:<width$}", m.unit);
            }
            None => {
                let _ = write!(s, "{:METRIC_LEN$}", "");
            }
        }
        if let Some(p) = extras.spread.filter(|p| *p != 0.0) {
            let _ = write!(s, "  ( +-{p:6.2}% )");
        }
        let (run, ena) = reading.times();
        if run != ena && ena != 0 {
            let _ = write!(s, "  ({:.2}%)", 100.0 * run as f64 / ena as f64);
        }
        s
    }

    fn csv_line(
        &self,
        sep: &str,
        row: &Row,
        ev: &ShownEvent,
        reading: &Reading,
        metric: Option<&Metric>,
        extras: &LineExtras,
    ) -> String {
        let mut fields: Vec<String> = Vec::new();
        let mut s = String::new();
        if let Some(t) = extras.prefix {
            // perf pads the seconds to six columns in CSV too.
            let _ = write!(s, "{:6}.{:09}{sep}", t.as_secs(), t.subsec_nanos());
        }
        match &row.key {
            RowKey::Total => {}
            RowKey::Cpu(cpu) => fields.push(format!("CPU{cpu}")),
            RowKey::Thread { comm, tid } => fields.push(format!("{comm}-{tid}")),
        }
        fields.push(self.value_text(ev, reading));
        fields.push(Self::unit_text(ev).to_string());
        fields.push(ev.config.name.clone());
        if self.config.repeat > 1 {
            fields.push(format!("{:.2}%", extras.spread.unwrap_or(0.0)));
        }
        let (run, ena) = reading.times();
        fields.push(run.to_string());
        fields.push(format!("{:.2}", csv_running_percent(run, ena)));
        match metric {
            Some(m) => {
                fields.push(m.csv_value());
                fields.push(m.unit.clone());
            }
            None => fields.extend([String::new(), String::new()]),
        }
        s.push_str(&fields.join(sep));
        s
    }

    fn json_line(
        &self,
        row: &Row,
        ev: &ShownEvent,
        reading: &Reading,
        metric: Option<&Metric>,
        extras: &LineExtras,
    ) -> String {
        let (run, ena) = reading.times();
        let mut obj = json!({
            "counter-value": self.value_text(ev, reading),
            "unit": Self::unit_text(ev),
            "event": ev.config.name,
            "event-runtime": run,
            "pcnt-running": csv_running_percent(run, ena),
        });
        match &row.key {
            RowKey::Total => {}
            RowKey::Cpu(cpu) => obj["cpu"] = json!(cpu.to_string()),
            RowKey::Thread { comm, tid } => obj["thread"] = json!(format!("{comm}-{tid}")),
        }
        if let Some(t) = extras.prefix {
            obj["interval"] = json!(t.as_secs_f64());
        }
        if let Some(m) = metric {
            obj["metric-value"] = json!(m.value);
            obj["metric-unit"] = json!(m.unit);
        }
        if self.config.repeat > 1 {
            obj["variance"] = json!(extras.spread.unwrap_or(0.0));
        }
        obj.to_string()
    }

    /// One note per reason an event could not be counted.
    pub fn print_notes(&self, run: &RunResult, out: &mut dyn Write) -> Result<()> {
        let Some(row) = run.rows.first() else {
            return Ok(());
        };
        let mut seen: Vec<&str> = Vec::new();
        for r in &row.readings {
            let Reading::NotSupported(reason) = r else {
                continue;
            };
            if seen.contains(&reason.as_str()) {
                continue;
            }
            seen.push(reason);
            let names: Vec<&str> = row
                .readings
                .iter()
                .zip(self.shown)
                .filter(|(s, _)| matches!(s, Reading::NotSupported(x) if x == reason))
                .map(|(_, ev)| ev.config.name.as_str())
                .collect();
            writeln!(
                out,
                "lwprof: note: {}: not supported: {reason}",
                names.join(", ")
            )?;
        }
        Ok(())
    }
}

/// perf's CSV "percentage running": 100 unless running and enabled differ,
/// else their ratio in whole percent (perf divides integers).
fn csv_running_percent(run: u64, ena: u64) -> f64 {
    if run == ena || ena == 0 {
        100.0
    } else {
        (100u128 * run as u128 / ena as u128) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_running_percent_is_perfs_integer_ratio() {
        assert_eq!(csv_running_percent(0, 0), 100.0);
        assert_eq!(csv_running_percent(5, 5), 100.0);
        assert_eq!(csv_running_percent(996, 1000), 99.0);
        assert_eq!(csv_running_percent(0, 1000), 0.0);
        assert_eq!(csv_running_percent(u64::MAX, u64::MAX - 1), 100.0);
    }

    #[test]
    fn long_input_is_clipped_in_messages() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip(&"x".repeat(100), 5), "xxxxx...");
    }
}
