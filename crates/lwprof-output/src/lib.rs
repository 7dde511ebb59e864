#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// A build with only some formats leaves some shared helpers unused; the
// default build (every format) is linted in full.
#![cfg_attr(
    not(all(
        feature = "text",
        feature = "folded",
        feature = "flamegraph",
        feature = "pprof",
        feature = "firefox",
        feature = "json"
    )),
    allow(unused_imports, dead_code)
)]

//! # Formats
//!
//! - [`Format::Text`]: `perf report --stdio` layout (top functions by
//!   children/self, optional call-graph tree under each entry).
//! - [`Format::Folded`]: one line per unique stack, `frame;frame;leaf count`,
//!   for inferno, flamegraph.pl and speedscope.
//! - [`Format::Flamegraph`]: an interactive SVG drawn by inferno.
//! - [`Format::Pprof`]: gzip-compressed `profile.proto` for `go tool pprof`,
//!   Grafana Pyroscope and Parca.
//! - [`Format::Firefox`]: the Firefox Profiler's processed format.
//! - [`Format::Json`]: lwprof's own documented schema of the aggregated
//!   profile (see [`json`]).
//!
//! Writers only write: they take an already symbolized profile and never
//! open files, symbolize or filter beyond [`OutputOptions::filter`]. A
//! profile with no samples or no symbols still gives a well-formed file, and
//! the writer returns an [`OutputNote`] saying so.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use lwprof_profile::model::{
    DsoId, FrameMode, Profile, SampleFilter, SampleKind, StackFrame, StackId,
};

#[cfg(feature = "firefox")]
mod firefox;
#[cfg(feature = "flamegraph")]
mod flamegraph;
#[cfg(feature = "folded")]
mod folded;
#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "pprof")]
mod pprof;
pub mod script;
#[cfg(feature = "text")]
mod text;

#[cfg(feature = "firefox")]
pub use firefox::FirefoxWriter;
#[cfg(feature = "flamegraph")]
pub use flamegraph::FlamegraphWriter;
#[cfg(feature = "folded")]
pub use folded::FoldedWriter;
#[cfg(feature = "json")]
pub use json::JsonWriter;
#[cfg(feature = "pprof")]
pub use pprof::{pprof_profile, proto as pprof_proto, PprofWriter};
#[cfg(feature = "text")]
pub use text::{graphs_apply as text_graphs_apply, TextWriter};

/// An output format of `lwprof report --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `perf report --stdio`-like text.
    Text,
    /// Folded stacks (`frame;frame;leaf count`).
    Folded,
    /// An interactive flame graph SVG.
    Flamegraph,
    /// gzip-compressed pprof `profile.proto`.
    Pprof,
    /// Firefox Profiler processed-profile JSON.
    Firefox,
    /// lwprof's JSON schema of the aggregated profile.
    Json,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 6] = [
        Format::Text,
        Format::Folded,
        Format::Flamegraph,
        Format::Pprof,
        Format::Firefox,
        Format::Json,
    ];

    /// The name used on the command line (`text`, `folded`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Folded => "folded",
            Format::Flamegraph => "flamegraph",
            Format::Pprof => "pprof",
            Format::Firefox => "firefox",
            Format::Json => "json",
        }
    }

    /// The usual file extension (`txt`, `folded`, `svg`, `pb.gz`, `json`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Folded => "folded",
            Format::Flamegraph => "svg",
            Format::Pprof => "pb.gz",
            Format::Firefox => "json",
            Format::Json => "json",
        }
    }

    /// True for formats that are not text (should not go to a terminal).
    pub fn is_binary(self) -> bool {
        self == Format::Pprof
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown name given to [`Format::from_str`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown output format '{0}' (expected one of: text, folded, flamegraph, pprof, firefox, json)"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parse a format name; also accepts `svg`, `collapsed`, `fxprof`,
    /// `firefox-profiler` and `stdio`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "text" | "stdio" => Format::Text,
            "folded" | "collapsed" => Format::Folded,
            "flamegraph" | "svg" => Format::Flamegraph,
            "pprof" => Format::Pprof,
            "firefox" | "fxprof" | "firefox-profiler" => Format::Firefox,
            "json" => Format::Json,
            _ => return Err(UnknownFormat(s.to_string())),
        })
    }
}

/// The writer for a format; `None` when this build left the format's cargo
/// feature out.
pub fn writer_for(format: Format) -> Option<Box<dyn ProfileWriter>> {
    Some(match format {
        #[cfg(feature = "text")]
        Format::Text => Box::new(TextWriter),
        #[cfg(feature = "folded")]
        Format::Folded => Box::new(FoldedWriter),
        #[cfg(feature = "flamegraph")]
        Format::Flamegraph => Box::new(FlamegraphWriter),
        #[cfg(feature = "pprof")]
        Format::Pprof => Box::new(PprofWriter),
        #[cfg(feature = "firefox")]
        Format::Firefox => Box::new(FirefoxWriter),
        #[cfg(feature = "json")]
        Format::Json => Box::new(JsonWriter),
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// Writes a profile in one format.
pub trait ProfileWriter {
    /// The format this writer produces.
    fn format(&self) -> Format;

    /// Write `profile` to `out`. Returns a one-line note when the output is
    /// degenerate (no samples, no symbols) but still well-formed.
    fn write(
        &self,
        profile: &Profile,
        opts: &OutputOptions,
        out: &mut dyn Write,
    ) -> Result<Option<OutputNote>, OutputError>;
}

/// Options shared by every writer, and a section per format.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputOptions {
    /// Which samples to write.
    pub filter: SampleFilter,
    /// Charge inlined code to the function it was inlined into (drop inline
    /// frames).
    pub no_inline: bool,
    /// The recorded command line, for titles (`sleep 1`); defaults to the
    /// most sampled thread name.
    pub command: Option<String>,
    /// A title that replaces the default `<command> - <event>`.
    pub title: Option<String>,
    /// Wall-clock time of the first sample (ns since the Unix epoch), for
    /// pprof's `time_nanos` and the Firefox Profiler's start time; 0 when
    /// unknown.
    pub start_time_unix_ns: Option<u64>,
    /// Text writer options.
    pub text: TextOptions,
    /// Folded-stack options (also used by the flame graph).
    pub folded: FoldedOptions,
    /// Flame graph options.
    pub flamegraph: FlamegraphOptions,
}

/// Options of the text writer (`perf report --stdio` layout).
#[derive(Clone, Debug, PartialEq)]
pub struct TextOptions {
    /// Show the Children column and order by it (perf's `--children`,
    /// the default when stacks were recorded); else one Overhead column of
    /// self weight.
    pub children: bool,
    /// Print a call-graph tree under each entry.
    pub call_graph: bool,
    /// Drop call-graph branches under this percentage of the total (perf's
    /// `-g graph,0.5`; of the parent's weight with [`GraphMode::Fractal`]).
    pub threshold_percent: f64,
    /// How call graphs are drawn (perf's `-g` print type).
    pub graph_mode: GraphMode,
    /// Caller or callee order; `None` is perf's default: caller with the
    /// Children column, callee without.
    pub graph_order: Option<lwprof_profile::model::CallGraphOrder>,
    /// What tells call-graph nodes apart (perf's `-g` sort key).
    pub graph_key: GraphKey,
    /// What the numbers of a call graph show (perf's `-g` value).
    pub graph_value: GraphValue,
    /// Print at most this many branches under a node (or chains, flat and
    /// folded), perf's `-g` print limit.
    pub print_limit: Option<usize>,
    /// Print at most this many entries per event.
    pub limit: Option<usize>,
    /// What an entry is (perf's `--sort`): default comm, dso, symbol.
    pub keys: Vec<lwprof_profile::model::SortKey>,
    /// The columns (perf's `-F`); empty is the default set.
    pub fields: Vec<TextField>,
    /// Add a Samples column (perf's `-n`).
    pub show_nr_samples: bool,
    /// Hide entries under this percentage (perf's `--percent-limit`).
    pub percent_limit: f64,
    /// What percentages are relative to (perf's `--percentage`).
    pub percentage: lwprof_profile::model::Percentage,
    /// Use at most this many frames of each stack, from the leaf.
    pub max_stack: Option<usize>,
    /// Print the entries only, without the `#` header lines (perf's `-q`).
    pub quiet: bool,
    /// Columns not printed because a filter leaves one value, with that
    /// value (perf prints `# comm: NAME` instead).
    pub elided: Vec<(lwprof_profile::model::SortKey, String)>,
    /// The pattern of the `parent` sort key (a regex; perf's `--parent`).
    pub parent_pattern: String,
    /// Do not draw an entry's own frame at the top of its call graph when
    /// the graph is one chain: perf's rule when `--sort` starts with `sym`
    /// (the frame is the entry printed just above).
    pub skip_entry_in_graph: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        Self {
            children: true,
            call_graph: true,
            threshold_percent: 0.5,
            graph_mode: GraphMode::Graph,
            graph_order: None,
            graph_key: GraphKey::Function,
            graph_value: GraphValue::Percent,
            print_limit: None,
            limit: None,
            keys: vec![
                lwprof_profile::model::SortKey::Comm,
                lwprof_profile::model::SortKey::Dso,
                lwprof_profile::model::SortKey::Symbol,
            ],
            fields: Vec::new(),
            show_nr_samples: false,
            percent_limit: 0.0,
            percentage: lwprof_profile::model::Percentage::Absolute,
            max_stack: None,
            quiet: false,
            elided: Vec::new(),
            parent_pattern: lwprof_profile::model::DEFAULT_PARENT_PATTERN.to_string(),
            skip_entry_in_graph: false,
        }
    }
}

/// How a call graph is drawn (perf's `-g` print types).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GraphMode {
    /// A tree; percentages of the event total.
    #[default]
    Graph,
    /// A tree; percentages of the parent node.
    Fractal,
    /// Every chain in full, each with its percentage.
    Flat,
    /// Every chain on one line, `pct a;b;c`.
    Folded,
}

/// What tells call-graph nodes apart (perf's `-g` sort key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GraphKey {
    /// The function.
    #[default]
    Function,
    /// The code address: one node per address, named `function file:line`.
    Address,
    /// The source line: one node per line, named `function file:line`.
    Srcline,
}

/// What the numbers of a call graph show (perf's `-g` value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GraphValue {
    /// Percentages.
    #[default]
    Percent,
    /// Summed periods (weights).
    Period,
    /// Numbers of samples.
    Count,
}

/// A column of the text report (perf's `-F` output fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextField {
    /// Self share (`Overhead`, or `Self` beside `Children`).
    Overhead,
    /// Total share (`Children`).
    Children,
    /// The part of the self share sampled in the kernel (`sys`).
    OverheadSys,
    /// The part sampled in user space (`usr`).
    OverheadUs,
    /// Self samples (`Samples`).
    Samples,
    /// Self period (`Period`).
    Period,
    /// A sort key's column.
    Key(lwprof_profile::model::SortKey),
}

/// What to put in front of each folded stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThreadPrefix {
    /// Nothing: the root frame comes first.
    None,
    /// The thread name at sample time (`app;main;foo 3`), as
    /// `inferno-collapse-perf` does.
    #[default]
    Comm,
    /// Thread name and ids (`app-10/11;main;foo 3`).
    CommTid,
}

/// What the count of a folded line adds up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FoldedCount {
    /// Number of samples.
    #[default]
    Samples,
    /// Sum of sample weights (period: ns for cpu-clock; off-CPU ns).
    Weight,
}

/// Options of the folded-stack writer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FoldedOptions {
    /// The first frame of each line.
    pub thread_prefix: ThreadPrefix,
    /// Append the DSO to each frame (`memcpy [libc.so.6]`).
    pub include_dso: bool,
    /// What the count adds up.
    pub count: FoldedCount,
}

/// How flame graph frames are colored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlameColors {
    /// inferno's classic "hot" palette.
    #[default]
    Hot,
    /// One hue per DSO (kernel frames in orange).
    Dso,
    /// inferno's Rust palette (std/core/alloc apart from user code).
    Rust,
    /// inferno's Java palette.
    Java,
    /// inferno's JavaScript palette.
    Js,
    /// inferno's Python palette.
    Python,
    /// inferno's Perl palette.
    Perl,
}

impl FromStr for FlameColors {
    type Err = String;

    /// `hot`, `dso`, `rust`, `java`, `js`, `python` or `perl`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "hot" => FlameColors::Hot,
            "dso" => FlameColors::Dso,
            "rust" => FlameColors::Rust,
            "java" => FlameColors::Java,
            "js" => FlameColors::Js,
            "python" => FlameColors::Python,
            "perl" => FlameColors::Perl,
            other => {
                return Err(format!(
                    "unknown flame graph colors '{other}' (expected hot, dso, rust, java, js, python or perl)"
                ))
            }
        })
    }
}

/// Options of the flame graph writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlamegraphOptions {
    /// How frames are colored.
    pub colors: FlameColors,
    /// Draw an icicle graph (roots at the top, stacks grow down).
    pub icicle: bool,
    /// Image width in pixels.
    pub width: usize,
}

impl Default for FlamegraphOptions {
    fn default() -> Self {
        Self {
            colors: FlameColors::default(),
            icicle: false,
            width: 1200,
        }
    }
}

/// Why an output is degenerate (it is still well-formed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputNote {
    /// No sample passed the filter: the file has no stacks.
    NoSamples {
        /// The format written.
        format: Format,
    },
    /// No frame of the written samples was symbolized: names are addresses.
    NoSymbols {
        /// The format written.
        format: Format,
        /// How many distinct frames were written.
        frames: usize,
    },
}

impl fmt::Display for OutputNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputNote::NoSamples { format } => write!(
                f,
                "{format} output is empty: no samples (check the recording or the filter)"
            ),
            OutputNote::NoSymbols { format, frames } => write!(
                f,
                "{format} output has no symbols: all {frames} frames are shown as addresses (missing binaries or debug info?)"
            ),
        }
    }
}

/// A writer failure.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Writing to the output failed.
    #[error("writing {format} output: {source}")]
    Io {
        /// The format being written.
        format: Format,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// JSON serialization failed.
    #[cfg(any(feature = "json", feature = "firefox"))]
    #[error("writing {format} output as JSON: {source}")]
    Json {
        /// The format being written.
        format: Format,
        /// The serializer error.
        #[source]
        source: serde_json::Error,
    },
}

impl OutputError {
    pub(crate) fn io(format: Format) -> impl FnOnce(std::io::Error) -> OutputError {
        move |source| OutputError::Io { format, source }
    }

    #[cfg(any(feature = "json", feature = "firefox"))]
    pub(crate) fn json(format: Format) -> impl FnOnce(serde_json::Error) -> OutputError {
        move |source| OutputError::Json { format, source }
    }
}

/// The note for what a writer wrote: no samples, or samples whose frames are
/// all unresolved.
pub(crate) fn note_for(
    profile: &Profile,
    opts: &OutputOptions,
    format: Format,
) -> Option<OutputNote> {
    let mut any_sample = false;
    let mut seen = rustc_hash::FxHashSet::default();
    let mut any_resolved = false;
    let mut stacks_seen = rustc_hash::FxHashSet::default();
    for s in profile.filtered_samples(&opts.filter) {
        any_sample = true;
        if !stacks_seen.insert(s.stack) {
            continue;
        }
        for sf in profile.stack_frames(s.stack, !opts.no_inline) {
            if seen.insert(sf.frame) && profile.frame(sf.frame).resolved {
                any_resolved = true;
            }
        }
        if any_resolved {
            return None;
        }
    }
    if !any_sample {
        Some(OutputNote::NoSamples { format })
    } else if !seen.is_empty() {
        Some(OutputNote::NoSymbols {
            format,
            frames: seen.len(),
        })
    } else {
        None
    }
}

#[cfg(any(feature = "json", feature = "firefox", feature = "folded"))]
/// The frames of a stack, root first.
pub(crate) fn frames_root_first(
    profile: &Profile,
    stack: Option<StackId>,
    no_inline: bool,
) -> Vec<StackFrame> {
    let mut v: Vec<StackFrame> = profile.stack_frames(stack, !no_inline).collect();
    v.reverse();
    v
}

#[cfg(any(feature = "text", feature = "json", feature = "folded"))]
/// A DSO's short name, `[unknown]` for none (as perf and
/// [`Profile::top`] show it).
pub(crate) fn dso_name(profile: &Profile, dso: Option<DsoId>) -> &str {
    dso.map_or("[unknown]", |d| profile.dso(d).short_name())
}

#[cfg(any(feature = "text", feature = "flamegraph", feature = "firefox"))]
/// The name of an event section: the event, with ` (off-cpu)` for off-CPU
/// samples.
pub(crate) fn section_name(profile: &Profile, event: usize, kind: SampleKind) -> String {
    let name = profile
        .events()
        .get(event)
        .map_or("unknown", String::as_str);
    match kind {
        SampleKind::OnCpu => name.to_string(),
        SampleKind::OffCpu => format!("{name} (off-cpu)"),
    }
}

#[cfg(any(feature = "flamegraph", feature = "firefox"))]
/// The default title: `<command> - <event>`.
pub(crate) fn default_title(profile: &Profile, opts: &OutputOptions) -> String {
    if let Some(t) = &opts.title {
        return t.clone();
    }
    let command = opts
        .command
        .clone()
        .unwrap_or_else(|| main_comm(profile, opts));
    let mut events: Vec<String> = Vec::new();
    for s in profile.filtered_samples(&opts.filter) {
        let name = section_name(profile, s.event.index(), s.kind);
        if !events.contains(&name) {
            events.push(name);
        }
    }
    if events.is_empty() {
        events = profile.events().to_vec();
    }
    if command.is_empty() {
        events.join(", ")
    } else if events.is_empty() {
        command
    } else {
        format!("{command} - {}", events.join(", "))
    }
}

#[cfg(any(feature = "flamegraph", feature = "firefox"))]
/// The most sampled thread name.
pub(crate) fn main_comm(profile: &Profile, opts: &OutputOptions) -> String {
    let mut counts: rustc_hash::FxHashMap<lwprof_profile::model::StrId, u64> = Default::default();
    for s in profile.filtered_samples(&opts.filter) {
        if let Some(c) = s.comm {
            *counts.entry(c).or_default() += u64::from(s.count);
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.first()
        .map(|(c, _)| profile.string(*c).to_string())
        .unwrap_or_default()
}

#[cfg(feature = "text")]
/// The perf-style `[.]` / `[k]` marker of a frame's mode.
pub(crate) fn mode_marker(mode: FrameMode) -> &'static str {
    match mode {
        FrameMode::User => "[.]",
        FrameMode::Kernel => "[k]",
    }
}
