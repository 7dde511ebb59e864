#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

//! # Layout
//!
//! The perf.data file format (the "PERFILE2" file mode of Linux perf):
//! a 104-byte header, the attribute section (one `perf_event_attr` plus a
//! pointer to its id array per event), the data section (records exactly as
//! the kernel wrote them into the ring), then the feature section table and
//! the feature sections (host facts, build ids, event names, and for
//! tracepoint events the [`tracing`] data: their format files).
//!
//! - [`PerfDataWriter`] streams ring records into a file and finalizes the
//!   header on [`PerfDataWriter::finish`]; a file whose header was never
//!   finalized is detected by the reader and can be fixed with [`repair`].
//! - [`PerfDataFile`] reads the header, attributes and features and walks the
//!   data section in file order, handing out [`FileRecord`]s with the index
//!   of the attribute they belong to. Damage stops the walk with an error
//!   that names the file offset; the records before it have been handed out.
//!
//! `PERF_RECORD_COMPRESSED` and `COMPRESSED2` records (`perf record -z`)
//! are decompressed while walking ([`compressed`]), and written with
//! [`PerfDataWriter::with_compression`]. [`PipeWriter`] writes pipe mode
//! (`perf record -o -`): the short header, then the attributes, features
//! and tracing data as records, then the data.
//!
//! - [`PipeDataFile`] reads a pipe-mode stream (16-byte header, then only
//!   records) from any `Read`; [`PerfDataInput`] opens an `-i` argument as
//!   either reader (`-` is standard input).
//!
//! Deliberately not here: record *content* parsing (`lwprof-records` does
//! that), symbols, the profile model and output formats. Files of the
//! other byte order are read (records are handed out as they are, with
//! [`PerfDataFile::endianness`]); pipe-mode streams of the other byte order
//! are not.

mod attr;
mod clock;
mod compress;
pub mod compressed;
mod error;
mod features;
mod host;
mod input;
mod layout;
mod pipe;
mod pipe_read;
mod reader;
mod stage;
pub mod tracing;
mod walk;
mod writer;

pub use attr::{attr_from_bytes, attr_to_native, default_event_name, file_attr_bytes, EventAttr};
pub use clock::{ClockData, TimeConv};
pub use compress::Compression;
pub use error::PerfDataError;
pub use features::{name as feature_name, BuildIdEntry, CpuTopology, Features, NrCpus};
pub use input::{PerfDataInput, StreamSource};
pub use pipe::PipeWriter;
pub use pipe_read::{is_pipe_header, PipeDataFile, PIPE_HEADER_SIZE};
pub use reader::{FileHeader, FileRecord, PerfDataFile, RecordReader, RecordWalk, SourceRef};
pub use stage::WriteFailure;
pub use writer::{repair, PartialFeatures, PartialFile, PerfDataWriter, RepairReport};

/// Size of the file header (`struct perf_file_header`).
pub const HEADER_SIZE: u64 = 104;
/// The magic value "PERFILE2" as perf writes it: a native-endian u64.
pub const MAGIC: u64 = 0x3245_4c49_4652_4550;

/// Feature bits of the header bitmap (`HEADER_*` in perf's header.h).
pub mod feature {
    /// Tracepoint format data.
    pub const TRACING_DATA: u32 = 1;
    /// Build ids of the binaries that have samples.
    pub const BUILD_ID: u32 = 2;
    /// uname -n.
    pub const HOSTNAME: u32 = 3;
    /// uname -r.
    pub const OSRELEASE: u32 = 4;
    /// The recording tool's version.
    pub const VERSION: u32 = 5;
    /// uname -m.
    pub const ARCH: u32 = 6;
    /// CPUs available and online.
    pub const NRCPUS: u32 = 7;
    /// CPU model name.
    pub const CPUDESC: u32 = 8;
    /// CPU identifier (x86: vendor,family,model,stepping).
    pub const CPUID: u32 = 9;
    /// Total memory in kB.
    pub const TOTAL_MEM: u32 = 10;
    /// The recording command line.
    pub const CMDLINE: u32 = 11;
    /// Attributes, names and ids of the events.
    pub const EVENT_DESC: u32 = 12;
    /// Core and thread siblings, core/socket/die ids.
    pub const CPU_TOPOLOGY: u32 = 13;
    /// NUMA nodes.
    pub const NUMA_TOPOLOGY: u32 = 14;
    /// Branch stack sampling was used.
    pub const BRANCH_STACK: u32 = 15;
    /// PMU type numbers and names.
    pub const PMU_MAPPINGS: u32 = 16;
    /// Event groups.
    pub const GROUP_DESC: u32 = 17;
    /// AUX area tracing info.
    pub const AUXTRACE: u32 = 18;
    /// perf stat record.
    pub const STAT: u32 = 19;
    /// CPU caches.
    pub const CACHE: u32 = 20;
    /// Times of the first and last sample.
    pub const SAMPLE_TIME: u32 = 21;
    /// Memory topology.
    pub const MEM_TOPOLOGY: u32 = 22;
    /// Resolution of the clock used for timestamps.
    pub const CLOCKID: u32 = 23;
    /// Directory format.
    pub const DIR_FORMAT: u32 = 24;
    /// zstd-compressed records: codec, level, ratio, decompression buffer.
    pub const COMPRESSED: u32 = 27;
    /// Clock conversion data (wall clock vs the event clock).
    pub const CLOCK_DATA: u32 = 29;
    /// One past the last bit of the 256-bit feature bitmap.
    pub const BITMAP_BITS: u32 = 256;
}
