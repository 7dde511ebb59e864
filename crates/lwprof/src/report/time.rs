//! perf's `--time` for `lwprof report`: absolute ranges in the perf clock
//! (`2874.8,2875.1`, seconds as `perf script` prints them; either end may
//! be empty), several separated by spaces; percentage slices of the
//! recording (`10%/2`: the second tenth) and percentage ranges
//! (`0%-10%,30%-40%`). lwprof also takes ranges in seconds from the first
//! sample with a leading `+` (`+0.5,+2`).
//!
//! Parsing checks every number (a time past the perf clock's range is an
//! error, not a wrap); [`TimeSpec::resolve`] turns the spec into nanosecond
//! ranges once the first and last sample times are known.

use anyhow::{bail, Result};

/// One range as typed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Range {
    /// Nanoseconds of the perf clock.
    Absolute(Option<u64>, Option<u64>),
    /// Nanoseconds from the first sample.
    FromStart(Option<u64>, Option<u64>),
    /// A fraction of the span, [from, to).
    Share(f64, f64),
}

/// A parsed `--time`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSpec {
    ranges: Vec<Range>,
}

/// Seconds (`2874.816736`) to nanoseconds, checked.
fn seconds(spec: &str, s: &str) -> Result<u64> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--time {spec}: '{s}' is not a time in seconds"))?;
    let ns = v * 1e9;
    if !(v >= 0.0 && ns.is_finite() && ns < u64::MAX as f64) {
        bail!(
            "--time {spec}: '{s}' is out of range: times are 0 to {} seconds of the perf clock",
            u64::MAX / 1_000_000_000
        );
    }
    Ok(ns as u64)
}

fn optional(spec: &str, s: &str) -> Result<Option<u64>> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        seconds(spec, s).map(Some)
    }
}

fn percent(spec: &str, s: &str) -> Result<f64> {
    let v: f64 = s
        .trim()
        .strip_suffix('%')
        .unwrap_or(s)
        .parse()
        .map_err(|_| anyhow::anyhow!("--time {spec}: '{s}' is not a percentage"))?;
    if !(0.0..=100.0).contains(&v) {
        bail!("--time {spec}: '{s}' must be from 0% to 100%");
    }
    Ok(v / 100.0)
}

/// `a%/n`: the n-th slice of a% each, or `a%-b%`.
fn share(spec: &str, part: &str) -> Result<Range> {
    if let Some((size, n)) = part.split_once('/') {
        let size = percent(spec, size)?;
        let n: u32 = n.trim().parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
            anyhow::anyhow!("--time {spec}: '{n}' is not a slice number (1, 2, ...)")
        })?;
        let from = size * f64::from(n - 1);
        if size <= 0.0 || from >= 1.0 {
            bail!(
                "--time {spec}: slice {n} of {}% is past the end",
                size * 100.0
            );
        }
        return Ok(Range::Share(from, (from + size).min(1.0)));
    }
    let (a, b) = part
        .split_once("%-")
        .map(|(a, b)| (format!("{a}%"), b))
        .ok_or_else(|| anyhow::anyhow!("--time {spec}: '{part}': use a%/n or a%-b%"))?;
    let (a, b) = (percent(spec, &a)?, percent(spec, b)?);
    if a > b {
        bail!("--time {spec}: '{part}' ends before it starts");
    }
    Ok(Range::Share(a, b))
}

impl TimeSpec {
    /// Parses a `--time` argument.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut ranges = Vec::new();
        if spec.contains('%') {
            for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
                ranges.push(share(spec, part.trim())?);
            }
        } else {
            for part in spec.split_whitespace() {
                let (a, b) = part.split_once(',').ok_or_else(|| {
                    anyhow::anyhow!(
                        "--time {spec}: give START,END in seconds as perf script shows them \
                         (e.g. 2874.8,2875.1 or ,2875), percentages (10%/2, 0%-10%), or +S,+E \
                         from the first sample"
                    )
                })?;
                let rel = a.trim_start().starts_with('+') || b.trim_start().starts_with('+');
                let strip = |s: &str| s.trim().trim_start_matches('+').to_string();
                let (s, e) = (optional(spec, &strip(a))?, optional(spec, &strip(b))?);
                if let (Some(s), Some(e)) = (s, e) {
                    if s > e {
                        bail!("--time {spec}: '{part}' ends before it starts");
                    }
                }
                ranges.push(if rel {
                    Range::FromStart(s, e)
                } else {
                    Range::Absolute(s, e)
                });
            }
        }
        if ranges.is_empty() {
            bail!("--time {spec}: no time range given");
        }
        Ok(Self { ranges })
    }

    /// Nanosecond ranges `[start, end)` for a recording whose samples span
    /// `first..=last`.
    pub fn resolve(&self, first: u64, last: u64) -> Vec<(Option<u64>, Option<u64>)> {
        let span = last.saturating_sub(first);
        self.ranges
            .iter()
            .map(|r| match *r {
                Range::Absolute(s, e) => (s, e.map(|e| e.saturating_add(1))),
                Range::FromStart(s, e) => (
                    s.map(|s| first.saturating_add(s)),
                    e.map(|e| first.saturating_add(e)),
                ),
                Range::Share(a, b) => (
                    Some(first.saturating_add((span as f64 * a) as u64)),
                    // The last slice includes the last sample.
                    if b >= 1.0 {
                        None
                    } else {
                        Some(first.saturating_add((span as f64 * b) as u64))
                    },
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_takes_perfs_absolute_and_percent_forms() {
        let t = TimeSpec::parse("2874.5,2875").expect("absolute");
        assert_eq!(
            t.resolve(0, 1),
            vec![(Some(2_874_500_000_000), Some(2_875_000_000_001))]
        );
        let t = TimeSpec::parse("10%/2").expect("slice");
        assert_eq!(t.resolve(1000, 2000), vec![(Some(1100), Some(1200))]);
        let t = TimeSpec::parse("0%-10%,90%-100%").expect("ranges");
        assert_eq!(
            t.resolve(1000, 2000),
            vec![(Some(1000), Some(1100)), (Some(1900), None)]
        );
        let t = TimeSpec::parse("+0.5,").expect("relative");
        assert_eq!(t.resolve(10, 20), vec![(Some(500_000_010), None)]);
    }

    #[test]
    fn huge_or_bad_times_are_errors_not_wraps() {
        assert!(TimeSpec::parse("1e300,").is_err());
        assert!(TimeSpec::parse("-1,2").is_err());
        assert!(TimeSpec::parse("3,2").is_err());
        assert!(TimeSpec::parse("10%/11").is_err());
        assert!(TimeSpec::parse("abc").is_err());
    }
}
