//! The arguments of `lwprof report`, as typed, and their check into a
//! [`ReportConfig`]: sort keys, `-F` fields, `-g`, `--time`, filters and
//! limits, each number checked with a message that names the flag.

use super::callgraph::{self, CallGraphSpec};
use super::time::TimeSpec;
use super::ReportConfig;
use anyhow::{bail, Result};
use lwprof_output::{Format, TextField};
use lwprof_profile::model::CallGraphOrder;
use lwprof_profile::model::{Percentage, Regex, SampleFilter, SortKey, DEFAULT_PARENT_PATTERN};
use std::path::PathBuf;

/// Arguments of `lwprof report`, as typed.
#[derive(clap::Args, Debug)]
#[command(
    override_usage = "lwprof report [OPTIONS]",
    after_help = "Examples:\n  lwprof report\n  lwprof report --no-children --sort dso,sym\n  lwprof report --format flamegraph -o flame.svg\n  lwprof report --comm myprog --time 10%/2 -g caller,1"
)]
pub struct ReportArgs {
    /// The perf.data file to read [default: perf.data]; `-` is standard
    /// input. Several -i (or a glob such as 'perf.data.*', a
    /// --switch-output series) are reported as one profile.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Vec<PathBuf>,
    /// Output format: text, folded, flamegraph, pprof, firefox, json.
    #[arg(long = "format", value_name = "FORMAT", default_value = "text")]
    format: String,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Entries are: comma-separated keys from sym(bol), dso, comm, pid (the
    /// thread, as perf shows it), tid, cpu, srcline, srcfile, parent.
    #[arg(short = 's', long = "sort", value_name = "KEYS")]
    sort: Option<String>,
    /// Columns: overhead, overhead_children, overhead_sys, overhead_us,
    /// sample, period and sort keys (perf's -F).
    #[arg(short = 'F', long = "fields", value_name = "FIELDS")]
    fields: Option<String>,
    /// Show only self time (one Overhead column).
    #[arg(long = "no-children", conflicts_with = "children")]
    no_children: bool,
    /// Show the Children column (the default).
    #[arg(long = "children")]
    children: bool,
    /// Call graphs (perf's grammar): graph, fractal, flat, folded or none;
    /// caller or callee; a threshold and a print limit; function, address
    /// or srcline; percent, period or count (e.g. -g graph,0.5,callee).
    #[arg(short = 'g', long = "call-graph", value_name = "SPEC")]
    call_graph: Option<String>,
    /// Caller-order call graphs (-g caller).
    #[arg(short = 'G', long = "inverted")]
    inverted: bool,
    /// Only these processes (comma-separated pids).
    #[arg(long = "pid", value_name = "PIDS")]
    pid: Option<String>,
    /// Only these threads (comma-separated tids).
    #[arg(long = "tid", value_name = "TIDS")]
    tid: Option<String>,
    /// Only these thread names (comma-separated).
    #[arg(long = "comm", value_name = "NAMES")]
    comm: Option<String>,
    /// Only samples whose leaf is in these DSOs (comma-separated names or paths).
    #[arg(short = 'd', long = "dso", value_name = "DSOS")]
    dso: Option<String>,
    /// Only samples whose leaf is one of these functions (comma-separated).
    #[arg(short = 'S', long = "symbols", value_name = "SYMBOLS")]
    symbols: Option<String>,
    /// Hide samples whose leaf has no symbol.
    #[arg(short = 'U', long = "hide-unresolved")]
    hide_unresolved: bool,
    /// Only samples in these times: START,END in seconds of the perf clock
    /// (as perf script shows them), percentages (10%/2, 0%-10%), or +S,+E
    /// from the first sample.
    #[arg(long = "time", value_name = "RANGES")]
    time: Option<String>,
    /// Charge inlined functions to the function they were inlined into.
    #[arg(long = "no-inline")]
    no_inline: bool,
    /// Show at most N entries.
    #[arg(long = "limit", value_name = "N")]
    limit: Option<String>,
    /// Hide entries under this percentage.
    #[arg(long = "percent-limit", value_name = "PCT")]
    percent_limit: Option<String>,
    /// Add a Samples column.
    #[arg(short = 'n', long = "show-nr-samples")]
    show_nr_samples: bool,
    /// Use at most N frames of each stack, from the leaf.
    #[arg(long = "max-stack", value_name = "N")]
    max_stack: Option<String>,
    /// Percentages relative to the filtered samples (relative) or to every
    /// sample (absolute, the default).
    #[arg(long = "percentage", value_name = "relative|absolute")]
    percentage: Option<String>,
    /// The parent pattern of the `parent` sort key (a regex).
    #[arg(short = 'p', long = "parent", value_name = "REGEX")]
    parent: Option<String>,
    /// Print the entries only, without the header lines and notes.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Every note about symbols, and what the reader counted.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Show symbol names as they are in the binary.
    #[arg(long = "no-demangle")]
    no_demangle: bool,
    /// Read every binary's symbols and DWARF afresh: do not use (or write)
    /// the symbol cache in ~/.cache/lwprof/symbols.
    #[arg(long = "no-cache")]
    no_cache: bool,
    /// Accepted for perf compatibility (text output is always stdio).
    #[arg(long = "stdio", hide = true)]
    stdio: bool,
    /// Flame graph: an icicle graph (root at the top).
    #[arg(long = "icicle")]
    icicle: bool,
    /// Flame graph colors: hot, dso, rust, java, js, python, perl.
    #[arg(long = "colors", value_name = "PALETTE")]
    colors: Option<String>,
    /// Folded stacks: prefix each stack with the thread name and tid.
    #[arg(long = "thread-tid")]
    thread_tid: bool,
    /// Print how many records of each type the file holds (lost and
    /// throttle records included), as perf report --stats does, and no
    /// profile.
    #[arg(long = "stats", conflicts_with = "header")]
    stats: bool,
    /// Print what the file says about its recording (host, command line,
    /// events and their attributes, features, build ids), as perf report
    /// --header-only does, and no profile.
    #[arg(long = "header", visible_alias = "header-only")]
    header: bool,
    /// Use no network: fetch no debug files from the DEBUGINFOD_URLS servers
    /// (files already in the debuginfod cache are still read).
    #[arg(long = "offline")]
    offline: bool,
}

/// The largest pid Linux hands out (`PID_MAX_LIMIT` on 64-bit).
const PID_MAX_LIMIT: u64 = 4_194_304;

fn ids(flag: &str, s: &str) -> Result<Vec<u32>> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| match x.parse::<u64>() {
            Ok(v) if v <= PID_MAX_LIMIT => Ok(v as u32),
            Ok(_) => {
                bail!("--{flag} {s}: '{x}' is out of range: Linux ids are at most {PID_MAX_LIMIT}")
            }
            Err(_) => bail!("--{flag} {s}: '{x}' is not a number"),
        })
        .collect()
}

fn names(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn sort_key(name: &str) -> Option<SortKey> {
    Some(match name {
        "sym" | "symbol" => SortKey::Symbol,
        "dso" => SortKey::Dso,
        "comm" => SortKey::Comm,
        "pid" => SortKey::Pid,
        "tid" | "thread" => SortKey::Tid,
        "cpu" => SortKey::Cpu,
        "srcline" => SortKey::SrcLine,
        "srcfile" => SortKey::SrcFile,
        "parent" => SortKey::Parent,
        _ => return None,
    })
}

const KEY_NAMES: &str = "sym, dso, comm, pid, tid, cpu, srcline, srcfile or parent";

fn parse_keys(s: &str) -> Result<Vec<SortKey>> {
    let mut out = Vec::new();
    for k in s.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let key = sort_key(k)
            .ok_or_else(|| anyhow::anyhow!("--sort {s}: unknown key '{k}'; use {KEY_NAMES}"))?;
        if !out.contains(&key) {
            out.push(key);
        }
    }
    if out.is_empty() {
        bail!("--sort {s}: no key given; use {KEY_NAMES}");
    }
    Ok(out)
}

fn parse_fields(s: &str) -> Result<Vec<TextField>> {
    let mut out = Vec::new();
    for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let field = match f {
            "overhead" => TextField::Overhead,
            "overhead_children" => TextField::Children,
            "overhead_sys" => TextField::OverheadSys,
            "overhead_us" => TextField::OverheadUs,
            "sample" => TextField::Samples,
            "period" => TextField::Period,
            k => TextField::Key(sort_key(k).ok_or_else(|| {
                anyhow::anyhow!(
                    "-F {s}: unknown field '{k}'; use overhead, overhead_children, overhead_sys, \
                     overhead_us, sample, period or a sort key ({KEY_NAMES})"
                )
            })?),
        };
        out.push(field);
    }
    if out.is_empty() {
        bail!("-F {s}: no field given");
    }
    Ok(out)
}

fn parse_count(flag: &str, s: &str) -> Result<usize> {
    s.trim()
        .parse::<usize>()
        .map_err(|_| anyhow::anyhow!("{flag} {s}: not a whole number"))
}

fn parse_percent(flag: &str, s: &str) -> Result<f64> {
    s.trim()
        .trim_end_matches('%')
        .parse::<f64>()
        .ok()
        .filter(|v| (0.0..=100.0).contains(v))
        .ok_or_else(|| anyhow::anyhow!("{flag} {s}: must be a percentage from 0 to 100"))
}

impl ReportArgs {
    /// Validates the arguments into a plain config.
    pub fn into_config(self) -> Result<ReportConfig> {
        let format: Format = self
            .format
            .parse()
            .map_err(|e| anyhow::anyhow!("--format {}: {e}", self.format))?;
        let fields = self.fields.as_deref().map(parse_fields).transpose()?;
        let field_keys: Vec<SortKey> = fields
            .iter()
            .flatten()
            .filter_map(|f| match f {
                TextField::Key(k) => Some(*k),
                _ => None,
            })
            .collect();
        let mut keys = match &self.sort {
            Some(s) => parse_keys(s)?,
            // As perf: -F's keys are the entries' keys unless --sort says.
            None if !field_keys.is_empty() => Vec::new(),
            None => vec![SortKey::Comm, SortKey::Dso, SortKey::Symbol],
        };
        // A key shown as a field is an entry key too.
        for f in fields.iter().flatten() {
            if let TextField::Key(k) = f {
                if !keys.contains(k) {
                    keys.push(*k);
                }
            }
        }
        let mut call_graph = match self.call_graph.as_deref() {
            None => CallGraphSpec::default(),
            Some(spec) => callgraph::parse(spec)?,
        };
        if self.inverted {
            call_graph.order = Some(CallGraphOrder::Caller);
        }
        let percentage = match self.percentage.as_deref().map(str::trim) {
            None | Some("absolute") => Percentage::Absolute,
            Some("relative") => Percentage::Relative,
            Some(other) => bail!("--percentage {other}: use relative or absolute"),
        };
        let parent_src = self.parent.as_deref().unwrap_or(DEFAULT_PARENT_PATTERN);
        let parent = Regex::new(parent_src)
            .map_err(|e| anyhow::anyhow!("--parent {parent_src}: not a regex ({e})"))?;
        let filter = SampleFilter {
            pids: self
                .pid
                .as_deref()
                .map(|s| ids("pid", s))
                .transpose()?
                .unwrap_or_default(),
            tids: self
                .tid
                .as_deref()
                .map(|s| ids("tid", s))
                .transpose()?
                .unwrap_or_default(),
            comms: self.comm.as_deref().map(names).unwrap_or_default(),
            dsos: self.dso.as_deref().map(names).unwrap_or_default(),
            symbols: self.symbols.as_deref().map(names).unwrap_or_default(),
            hide_unresolved: self.hide_unresolved,
            ..SampleFilter::default()
        };
        let _ = self.stdio;
        Ok(ReportConfig {
            input: self
                .input
                .first()
                .cloned()
                .unwrap_or_else(|| PathBuf::from("perf.data")),
            more_inputs: self.input.iter().skip(1).cloned().collect(),
            format,
            output: self.output,
            keys,
            sort_starts_with_sym: self
                .sort
                .as_deref()
                .is_some_and(|s| s.trim_start().starts_with("sym")),
            fields: fields.unwrap_or_default(),
            children: !self.no_children,
            call_graph,
            filter,
            time: self.time.as_deref().map(TimeSpec::parse).transpose()?,
            no_inline: self.no_inline,
            limit: self
                .limit
                .as_deref()
                .map(|l| parse_count("--limit", l))
                .transpose()?,
            percent_limit: self
                .percent_limit
                .as_deref()
                .map(|p| parse_percent("--percent-limit", p))
                .transpose()?
                .unwrap_or(0.0),
            show_nr_samples: self.show_nr_samples,
            max_stack: self
                .max_stack
                .as_deref()
                .map(|m| parse_count("--max-stack", m))
                .transpose()?,
            percentage,
            quiet: self.quiet,
            verbose: self.verbose,
            no_demangle: self.no_demangle,
            no_cache: self.no_cache,
            parent,
            icicle: self.icicle,
            colors: self.colors,
            thread_tid: self.thread_tid,
            stats: self.stats,
            header: self.header,
            debuginfod: super::DebuginfodConfig::from_env(self.offline)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_pids_are_out_of_range_not_not_a_number() {
        let e = ids("pid", "99999999999").expect_err("too big");
        assert!(e.to_string().contains("out of range"), "{e}");
        assert!(ids("pid", "abc")
            .expect_err("nan")
            .to_string()
            .contains("not a number"));
        assert_eq!(ids("pid", "1,2").expect("ok"), vec![1, 2]);
    }

    #[test]
    fn sort_keys_and_fields() {
        assert_eq!(
            parse_keys("cpu,srcline,parent").expect("ok"),
            vec![SortKey::Cpu, SortKey::SrcLine, SortKey::Parent]
        );
        assert!(parse_keys("bogus").is_err());
        assert_eq!(
            parse_fields("overhead,sample,sym").expect("ok"),
            vec![
                TextField::Overhead,
                TextField::Samples,
                TextField::Key(SortKey::Symbol)
            ]
        );
        assert!(parse_fields("overhead,nope").is_err());
    }
}
