#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod abi;
pub mod builder;
pub mod raw;
pub mod record;
pub mod tracing_files;

pub use builder::RecordBuilder;
pub use raw::RawData;
pub use record::{
    parse_record, CpuMode, Endianness, ParseError, RawRecord, Record, RecordHeader,
    RecordParseInfo, RecordParser, SampleRecord,
};
