//! `lwprof report`: read a perf.data file (lwprof's or perf's) and show
//! where the time went: top functions by self and total, a call graph, or
//! the profile in another tool's format.
//!
//! Arguments become a `ReportConfig` once; reading is
//! `lwprof_profile::import`, symbolization `lwprof_profile::symbols`, and
//! every format is a writer from `lwprof_profile::output`.

use anyhow::{bail, Context, Result};
use lwprof_profile::import::{import, ImportOptions};
use lwprof_profile::model::{SampleFilter, SortKey};
use lwprof_profile::output::{writer_for, Format, OutputOptions};
use lwprof_profile::symbols::{Symbolizer, SymbolizerConfig};
use lwprof_profile::unwind::UnwinderConfig;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `lwprof report`, as typed.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  lwprof report\n  lwprof report --no-children --sort dso,sym\n  lwprof report --format flamegraph -o flame.svg\n  lwprof report --comm myprog --time 0.5,2.5 --call-graph graph,1"
)]
pub struct ReportArgs {
    /// The perf.data file to read.
    #[arg(
        short = 'i',
        long = "input",
        value_name = "FILE",
        default_value = "perf.data"
    )]
    input: PathBuf,
    /// Output format: text, folded, flamegraph, pprof, firefox, json.
    #[arg(long = "format", value_name = "FORMAT", default_value = "text")]
    format: String,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Entries are: comma-separated keys from sym(bol), dso, comm, pid, tid
    /// (thread = tid).
    #[arg(short = 's', long = "sort", value_name = "KEYS")]
    sort: Option<String>,
    /// Show only self time (one Overhead column).
    #[arg(long = "no-children")]
    no_children: bool,
    /// Call graph under each entry (the call chains that lead to it, and
    /// what it calls): graph or none, and a percentage threshold under which
    /// branches are dropped (e.g. graph,0.5).
    #[arg(short = 'g', long = "call-graph", value_name = "MODE[,PCT]")]
    call_graph: Option<String>,
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
    #[arg(long = "dso", value_name = "DSOS")]
    dso: Option<String>,
    /// Only samples in this time range, in seconds from the first sample:
    /// START,END (either may be empty).
    #[arg(long = "time", value_name = "START,END")]
    time: Option<String>,
    /// Charge inlined functions to the function they were inlined into.
    #[arg(long = "no-inline")]
    no_inline: bool,
    /// Show at most N entries.
    #[arg(long = "limit", value_name = "N")]
    limit: Option<usize>,
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
}

/// Call-graph display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallGraphConfig {
    /// Show graphs at all.
    pub show: bool,
    /// Drop branches under this percentage.
    pub threshold: f64,
}

/// What `lwprof report` will do.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// The perf.data file.
    pub input: PathBuf,
    /// The format.
    pub format: Format,
    /// Output file; stdout when `None`.
    pub output: Option<PathBuf>,
    /// Entry keys.
    pub keys: Vec<SortKey>,
    /// Children column.
    pub children: bool,
    /// Call graphs.
    pub call_graph: CallGraphConfig,
    /// Which samples.
    pub filter: SampleFilter,
    /// Time range in seconds from the first sample.
    pub time: (Option<f64>, Option<f64>),
    /// Collapse inline frames.
    pub no_inline: bool,
    /// Entry limit.
    pub limit: Option<usize>,
    /// Flame graph icicle.
    pub icicle: bool,
    /// Flame graph palette.
    pub colors: Option<String>,
    /// Folded with tid prefix.
    pub thread_tid: bool,
}

fn list<T: std::str::FromStr>(what: &str, s: &str) -> Result<Vec<T>> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            x.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("--{what} {s}: '{x}' is not a number"))
        })
        .collect()
}

fn parse_keys(s: &str) -> Result<Vec<SortKey>> {
    s.split(',')
        .map(|k| match k.trim() {
            "sym" | "symbol" => Ok(SortKey::Symbol),
            "dso" => Ok(SortKey::Dso),
            "comm" => Ok(SortKey::Comm),
            "pid" => Ok(SortKey::Pid),
            "tid" | "thread" => Ok(SortKey::Tid),
            other => bail!("--sort {s}: unknown key '{other}'; use sym, dso, comm, pid or tid"),
        })
        .collect()
}

impl ReportArgs {
    /// Validates the arguments into a plain config.
    pub fn into_config(self) -> Result<ReportConfig> {
        let format: Format = self.format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
        let keys = match &self.sort {
            Some(s) => parse_keys(s)?,
            None => vec![SortKey::Comm, SortKey::Dso, SortKey::Symbol],
        };
        let call_graph = match self.call_graph.as_deref() {
            None => CallGraphConfig {
                show: true,
                threshold: 0.5,
            },
            Some(spec) => {
                let mut parts = spec.split(',');
                let mode = parts.next().unwrap_or("");
                let threshold = match parts.next() {
                    Some(t) => t
                        .parse::<f64>()
                        .ok()
                        .filter(|t| (0.0..=100.0).contains(t))
                        .ok_or_else(|| anyhow::anyhow!("--call-graph {spec}: the threshold must be a percentage from 0 to 100"))?,
                    None => 0.5,
                };
                match mode {
                    "none" => CallGraphConfig {
                        show: false,
                        threshold,
                    },
                    "graph" | "caller" | "" => CallGraphConfig {
                        show: true,
                        threshold,
                    },
                    other => {
                        bail!("--call-graph {spec}: unknown mode '{other}'; use graph or none")
                    }
                }
            }
        };
        let time = match &self.time {
            None => (None, None),
            Some(t) => {
                let (a, b) = t.split_once(',').ok_or_else(|| {
                    anyhow::anyhow!("--time {t}: give START,END in seconds from the first sample (e.g. 0.5,2 or ,3)")
                })?;
                let p = |x: &str| -> Result<Option<f64>> {
                    if x.trim().is_empty() {
                        return Ok(None);
                    }
                    x.trim().parse::<f64>().map(Some).map_err(|_| {
                        anyhow::anyhow!("--time {t}: '{x}' is not a number of seconds")
                    })
                };
                (p(a)?, p(b)?)
            }
        };
        let filter = SampleFilter {
            pids: self
                .pid
                .as_deref()
                .map(|s| list("pid", s))
                .transpose()?
                .unwrap_or_default(),
            tids: self
                .tid
                .as_deref()
                .map(|s| list("tid", s))
                .transpose()?
                .unwrap_or_default(),
            comms: self
                .comm
                .as_deref()
                .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
                .unwrap_or_default(),
            dsos: self
                .dso
                .as_deref()
                .map(|s| s.split(',').map(|x| x.trim().to_string()).collect())
                .unwrap_or_default(),
            ..SampleFilter::default()
        };
        Ok(ReportConfig {
            input: self.input,
            format,
            output: self.output,
            keys,
            children: !self.no_children,
            call_graph,
            filter,
            time,
            no_inline: self.no_inline,
            limit: self.limit,
            icicle: self.icicle,
            colors: self.colors,
            thread_tid: self.thread_tid,
        })
    }
}

/// Reads, symbolizes and writes; returns the exit code.
pub fn run(config: ReportConfig) -> Result<u8> {
    if !config.input.exists() {
        bail!(
            "{}: no such file (record one with `lwprof record -- CMD`, or name it with -i FILE)",
            config.input.display()
        );
    }
    // The text report shows no source lines: without inline frames it needs
    // no DWARF at all, only symbol tables.
    let dwarf = !(config.no_inline && config.format == Format::Text);
    let (imported, warnings) = load_symbolized(&config.input, dwarf)
        .with_context(|| format!("reading {}", config.input.display()))?;
    if let Some(damage) = &imported.damage {
        eprintln!("lwprof: warning: {damage}; reporting the samples before it");
    }
    for w in warnings.iter().take(5) {
        eprintln!("lwprof: note: {w}");
    }
    let mut filter = config.filter.clone();
    if config.time != (None, None) {
        let first = imported
            .profile
            .samples()
            .iter()
            .map(|s| s.time)
            .min()
            .unwrap_or(0);
        let at = |s: f64| first + (s * 1e9) as u64;
        filter.time_start = config.time.0.map(at);
        filter.time_end = config.time.1.map(at);
    }
    let mut opts = OutputOptions {
        filter,
        no_inline: config.no_inline,
        command: profiled_command(imported.features.cmdline.as_deref()),
        ..OutputOptions::default()
    };
    opts.text.children = config.children;
    opts.text.call_graph = config.call_graph.show;
    opts.text.threshold_percent = config.call_graph.threshold;
    opts.text.limit = config.limit;
    opts.text.keys = config.keys.clone();
    opts.flamegraph.icicle = config.icicle;
    if let Some(c) = &config.colors {
        opts.flamegraph.colors = c
            .parse()
            .map_err(|e| anyhow::anyhow!("--colors {c}: {e}"))?;
    }
    if config.thread_tid {
        opts.folded.thread_prefix = lwprof_profile::output::ThreadPrefix::CommTid;
    }
    write_out(
        &imported.profile,
        config.format,
        &opts,
        config.output.as_deref(),
    )
}

fn write_out(
    profile: &lwprof_profile::Profile,
    format: Format,
    opts: &OutputOptions,
    output: Option<&Path>,
) -> Result<u8> {
    let writer = writer_for(format);
    let note = match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let note = writer.write(profile, opts, &mut out)?;
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
            note
        }
        None => {
            if format.is_binary() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                bail!(
                    "--format {}: binary output will not be written to a terminal; add -o FILE (e.g. -o profile.{})",
                    format.name(),
                    format.extension()
                );
            }
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let note = writer.write(profile, opts, &mut out)?;
            out.flush()?;
            note
        }
    };
    if let Some(n) = note {
        eprintln!("lwprof: {n}");
    }
    Ok(0)
}

/// Reads a perf.data file (DWARF-unwinding samples that carry a stack copy)
/// and symbolizes it, with DWARF line and inline information when `dwarf`;
/// returns the profile and the symbolizer's warnings.
fn load_symbolized(
    path: &Path,
    dwarf: bool,
) -> Result<(
    lwprof_profile::import::ImportedProfile,
    Vec<lwprof_profile::symbols::SymbolWarning>,
)> {
    let mut imported = import(
        path,
        ImportOptions {
            dwarf: Some(UnwinderConfig::default()),
        },
    )?;
    let mut symbolizer = Symbolizer::new(SymbolizerConfig {
        dwarf,
        cache_dir: lwprof_profile::symbols::default_cache_dir(),
        ..SymbolizerConfig::default()
    });
    symbolizer.symbolize_profile(&mut imported.profile);
    let warnings = symbolizer.warnings().to_vec();
    Ok((imported, warnings))
}

/// `lwprof record --format F`: write the just-recorded profile.
pub fn write_profile_after_record(data: &Path, format: &str, out: Option<&Path>) -> Result<()> {
    let format: Format = format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let default_name;
    let out = match out {
        Some(p) => Some(p),
        None if matches!(format, Format::Text | Format::Folded | Format::Json) => None,
        None => {
            default_name = PathBuf::from(format!("profile.{}", format.extension()));
            Some(default_name.as_path())
        }
    };
    let (imported, _) = load_symbolized(data, true)?;
    let opts = OutputOptions {
        command: profiled_command(imported.features.cmdline.as_deref()),
        ..OutputOptions::default()
    };
    write_out(&imported.profile, format, &opts, out)?;
    if let Some(p) = out {
        eprintln!(
            "[ lwprof record: wrote the {} profile to {} ]",
            format.name(),
            p.display()
        );
    }
    Ok(())
}

/// The profiled command from a recorder's command line (`lwprof record ...
/// -- CMD ARGS` or `perf record ... -- CMD`): what follows `--`, else the
/// whole line.
fn profiled_command(cmdline: Option<&[String]>) -> Option<String> {
    let c = cmdline?;
    let after = c.iter().position(|a| a == "--").map_or(c, |i| &c[i + 1..]);
    let words: Vec<String> = after
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                // The program's file name, not its full path.
                Path::new(w)
                    .file_name()
                    .map_or(w.clone(), |n| n.to_string_lossy().into_owned())
            } else {
                w.clone()
            }
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}
