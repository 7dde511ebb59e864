//! `lwprof report`: read a perf.data file (lwprof's or perf's) and show
//! where the time went: top entries by self and total, a call graph, or the
//! profile in another tool's format, with perf's flags.
//!
//! Arguments become a `ReportConfig` once ([`args`]); reading is
//! `lwprof_profile::import`, symbolization `lwprof_symbols`, and
//! every format is a writer from `lwprof_output`. Only what the
//! report shows is loaded: no symbols for `-s comm`, no DWARF without
//! inline frames or source lines, no unwinding without stacks.

mod args;
mod callgraph;
mod debuginfod;
mod header;
mod inputs;
mod stats;
mod time;

pub use args::ReportArgs;
pub use debuginfod::DebuginfodConfig;

use anyhow::{bail, Context, Result};
use lwprof_output::{
    writer_for, Format, GraphKey, OutputOptions, TextField, TextOptions, ThreadPrefix,
};
use lwprof_profile::import::{import_all, ImportOptions, ImportedProfile};
use lwprof_profile::model::{Percentage, Regex, SampleFilter, SortKey};
use lwprof_profile::unwind::UnwinderConfig;
use lwprof_profile::SymbolizeProfile;
use lwprof_symbols::{DemangleOptions, SymbolWarning, Symbolizer, SymbolizerConfig};
use std::io::Write;
use std::path::{Path, PathBuf};

use callgraph::CallGraphSpec;
use time::TimeSpec;

/// What `lwprof report` will do.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// The perf.data file (the first, when there are several).
    pub input: PathBuf,
    /// More files given with -i, reported with `input` as one profile.
    pub more_inputs: Vec<PathBuf>,
    /// The format.
    pub format: Format,
    /// Output file; stdout when `None`.
    pub output: Option<PathBuf>,
    /// Entry keys.
    pub keys: Vec<SortKey>,
    /// `--sort` was given and starts with `sym` (perf then leaves the entry
    /// out of its own one-chain graph).
    pub sort_starts_with_sym: bool,
    /// Columns (`-F`); empty is the default set.
    pub fields: Vec<TextField>,
    /// Children column.
    pub children: bool,
    /// Call graphs.
    pub call_graph: CallGraphSpec,
    /// Which samples.
    pub filter: SampleFilter,
    /// `--time`.
    pub time: Option<TimeSpec>,
    /// Collapse inline frames.
    pub no_inline: bool,
    /// Entry limit.
    pub limit: Option<usize>,
    /// `--percent-limit`.
    pub percent_limit: f64,
    /// `-n`.
    pub show_nr_samples: bool,
    /// `--max-stack`.
    pub max_stack: Option<usize>,
    /// `--percentage`.
    pub percentage: Percentage,
    /// `-q`.
    pub quiet: bool,
    /// `-v`: every warning, and what the reader counted.
    pub verbose: bool,
    /// `--no-demangle`.
    pub no_demangle: bool,
    /// `--no-cache`: bypass the symbol cache.
    pub no_cache: bool,
    /// `--parent` pattern.
    pub parent: Regex,
    /// Flame graph icicle.
    pub icicle: bool,
    /// Flame graph palette.
    pub colors: Option<String>,
    /// Folded with tid prefix.
    pub thread_tid: bool,
    /// `--stats`: counts of records by type instead of a profile.
    pub stats: bool,
    /// `--header`: the file's header instead of a profile.
    pub header: bool,
    /// Debug files from debuginfod (none fetched with `--offline`).
    pub debuginfod: DebuginfodConfig,
}

/// What a report needs loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Needs {
    /// Full stacks (DWARF unwinding of `--call-graph dwarf` samples).
    stacks: bool,
    /// Symbol names.
    symbols: bool,
    /// DWARF lines and inline frames.
    dwarf: bool,
}

fn needs(config: &ReportConfig) -> Needs {
    if config.format != Format::Text {
        return Needs {
            stacks: true,
            symbols: true,
            dwarf: !config.no_inline || config.format != Format::Folded,
        };
    }
    let keys = &config.keys;
    let has = |k: SortKey| keys.contains(&k);
    let context = |k: &SortKey| {
        matches!(
            k,
            SortKey::Comm | SortKey::Pid | SortKey::Tid | SortKey::Cpu
        )
    };
    let graphs = config.call_graph.show && lwprof_output::text_graphs_apply(keys);
    let f = &config.filter;
    let symbols = has(SortKey::Symbol)
        || has(SortKey::SrcLine)
        || has(SortKey::SrcFile)
        || has(SortKey::Parent)
        || graphs
        || !f.symbols.is_empty()
        || f.hide_unresolved;
    // Inline frames show in the graphs of symbol entries; the graphs of
    // other entries (`-s comm`) show functions, as perf's do.
    let lines = has(SortKey::SrcLine) || has(SortKey::SrcFile);
    let inline_graphs = graphs
        && has(SortKey::Symbol)
        && (!config.no_inline || config.call_graph.key != GraphKey::Function);
    Needs {
        stacks: !keys.iter().all(context) || symbols,
        symbols,
        dwarf: symbols && (lines || inline_graphs),
    }
}

/// Reads, symbolizes and writes; returns the exit code.
pub fn run(config: ReportConfig) -> Result<u8> {
    let mut inputs = Vec::new();
    for given in std::iter::once(&config.input).chain(&config.more_inputs) {
        let expanded = inputs::expand(given)?;
        if expanded.len() == 1 && !inputs::is_threads_dir(&expanded[0]) {
            check_input(given)?;
        }
        inputs.extend(expanded);
    }
    if inputs.len() > 1 && inputs.iter().any(|p| p == Path::new("-")) {
        bail!("-i -: standard input cannot be read with other inputs (give the files alone, or the stream alone)");
    }
    if inputs.len() > 1 && (config.header || config.stats) {
        bail!(
            "{}: --header and --stats read one file; {} match",
            config.input.display(),
            inputs.len()
        );
    }
    if config.header {
        let path = if inputs::is_threads_dir(&inputs[0]) {
            inputs[0].join("data")
        } else {
            inputs[0].clone()
        };
        return header::run(&path).with_context(|| format!("reading {}", config.input.display()));
    }
    if config.stats {
        return stats::run(&inputs[0])
            .with_context(|| format!("reading {}", config.input.display()));
    }
    let need = needs(&config);
    let demangle = DemangleOptions {
        disabled: config.no_demangle,
        ..DemangleOptions::default()
    };
    // Only a timeline and a time filter need each sample's own time.
    let aggregate = config.format != Format::Firefox && config.time.is_none();
    let (imported, warnings) = load(
        &inputs,
        need,
        aggregate,
        demangle,
        &config.debuginfod,
        !config.no_cache,
    )
    .with_context(|| format!("reading {}", config.input.display()))?;
    report_reader_notes(&imported, &config);
    let shown = if config.verbose { usize::MAX } else { 5 };
    for w in warnings.iter().take(shown) {
        eprintln!("lwprof: note: {w}");
    }
    if warnings.len() > shown {
        eprintln!(
            "lwprof: note: {} more notes about symbols (-v shows them)",
            warnings.len() - shown
        );
    }
    if config.call_graph.branch {
        eprintln!(
            "lwprof: note: -g branch: no branch stacks are shown (this report does not read them)"
        );
    }
    let mut filter = config.filter.clone();
    if let Some(t) = &config.time {
        let (first, last) = sample_span(&imported);
        filter.time_ranges = t.resolve(first, last);
    }
    let opts = output_options(&config, &imported, filter, need)?;
    write_out(
        &imported.profile,
        config.format,
        &opts,
        config.output.as_deref(),
        need.symbols,
    )
}

/// A directory or a FIFO named as the input gets its own message; `-` is
/// standard input, read as a pipe-mode stream.
fn check_input(input: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    if input == Path::new("-") {
        return Ok(());
    }
    let meta = std::fs::metadata(input).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!(
                "{}: no such file (record one with `lwprof record -- CMD`, or name it with -i FILE)",
                input.display()
            )
        } else {
            anyhow::anyhow!("{}: {e}", input.display())
        }
    })?;
    let t = meta.file_type();
    if t.is_dir() {
        bail!(
            "{}: is a directory, not a perf.data file (give the file inside it with -i DIR/FILE)",
            input.display()
        );
    }
    if t.is_fifo() || t.is_socket() || t.is_char_device() {
        bail!(
            "{}: is a pipe or device, not a perf.data file (save the stream to a file first, or read it with -i - < FILE)",
            input.display()
        );
    }
    Ok(())
}

/// The first and last sample times.
fn sample_span(imported: &ImportedProfile) -> (u64, u64) {
    let times = imported.profile.samples().iter().map(|s| s.time);
    let first = times.clone().min().unwrap_or(0);
    let last = times.max().unwrap_or(0);
    (first, last)
}

/// One line for each thing the reader could not use, so nothing is
/// skipped silently.
fn report_reader_notes(imported: &ImportedProfile, config: &ReportConfig) {
    if let Some(damage) = &imported.damage {
        eprintln!("lwprof: warning: {damage}; reporting the samples before it");
    }
    for s in &imported.skipped {
        eprintln!(
            "lwprof: note: skipped {} {} record{} ({})",
            s.count,
            s.name,
            if s.count == 1 { "" } else { "s" },
            s.why
        );
    }
    if let Some(note) = imported.order_note() {
        eprintln!("lwprof: note: {note}");
    }
    let st = &imported.stats;
    if st.bad_records > 0 {
        eprintln!(
            "lwprof: warning: {} records could not be parsed and were skipped (a damaged file?)",
            st.bad_records
        );
    }
    if st.unknown_ids > 0 {
        eprintln!(
            "lwprof: warning: {} counter values name an event id the file does not declare; skipped",
            st.unknown_ids
        );
    }
    if st.implausible_periods > 0 {
        eprintln!(
            "lwprof: warning: {} samples have implausible periods (up to {}): the file may be \
             damaged; totals are capped rather than wrapped",
            st.implausible_periods, st.max_period
        );
    }
    if config.verbose {
        eprintln!(
            "lwprof: note: {} records, {} samples, {} lost (LOST {}, LOST_SAMPLES {}), {} throttled",
            st.records, st.samples, st.lost, st.lost_records, st.lost_samples, st.throttles
        );
    }
}

/// Columns a filter leaves one value in are shown as a `# key: value`
/// heading instead, as perf does.
fn elided(config: &ReportConfig) -> Vec<(SortKey, String)> {
    let f = &config.filter;
    let mut out = Vec::new();
    for (key, list) in [
        (SortKey::Comm, &f.comms),
        (SortKey::Dso, &f.dsos),
        (SortKey::Symbol, &f.symbols),
    ] {
        if let [one] = list.as_slice() {
            if config.keys.contains(&key) {
                out.push((key, one.clone()));
            }
        }
    }
    out
}

fn output_options(
    config: &ReportConfig,
    imported: &ImportedProfile,
    filter: SampleFilter,
    need: Needs,
) -> Result<OutputOptions> {
    let cg = &config.call_graph;
    let mut opts = OutputOptions {
        filter,
        no_inline: config.no_inline || !need.dwarf,
        command: profiled_command(imported.features.cmdline.as_deref()),
        text: TextOptions {
            children: config.children,
            call_graph: cg.show,
            threshold_percent: cg.threshold,
            graph_mode: cg.mode,
            graph_order: cg.order,
            graph_key: cg.key,
            graph_value: cg.value,
            print_limit: cg.print_limit,
            limit: config.limit,
            keys: config.keys.clone(),
            fields: config.fields.clone(),
            show_nr_samples: config.show_nr_samples,
            percent_limit: config.percent_limit,
            percentage: config.percentage,
            max_stack: config.max_stack,
            quiet: config.quiet,
            elided: elided(config),
            parent_pattern: config.parent.as_str().to_string(),
            skip_entry_in_graph: config.sort_starts_with_sym && config.fields.is_empty(),
        },
        ..OutputOptions::default()
    };
    opts.flamegraph.icicle = config.icicle;
    if let Some(c) = &config.colors {
        opts.flamegraph.colors = c
            .parse()
            .map_err(|e| anyhow::anyhow!("--colors {c}: {e}"))?;
    }
    if config.thread_tid {
        opts.folded.thread_prefix = ThreadPrefix::CommTid;
    }
    Ok(opts)
}

fn write_out(
    profile: &lwprof_profile::Profile,
    format: Format,
    opts: &OutputOptions,
    output: Option<&Path>,
    symbols: bool,
) -> Result<u8> {
    let writer = writer_for(format)
        .with_context(|| format!("this lwprof was built without the {format} output format"))?;
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
    match note {
        // A report that needs no names (`-s comm`) has none on purpose.
        Some(lwprof_output::OutputNote::NoSymbols { .. }) if !symbols => {}
        Some(n) => eprintln!("lwprof: {n}"),
        None => {}
    }
    Ok(0)
}

/// Reads a perf.data file and symbolizes what `need` asks for; returns the
/// profile and the symbolizer's warnings.
fn load(
    paths: &[PathBuf],
    need: Needs,
    aggregate_samples: bool,
    demangle: DemangleOptions,
    fetch: &DebuginfodConfig,
    symbol_cache: bool,
) -> Result<(ImportedProfile, Vec<SymbolWarning>)> {
    let mut imported = import_all(
        paths,
        ImportOptions {
            dwarf: need.stacks.then(UnwinderConfig::default),
            aggregate_samples,
            ..ImportOptions::default()
        },
    )?;
    if !need.symbols {
        return Ok((imported, Vec::new()));
    }
    let cache_dir = lwprof_symbols::default_cache_dir();
    let mut symbolizer = Symbolizer::new(SymbolizerConfig {
        dwarf: need.dwarf,
        demangle,
        symbol_cache: cache_dir
            .as_deref()
            .filter(|_| symbol_cache)
            .map(lwprof_symbols::symbol_cache_dir),
        cache_dir,
        debuginfod_cache: fetch.cache.clone(),
        ..SymbolizerConfig::default()
    });
    if let Some(client) = &fetch.client {
        debuginfod::fetch_missing(&symbolizer, &imported.profile, client);
    }
    symbolizer.symbolize_profile(&mut imported.profile);
    let warnings = symbolizer.warnings().to_vec();
    Ok((imported, warnings))
}

/// `lwprof record --format F`: write the just-recorded profile.
pub fn write_profile_after_record(
    data: &Path,
    format: Format,
    out: Option<&Path>,
    fetch: &DebuginfodConfig,
) -> Result<()> {
    let default_name;
    let out = match out {
        Some(p) => Some(p),
        None if matches!(format, Format::Text | Format::Folded | Format::Json) => None,
        None => {
            default_name = PathBuf::from(format!("profile.{}", format.extension()));
            Some(default_name.as_path())
        }
    };
    let need = Needs {
        stacks: true,
        symbols: true,
        dwarf: true,
    };
    let (imported, _) = load(
        &[data.to_path_buf()],
        need,
        format != Format::Firefox,
        DemangleOptions::default(),
        fetch,
        true,
    )?;
    let opts = OutputOptions {
        command: profiled_command(imported.features.cmdline.as_deref()),
        ..OutputOptions::default()
    };
    write_out(&imported.profile, format, &opts, out, true)?;
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
