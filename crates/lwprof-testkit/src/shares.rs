//! Self shares by symbol out of `perf report` text: the one parser for
//! perf 6.1's `--stdio --no-children --sort sym` output and lwprof's report,
//! which prints the same lines (`  69.81%  [.] hot_seventy`).
//!
//! The rule: a line whose first field is a percentage and which has a
//! privilege-level field (`[.]` user, `[k]` kernel, perf's `[g]`, `[u]`,
//! `[H]`), with the symbol after it (all of it: C++ names have spaces).
//! Header (`#`) lines, blank lines and call-graph lines have neither, so
//! they are not counted; a second sort key before `sym` (`-s dso,sym`) is
//! stepped over. It does not read the Children column (`--children`
//! reports put it first) or any other sort key.

use crate::run::perf_ok;
use std::collections::BTreeMap;
use std::path::Path;

/// Self share in percent by symbol; a symbol listed twice (two DSOs) adds up.
pub type Shares = BTreeMap<String, f64>;

/// A privilege-level field: `[` one character `]`.
fn is_level(field: &str) -> bool {
    let b = field.as_bytes();
    b.len() == 3 && b[0] == b'[' && b[2] == b']'
}

/// Self shares by symbol from `perf report`-style text (see the module
/// docs for the rule).
pub fn parse_shares(report: &str) -> Shares {
    let mut shares = Shares::new();
    for line in report.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let Some(pct) = f
            .first()
            .and_then(|w| w.strip_suffix('%'))
            .and_then(|p| p.parse::<f64>().ok())
        else {
            continue;
        };
        let Some(level) = f.iter().position(|w| is_level(w)) else {
            continue;
        };
        if level + 1 < f.len() {
            *shares.entry(f[level + 1..].join(" ")).or_default() += pct;
        }
    }
    shares
}

/// The sum of the shares of every symbol whose name ends with `name`
/// (`hot_seventy` finds `lwprof_shares::hot_seventy` too).
pub fn share(shares: &Shares, name: &str) -> f64 {
    shares
        .iter()
        .filter(|(k, _)| k.ends_with(name))
        .map(|(_, v)| *v)
        .sum()
}

/// Shares by symbol from `perf report --stdio --no-children --sort sym -g
/// none -i DATA` run in `dir`, and perf's stderr (without `-q`, so that
/// warnings are there to be checked).
pub fn perf_shares_and_stderr(dir: impl AsRef<Path>, data: impl AsRef<Path>) -> (Shares, String) {
    let data = data.as_ref().to_str().expect("a UTF-8 path");
    let (out, err) = perf_ok(
        dir,
        &[
            "report",
            "--stdio",
            "--no-children",
            "--sort",
            "sym",
            "-g",
            "none",
            "-i",
            data,
        ],
    );
    (parse_shares(&out), err)
}

/// Shares by symbol from `perf report` of `data` (see
/// [`perf_shares_and_stderr`]).
pub fn perf_shares(dir: impl AsRef<Path>, data: impl AsRef<Path>) -> Shares {
    perf_shares_and_stderr(dir, data).0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// perf 6.1's report of a `-g` recording, with its header and, as
    /// without `-g none`, call-graph lines.
    const PERF: &str = "\
# To display the perf.data header info, please use --header/--header-only options.
#
# Samples: 403  of event 'cpu-clock:ppp'
# Overhead  Symbol
# ........  ...................................
#
    28.04%  [.] hot_seventy
            |
            |--1.99%--0x1
            |          main
            |
             --26.05%--main
    12.00%  [k] clear_page_erms
     3.00%  [.] std::vector<int, std::allocator<int> >::push_back(int const&)
     1.50%  [.] [unknown]
     0.50%  [.] hot_seventy

";

    #[test]
    fn perf_lines_give_every_symbol_and_nothing_else() {
        let s = parse_shares(PERF);
        let want: Shares = [
            ("hot_seventy", 28.54),
            ("clear_page_erms", 12.0),
            (
                "std::vector<int, std::allocator<int> >::push_back(int const&)",
                3.0,
            ),
            ("[unknown]", 1.5),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(
            s.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (k, v) in &want {
            assert!((s[k] - v).abs() < 1e-9, "{k}: {} vs {v}", s[k]);
        }
    }

    #[test]
    fn a_sort_key_before_the_symbol_is_stepped_over() {
        let s =
            parse_shares("    70.00%  shares  [.] hot_seventy\n   30.00%  libc.so.6  [.] memcpy\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s["hot_seventy"], 70.0);
        assert_eq!(s["memcpy"], 30.0);
    }

    #[test]
    fn lines_without_a_percentage_or_a_level_are_not_shares() {
        let s = parse_shares("70.00 [.] a\n70.00% b c\n# 5.00% [.] d\n5.00% [.]\n");
        assert!(s.is_empty(), "{s:?}");
    }

    #[test]
    fn share_adds_every_name_ending_with_the_suffix() {
        let s = parse_shares("  60.00%  [.] lwprof_shares::hot_seventy\n  10.00%  [.] hot_seventy\n  30.00%  [.] warm\n");
        assert!((share(&s, "hot_seventy") - 70.0).abs() < 1e-9);
        assert_eq!(share(&s, "nothing"), 0.0);
    }
}
