//! Parsers for the numbers and lists typed on the command line, shared by
//! the subcommands: sizes (`16M`), durations, CPU lists, `--switch-output`.
//! Each returns a message that says what is wrong; the caller prefixes the
//! flag. Nothing here opens files or events.

use lwprof_profile::recorder::SwitchOutput;
use std::time::Duration;

/// `512`, `512K`, `16M`, `1G` (also `KB`, `KiB`, lower case): bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (e.g. 512K, 16M, 1G)"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("'{unit}' is not a size unit (use B, K, M or G)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// Seconds as a decimal number (`2`, `0.5`), positive and finite.
pub fn parse_duration_secs(flag: &str, s: &str) -> Result<Duration, anyhow::Error> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{flag} {s}: not a number of seconds (e.g. {flag} 2.5)"))?;
    if !(v > 0.0 && v.is_finite()) {
        anyhow::bail!("{flag} {s}: must be a positive number of seconds");
    }
    Duration::try_from_secs_f64(v).map_err(|_| {
        anyhow::anyhow!(
            "{flag} {s}: too long (at most {} seconds)",
            Duration::MAX.as_secs()
        )
    })
}

/// `30s`, `5m`, `2h`, `1d` (perf's --switch-output time units).
fn parse_time_unit(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u64 = num.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// `signal`, a size (`100M`) or a time (`30s`), as perf's --switch-output.
pub fn parse_switch_output(s: &str) -> Result<SwitchOutput, String> {
    let t = s.trim();
    if t == "signal" {
        return Ok(SwitchOutput::Signal);
    }
    if let Some(d) = parse_time_unit(t) {
        return Ok(SwitchOutput::Time(d));
    }
    match parse_size(t) {
        Ok(0) => Err("the size must be at least 1 byte".into()),
        Ok(n) => Ok(SwitchOutput::Size(n)),
        Err(_) => Err(format!(
            "'{s}' is not signal, a size (100M) or a time (30s, 5m, 2h)"
        )),
    }
}

/// `0-3,5`: CPU numbers, each below 4096.
pub fn parse_cpu_list(s: &str) -> Result<Vec<i32>, String> {
    const MAX_CPUS: u32 = 4096;
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let parse = |x: &str| -> Result<u32, String> {
            x.trim()
                .parse::<u32>()
                .ok()
                .filter(|&c| c < MAX_CPUS)
                .ok_or_else(|| format!("'{x}' is not a CPU number (0 to {})", MAX_CPUS - 1))
        };
        let (a, b) = (parse(a)?, parse(b)?);
        if a > b {
            return Err(format!("'{part}': the range is backwards"));
        }
        for c in a..=b {
            if !out.contains(&(c as i32)) {
                out.push(c as i32);
            }
        }
    }
    if out.is_empty() {
        return Err("no CPU given (e.g. 0-1,3)".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_perfs_units() {
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("16Q").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn huge_durations_are_refused_not_a_panic() {
        assert!(parse_duration_secs("--duration", "1e300").is_err());
        assert!(parse_duration_secs("--duration", "inf").is_err());
        assert!(parse_duration_secs("--duration", "-1").is_err());
        assert_eq!(
            parse_duration_secs("--duration", "0.5").expect("ok"),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn switch_output_forms() {
        assert_eq!(parse_switch_output("signal"), Ok(SwitchOutput::Signal));
        assert_eq!(
            parse_switch_output("30s"),
            Ok(SwitchOutput::Time(Duration::from_secs(30)))
        );
        assert_eq!(
            parse_switch_output("100M"),
            Ok(SwitchOutput::Size(100 << 20))
        );
        assert!(parse_switch_output("bogus").is_err());
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-2,5"), Ok(vec![0, 1, 2, 5]));
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("99999").is_err());
    }
}
