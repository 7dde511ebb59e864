//! The errors of event specifications: parsing, resolution, sysfs and tracefs.
//!
//! Every message is one line that names the offending text and says what
//! would fix it; columns are 1-based character positions in the whole spec.

use std::io;
use std::path::PathBuf;

/// Most characters of user text an error message echoes: a mistyped
/// 100,000-character event list gets one readable line.
const ECHO_MAX: usize = 80;

/// `s` as an error message echoes it: control characters escaped (a
/// message stays one line), cut to [`ECHO_MAX`] characters with the length
/// it had.
pub(crate) fn cut(s: &str) -> std::borrow::Cow<'_, str> {
    let n = s.chars().count();
    if n <= ECHO_MAX && !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut head = String::new();
    for c in s.chars().take(ECHO_MAX) {
        if c.is_control() {
            head.extend(c.escape_default());
        } else {
            head.push(c);
        }
    }
    if n > ECHO_MAX {
        head.push_str(&format!("... ({n} characters)"));
    }
    std::borrow::Cow::Owned(head)
}

/// Formats a list of names as `'a', 'b'`.
pub(crate) fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{}'", cut(n)))
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
    /// A control character (a newline, a tab) in the spec.
    #[error("control character {} at column {column} in '{spec_}'; event lists are printable text", character.escape_default(), spec_ = cut(.spec))]
    ControlCharacter {
        /// The whole spec.
        spec: String,
        /// 1-based character position.
        column: usize,
        /// The character.
        character: char,
    },
    /// The spec (or an item of its list) is empty.
    #[error("empty event at column {column} in '{spec_}'; remove the stray comma or name an event (run `lwprof list`)", spec_ = cut(.spec))]
    EmptyEvent {
        /// The whole spec.
        spec: String,
        /// Where the empty item is.
        column: usize,
    },
    /// A `{` without `}`, or a `}` without `{`.
    #[error("unbalanced '{brace}' at column {column} in '{spec_}'; groups are written `{{a,b}}`", spec_ = cut(.spec))]
    UnbalancedBrace {
        /// The whole spec.
        spec: String,
        /// The brace at fault.
        brace: char,
        /// Where it is.
        column: usize,
    },
    /// `{}`.
    #[error("empty group at column {column} in '{spec_}'; put at least one event inside the braces, e.g. `{{cpu-clock,page-faults}}`", spec_ = cut(.spec))]
    EmptyGroup {
        /// The whole spec.
        spec: String,
        /// Where the group opens.
        column: usize,
    },
    /// A group inside a group.
    #[error("nested group at column {column} in '{spec_}'; groups cannot contain groups, flatten it into one `{{a,b,c}}`", spec_ = cut(.spec))]
    NestedGroup {
        /// The whole spec.
        spec: String,
        /// Where the inner group opens.
        column: usize,
    },
    /// Text after a group's `}` that is not `:modifiers`.
    #[error("unexpected '{text_}' after a group at column {column}; a group may only be followed by `:modifiers` and a comma", text_ = cut(.text))]
    AfterGroup {
        /// The unexpected text.
        text: String,
        /// Where it starts.
        column: usize,
    },
    /// A modifier letter perf does not know, or too many `p`.
    #[error("bad modifier '{modifier_}' in '{event_}' at column {column}: {reason}; modifiers are u k h G H p pp ppp P S D e I W", event_ = cut(.event), modifier_ = cut(.modifier))]
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
        "unknown event '{name_}'{}{}",
        did_you_mean(suggestions),
        " (run `lwprof list`)", name_ = cut(.name))]
    UnknownEvent {
        /// The name as typed.
        name: String,
        /// The closest known names.
        suggestions: Vec<String>,
    },
    /// A raw event with a bad hex number.
    #[error("bad raw event '{text_}': {reason}; write it as r<hex>, e.g. r1a8", text_ = cut(.text))]
    BadRaw {
        /// The event text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// `pmu/.../` with a syntax error inside.
    #[error("bad PMU event '{text_}' at column {column}: {reason}; write it as pmu/key=value,flag/ (e.g. cpu/event=0x3c,umask=0x00/)", text_ = cut(.text))]
    BadPmuSyntax {
        /// The event text.
        text: String,
        /// Where the problem is.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// No PMU of this name under the sysfs root.
    #[error("unknown PMU '{pmu_}' in '{event_}'{}; the PMUs here are {}", did_you_mean(suggestions), available.join(", "), event_ = cut(.event), pmu_ = cut(.pmu))]
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
    #[error("unknown term '{key_}' for PMU '{pmu_}' in '{event_}'; valid terms are {}", valid.join(", "), event_ = cut(.event), key_ = cut(.key), pmu_ = cut(.pmu))]
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
    #[error("value {value:#x} of '{key_}' does not fit its {bits}-bit field ({format}) in '{event_}'; the largest is {max:#x}", event_ = cut(.event), key_ = cut(.key))]
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
    #[error("bad term '{term_}' in '{event_}': {reason}", event_ = cut(.event), term_ = cut(.term))]
    BadTerm {
        /// The event text.
        event: String,
        /// The term text.
        term: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A sysfs `format/` file that cannot be parsed.
    #[error("bad PMU format {path}: '{content_}' ({reason}); expected e.g. config:0-7,21", content_ = cut(.content))]
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
        "bad breakpoint '{text_}': {reason}; write it as mem:ADDR[/LEN][:rwx] (LEN 1, 2, 4 or 8)", text_ = cut(.text))]
    BadBreakpoint {
        /// The event text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// A tracepoint that tracefs does not have.
    #[error(
        "unknown tracepoint '{subsystem_}:{name_}'{}; run `lwprof list '{subsystem_}:*'`",
        did_you_mean(suggestions), name_ = cut(.name), subsystem_ = cut(.subsystem))]
    UnknownTracepoint {
        /// The subsystem.
        subsystem: String,
        /// The tracepoint name.
        name: String,
        /// The closest tracepoints.
        suggestions: Vec<String>,
    },
    /// A (subsystem, name) pair given to [`crate::Tracefs::tracing_files`]
    /// that cannot name a tracepoint (empty, a `/`, or a leading `.`).
    #[error("'{subsystem_}:{name_}' is not a tracepoint name; write it as subsystem:name, without '/' or a leading '.'", subsystem_ = cut(.subsystem), name_ = cut(.name))]
    BadTracepointName {
        /// The subsystem as given.
        subsystem: String,
        /// The name as given.
        name: String,
    },
    /// A tracepoint glob that matches nothing.
    #[error("no tracepoint matches '{pattern_}'; run `lwprof list tracepoint` to see them", pattern_ = cut(.pattern))]
    NoTracepointMatch {
        /// The glob.
        pattern: String,
    },
    /// A tracepoint was asked for but no tracefs is available.
    #[error("'{event_}' needs tracefs, which is not mounted at /sys/kernel/tracing or /sys/kernel/debug/tracing; run `mount -t tracefs nodev /sys/kernel/tracing` as root", event_ = cut(.event))]
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
