//! Errors of perf.data reading and writing. Every variant about file content
//! names the file offset and what was expected there.

use std::path::PathBuf;

/// What went wrong with a perf.data file.
#[derive(Debug, thiserror::Error)]
pub enum PerfDataError {
    /// An I/O call failed.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file (empty when writing to a caller-supplied stream).
        path: PathBuf,
        /// What we were doing, e.g. "reading the attribute section".
        action: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The first 8 bytes are not "PERFILE2".
    #[error(
        "{path}: not a perf.data file: the magic at offset 0 is {found:?}, expected \"PERFILE2\""
    )]
    NotPerfData {
        /// The file.
        path: PathBuf,
        /// The 8 bytes found.
        found: String,
    },
    /// A pipe-mode stream written on a machine of the other byte order
    /// (files of the other byte order are read).
    #[error("{path}: a pipe-mode stream of the other byte order (magic \"2ELIFREP\"); such streams are not read, save it with `perf inject -o FILE` on its machine")]
    ByteSwapped {
        /// The file.
        path: PathBuf,
    },
    /// A pipe-mode stream (`perf record -o -`), which has no sections.
    #[error("{path}: pipe-mode perf.data (header size {header_size} at offset 8, expected 104) is not supported")]
    PipeMode {
        /// The file.
        path: PathBuf,
        /// The header size field.
        header_size: u64,
    },
    /// The header was never finalized: the recording did not finish.
    #[error("{path}: the header was never finalized (data size 0, no feature sections, but {data_bytes} bytes follow the data offset {data_offset:#x}); the recording did not finish; `lwprof report` reads the records it holds")]
    Unfinished {
        /// The file.
        path: PathBuf,
        /// Where the data section starts.
        data_offset: u64,
        /// Bytes after the data offset.
        data_bytes: u64,
    },
    /// Something extends beyond the end of the file or of its section.
    #[error("{path}: {what} at offset {offset:#x} needs {needed} bytes but only {available} remain{hint}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read, e.g. "record" or "feature section table".
        what: String,
        /// Its file offset.
        offset: u64,
        /// Bytes it needs.
        needed: u64,
        /// Bytes there are.
        available: u64,
        /// Extra explanation, e.g. " in the data section (file truncated?)".
        hint: String,
    },
    /// A value that cannot be right (a record smaller than its header, an
    /// attribute of unknown size, a string without its terminator).
    #[error("{path}: corrupt {what} at offset {offset:#x}: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What was being read.
        what: String,
        /// Its file offset.
        offset: u64,
        /// What was found and what was expected.
        detail: String,
    },
    /// The caller handed the writer something it cannot write.
    #[error("perf.data writer: {0}")]
    InvalidInput(String),
    /// A walk over the records was started while another one was under way
    /// on the same reader (API misuse).
    #[error("perf.data reader: a walk over the records is already under way; finish it before starting another")]
    WalkInProgress,
    /// A pipe-mode stream was walked a second time (it is read once).
    #[error("{path}: the stream was already read (a pipe-mode stream is read once)")]
    StreamConsumed {
        /// The stream.
        path: PathBuf,
    },
}

impl PerfDataError {
    pub(crate) fn io(
        path: &std::path::Path,
        action: impl Into<String>,
        source: std::io::Error,
    ) -> Self {
        PerfDataError::Io {
            path: path.to_path_buf(),
            action: action.into(),
            source,
        }
    }

    /// The file offset the error is about, when it is about file content.
    pub fn offset(&self) -> Option<u64> {
        match self {
            PerfDataError::Truncated { offset, .. } | PerfDataError::Corrupt { offset, .. } => {
                Some(*offset)
            }
            PerfDataError::NotPerfData { .. }
            | PerfDataError::ByteSwapped { .. }
            | PerfDataError::PipeMode { .. } => Some(0),
            PerfDataError::Unfinished { data_offset, .. } => Some(*data_offset),
            PerfDataError::Io { .. }
            | PerfDataError::InvalidInput(_)
            | PerfDataError::WalkInProgress
            | PerfDataError::StreamConsumed { .. } => None,
        }
    }
}
