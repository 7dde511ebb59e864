//! The errors of event specifications: parsing, resolution, sysfs and tracefs.
//!
//! Every message is one line that names the offending text and says what
//! would fix it; columns are 1-based character positions in the whole spec.

use std::io;
use std::path::PathBuf;

/// Formats a list of names as `'a', 'b'`.
pub(crate) fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", quoted_list(suggestions))
    }
}

/// What is wrong with an event specification, or with the sysfs and tracefs
/// trees it was resolved against.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec (or an item of its list) is empty.
    #[error("empty event at column {column} in '{spec}'; remove the stray comma or name an event (run `lwprof list`)")]
    EmptyEvent {
        /// The whole spec.
        spec: String,
        /// Where the empty item is.
        column: usize,
    },
    /// A `{` without `}`, or a `}` without `{`.
    #[error("unbalanced '{brace}' at column {column} in '{spec}'; groups are written `{{a,b}}`")]
    UnbalancedBrace {
        /// The whole spec.
        spec: String,
        /// The brace at fault.
        brace: char,
        /// Where it is.
        column: usize,
    },
    /// `{}`.
    #[error("empty group at column {column} in '{spec}'; put at least one event inside the braces, e.g. `{{cpu-clock,page-faults}}`")]
    EmptyGroup {
        /// The whole spec.
        spec: String,
        /// Where the group opens.
        column: usize,
    },
    /// A group inside a group.
    #[error("nested group at column {column} in '{spec}'; groups cannot contain groups, flatten it into one `{{a,b,c}}`")]
    NestedGroup {
        /// The whole spec.
        spec: String,
        /// Where the inner group opens.
        column: usize,
    },
    /// Text after a group's `}` that is not `:modifiers`.
    #[error("unexpected '{text}' after a group at column {column}; a group may only be followed by `:modifiers` and a comma")]
    AfterGroup {
        /// The unexpected text.
        text: String,
        /// Where it starts.
        column: usize,
    },
    /// A modifier letter perf does not know, or too many `p`.
    #[error("bad modifier '{modifier}' in '{event}' at column {column}: {reason}; modifiers are u k h G H p pp ppp P S D e I W")]
    BadModifier {
        /// The event (or group) text with its modifiers.
        event: String,
        /// The offending modifier text.
        modifier: String,
        /// Where it is.
        column: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An event name that is not known.
    #[error(
        "unknown event '{name}'{}{}",
        did_you_mean(suggestions),
        " (run `lwprof list`)"
    )]
    UnknownEvent {
        /// The name as typed.
        name: String,
        /// The closest known names.
        suggestions: Vec<String>,
    },
    /// A raw event with a bad hex number.
    #[error("bad raw event '{text}': {reason}; write it as r<hex>, e.g. r1a8")]
    BadRaw {
        /// The event text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// `pmu/.../` with a syntax error inside.
    #[error("bad PMU event '{text}' at column {column}: {reason}; write it as pmu/key=value,flag/ (e.g. cpu/event=0x3c,umask=0x00/)")]
    BadPmuSyntax {
        /// The event text.
        text: String,
        /// Where the problem is.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// No PMU of this name under the sysfs root.
    #[error("unknown PMU '{pmu}' in '{event}'{}; the PMUs here are {}", did_you_mean(suggestions), available.join(", "))]
    UnknownPmu {
        /// The event text.
        event: String,
        /// The PMU name.
        pmu: String,
        /// The closest PMU names.
        suggestions: Vec<String>,
        /// Every PMU of this machine.
        available: Vec<String>,
    },
    /// A key inside `pmu//` that is neither a format term, an alias nor a
    /// common keyword.
    #[error("unknown term '{key}' for PMU '{pmu}' in '{event}'; valid terms are {}", valid.join(", "))]
    UnknownTerm {
        /// The event text.
        event: String,
        /// The PMU name.
        pmu: String,
        /// The key as typed.
        key: String,
        /// The format terms, aliases and keywords this PMU accepts.
        valid: Vec<String>,
    },
    /// A value that does not fit the bits of its format field.
    #[error("value {value:#x} of '{key}' does not fit its {bits}-bit field ({format}) in '{event}'; the largest is {max:#x}")]
    ValueTooWide {
        /// The event text.
        event: String,
        /// The term key.
        key: String,
        /// The value.
        value: u64,
        /// The format as in sysfs, e.g. `config:0-7`.
        format: String,
        /// How many bits it has.
        bits: u32,
        /// The largest value that fits.
        max: u64,
    },
    /// A term value that is not a number, or a keyword used wrongly.
    #[error("bad term '{term}' in '{event}': {reason}")]
    BadTerm {
        /// The event text.
        event: String,
        /// The term text.
        term: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A sysfs `format/` file that cannot be parsed.
    #[error("bad PMU format {path}: '{content}' ({reason}); expected e.g. config:0-7,21")]
    BadFormat {
        /// The file.
        path: PathBuf,
        /// Its content.
        content: String,
        /// What is wrong.
        reason: String,
    },
    /// `mem:...` that is not a valid breakpoint.
    #[error(
        "bad breakpoint '{text}': {reason}; write it as mem:ADDR[/LEN][:rwx] (LEN 1, 2, 4 or 8)"
    )]
    BadBreakpoint {
        /// The event text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A tracepoint that tracefs does not have.
    #[error(
        "unknown tracepoint '{subsystem}:{name}'{}; run `lwprof list '{subsystem}:*'`",
        did_you_mean(suggestions)
    )]
    UnknownTracepoint {
        /// The subsystem.
        subsystem: String,
        /// The tracepoint name.
        name: String,
        /// The closest tracepoints.
        suggestions: Vec<String>,
    },
    /// A tracepoint glob that matches nothing.
    #[error("no tracepoint matches '{pattern}'; run `lwprof list tracepoint` to see them")]
    NoTracepointMatch {
        /// The glob.
        pattern: String,
    },
    /// A tracepoint was asked for but no tracefs is available.
    #[error("'{event}' needs tracefs, which is not mounted at /sys/kernel/tracing or /sys/kernel/debug/tracing; run `mount -t tracefs nodev /sys/kernel/tracing` as root")]
    NoTracefs {
        /// The event text.
        event: String,
    },
    /// Reading sysfs or tracefs failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Mounting tracefs failed.
    #[error("mounting tracefs at {path}: {source}; mount it by hand with `mount -t tracefs nodev {}` as root", path.display())]
    Mount {
        /// The mount point.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl SpecError {
    /// Wraps an I/O error with the path being read.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        SpecError::Io {
            path: path.into(),
            source,
        }
    }
}
