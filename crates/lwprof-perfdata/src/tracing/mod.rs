//! The TRACING_DATA feature of perf.data: the tracefs files that describe
//! the recorded tracepoints, which perf needs to read a file with a
//! tracepoint event at all and to print the fields of its samples.
//!
//! The section is the blob of perf's `trace-event-info.c`, in the byte order
//! its endianness byte names:
//!
//! ```text
//! "\x17\x08\x44tracing"  version "0.6\0"  endian u8  long size u8  page size u32
//! "header_page\0"  u64 size + events/header_page
//! "header_event\0" u64 size + events/header_event
//! u32 count, per ftrace event: u64 size + format file
//! u32 count, per subsystem: "name\0", u32 count, per event: u64 size + format file
//! u32 size + kallsyms (perf now writes size 0)
//! u32 size + printk_formats
//! u64 size + saved_cmdlines (version 0.6 and later)
//! ```
//!
//! - [`build`] lays the blob out from file contents (pure); reading them from
//!   tracefs is `lwprof_events::tracefs::Tracefs::tracing_files`.
//! - [`TracingData::parse`] reads a blob, ours or perf's, and parses every
//!   event `format` file into an [`EventFormat`] (fields with offset, size,
//!   signedness and C type; the print format), with no I/O.
//!
//! Not here: decoding a sample's raw bytes with a format, evaluating print
//! formats, and the kallsyms / printk contents beyond keeping their bytes.

mod build;
mod format;
mod parse;

pub use build::{build, TracingHost};
pub use format::{parse_format, EventFormat, FormatField};

/// The first ten bytes of the blob ("someone's birthday", says perf).
pub const TRACING_MAGIC: &[u8; 10] = b"\x17\x08\x44tracing";
/// The version lwprof writes: the one with saved command lines, as perf 6.1.
pub const TRACING_VERSION: &str = "0.6";

/// Why a tracing-data blob cannot be read or written. Offsets are from the
/// start of the blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TracingDataError {
    /// Something extends past the end of the blob.
    #[error("tracing data: {what} at offset {offset:#x} needs {needed} bytes but only {available} remain")]
    Truncated {
        /// What was being read.
        what: String,
        /// Its offset in the blob.
        offset: usize,
        /// Bytes it needs.
        needed: u64,
        /// Bytes there are.
        available: usize,
    },
    /// A value that cannot be right.
    #[error("tracing data: {what} at offset {offset:#x}: {detail}")]
    Corrupt {
        /// What was being read.
        what: String,
        /// Its offset in the blob.
        offset: usize,
        /// What was found and what was expected.
        detail: String,
    },
    /// A file too large for its size field (writing).
    #[error("tracing data: {what} is {len} bytes, more than its {bits}-bit size field holds")]
    TooLarge {
        /// Which file.
        what: String,
        /// Its length.
        len: usize,
        /// Width of the size field.
        bits: u32,
    },
}

impl TracingDataError {
    /// The blob offset the error is about (`None` when writing).
    pub fn offset(&self) -> Option<usize> {
        match self {
            TracingDataError::Truncated { offset, .. }
            | TracingDataError::Corrupt { offset, .. } => Some(*offset),
            TracingDataError::TooLarge { .. } => None,
        }
    }

    /// The message without the offset (for a caller that names the offset
    /// in the file instead).
    pub fn detail(&self) -> String {
        match self {
            TracingDataError::Truncated {
                what,
                needed,
                available,
                ..
            } => format!("{what} needs {needed} bytes but only {available} remain"),
            TracingDataError::Corrupt { what, detail, .. } => format!("{what}: {detail}"),
            TracingDataError::TooLarge { .. } => self.to_string(),
        }
    }
}

/// A parsed TRACING_DATA blob. It keeps the bytes it was parsed from, which
/// are what a writer puts back into a file (so nothing is lost or rewritten
/// differently); the accessors give the parsed view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracingData {
    pub(crate) bytes: Vec<u8>,
    pub(crate) version: String,
    pub(crate) big_endian: bool,
    pub(crate) long_size: u8,
    pub(crate) page_size: u32,
    pub(crate) header_page: Vec<u8>,
    pub(crate) header_event: Vec<u8>,
    pub(crate) ftrace_formats: Vec<EventFormat>,
    pub(crate) event_formats: Vec<EventFormat>,
    pub(crate) kallsyms: Vec<u8>,
    pub(crate) printk_formats: Vec<u8>,
    pub(crate) saved_cmdlines: Vec<u8>,
    pub(crate) unread: usize,
}

impl TracingData {
    /// The blob, exactly as parsed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The version string ("0.6").
    pub fn version(&self) -> &str {
        &self.version
    }
    /// Whether the recording machine was big-endian (event fields are in
    /// its byte order).
    pub fn big_endian(&self) -> bool {
        self.big_endian
    }
    /// `sizeof(long)` of the recording machine.
    pub fn long_size(&self) -> u8 {
        self.long_size
    }
    /// The recording machine's page size.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
    /// `events/header_page` as recorded.
    pub fn header_page(&self) -> &[u8] {
        &self.header_page
    }
    /// `events/header_event` as recorded.
    pub fn header_event(&self) -> &[u8] {
        &self.header_event
    }
    /// The formats of ftrace's own events (system "ftrace").
    pub fn ftrace_formats(&self) -> &[EventFormat] {
        &self.ftrace_formats
    }
    /// The formats of the other events, in file order.
    pub fn event_formats(&self) -> &[EventFormat] {
        &self.event_formats
    }
    /// Every format, ftrace's first.
    pub fn formats(&self) -> impl Iterator<Item = &EventFormat> {
        self.ftrace_formats.iter().chain(&self.event_formats)
    }
    /// The format of the tracepoint with this id (`perf_event_attr.config`).
    pub fn format_by_id(&self, id: u64) -> Option<&EventFormat> {
        self.formats().find(|f| f.id == id)
    }
    /// The format of `system:name`.
    pub fn format(&self, system: &str, name: &str) -> Option<&EventFormat> {
        self.formats()
            .find(|f| f.system == system && f.name == name)
    }
    /// The kallsyms copy (empty in files of current perf and of lwprof).
    pub fn kallsyms(&self) -> &[u8] {
        &self.kallsyms
    }
    /// `printk_formats` as recorded.
    pub fn printk_formats(&self) -> &[u8] {
        &self.printk_formats
    }
    /// `saved_cmdlines` as recorded (empty before version 0.6).
    pub fn saved_cmdlines(&self) -> &[u8] {
        &self.saved_cmdlines
    }
    /// Bytes after the last part this version defines, which a reader does
    /// not use (0 in files of perf and lwprof).
    pub fn unread_bytes(&self) -> usize {
        self.unread
    }
}

#[cfg(test)]
pub(crate) mod tests;
