//! Why a record could not be parsed.

use std::fmt;

/// A record type number (`perf_event_header.type`), printed by its perf name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordType(pub u32);

impl RecordType {
    /// The name perf uses (`"SAMPLE"`, `"MMAP2"`, ...), or `None` for a type
    /// this parser does not know.
    pub fn name(self) -> Option<&'static str> {
        crate::abi::record_type::name(self.0)
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "PERF_RECORD_{name}"),
            None => write!(f, "record type {}", self.0),
        }
    }
}

/// A record that is truncated or malformed.
///
/// Offsets count from the first byte of the record header, so they can be
/// added to the record's position in a ring or a perf.data file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The bytes end before a field does.
    #[error(
        "{record}: field `{field}` at byte {offset} needs {needed} bytes but only {available} remain \
         (truncated record, or a sample_type/read_format that does not match the event)"
    )]
    Truncated {
        /// The record being parsed.
        record: RecordType,
        /// The field that did not fit.
        field: &'static str,
        /// Its byte offset within the record.
        offset: usize,
        /// Bytes the field needs (`usize::MAX` when a count overflows).
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The header's `size` disagrees with the bytes given.
    #[error(
        "{record}: header size {size} is invalid for {available} bytes of record data \
         (must be at least 8 and at most the data length)"
    )]
    BadSize {
        /// The record type from the header.
        record: RecordType,
        /// The size the header claims.
        size: u16,
        /// Bytes actually available.
        available: usize,
    },
}
