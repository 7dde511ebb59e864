//! The tracefs files that describe tracepoints (their `format` files, the
//! ring-page and event headers, printk formats, saved command lines): what
//! `lwprof-events` reads from tracefs and `lwprof-perfdata` stores as the
//! TRACING_DATA feature (or the pipe-mode HEADER_TRACING_DATA record).
//!
//! Plain data only: reading tracefs is `lwprof_events::tracefs`, encoding
//! and parsing the blob is `lwprof_perfdata::tracing`.

/// The tracefs files that describe some tracepoints, as read (the input of
/// perf.data's TRACING_DATA feature). See `lwprof_events::tracefs::Tracefs::tracing_files`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TracingFiles {
    /// `events/header_page`: the layout of a ring-buffer page.
    pub header_page: Vec<u8>,
    /// `events/header_event`: the layout of an event header.
    pub header_event: Vec<u8>,
    /// `events/ftrace/<name>/format` of the ftrace events among them.
    pub ftrace_formats: Vec<Vec<u8>>,
    /// The other subsystems, sorted, each with its events' `format` files.
    pub systems: Vec<SystemFormats>,
    /// `printk_formats`: addresses and texts of `trace_printk` formats.
    pub printk_formats: Vec<u8>,
    /// `saved_cmdlines`: pid to command name, as ftrace saved them.
    pub saved_cmdlines: Vec<u8>,
    /// Optional files that could not be read, with why (left empty above).
    pub unreadable: Vec<String>,
}

/// One subsystem's `format` files, in [`TracingFiles`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemFormats {
    /// The subsystem (`sched`).
    pub system: String,
    /// `events/<system>/<name>/format` of each of its events, sorted by name.
    pub formats: Vec<Vec<u8>>,
}
