//! The `-i` input of a report: a perf.data file, a saved pipe-mode stream,
//! or standard input (`-`), behind one type with the reader's API. It only
//! chooses the reader; it reads nothing itself.

use super::error::PerfDataError;
use super::features::Features;
use super::pipe_read::{is_pipe_header, PipeDataFile};
use super::reader::{FileRecord, PerfDataFile, RecordWalk};
use super::EventAttr;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// A source of records that is not seekable: standard input or a FIFO.
pub type StreamSource = Box<dyn Read + Send>;

/// An opened `-i` input. Both readers are large; they are boxed.
#[derive(Debug)]
pub enum PerfDataInput {
    /// A perf.data file with sections.
    File(Box<PerfDataFile<File>>),
    /// A pipe-mode stream: standard input, a FIFO, or a saved stream.
    Pipe(Box<PipeDataFile<StreamSource>>),
}

impl PerfDataInput {
    /// Opens `path`: `-` is standard input, read as a pipe-mode stream; a
    /// FIFO is read as a stream too; a file with the 16-byte pipe-mode header
    /// is read as a stream, any other as [`PerfDataFile::open`] does (an
    /// unfinished one fails with [`PerfDataError::Unfinished`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PerfDataError> {
        Self::open_impl(path.as_ref(), false)
    }

    /// Like [`open`](Self::open), reading an unfinished file as
    /// [`PerfDataFile::open_unfinished`] does.
    pub fn open_unfinished(path: impl AsRef<Path>) -> Result<Self, PerfDataError> {
        Self::open_impl(path.as_ref(), true)
    }

    fn open_impl(path: &Path, unfinished: bool) -> Result<Self, PerfDataError> {
        let (mut file, path) = if path == Path::new("-") {
            // Standard input redirected from a file can seek: read it as a
            // file (either format); a pipe is read as a stream.
            let redirected = File::open("/dev/stdin")
                .ok()
                .filter(|f| f.metadata().is_ok_and(|m| m.is_file()));
            let Some(file) = redirected else {
                let stdin: StreamSource = Box::new(std::io::stdin());
                return PipeDataFile::from_reader(stdin, "standard input")
                    .map(|p| Self::Pipe(Box::new(p)));
            };
            (file, Path::new("standard input"))
        } else {
            let file = File::open(path).map_err(|e| PerfDataError::io(path, "opening", e))?;
            (file, path)
        };
        let regular = file
            .metadata()
            .map_err(|e| PerfDataError::io(path, "reading the file type", e))?
            .is_file();
        if !regular {
            let stream: StreamSource = Box::new(file);
            return PipeDataFile::from_reader(stream, path).map(|p| Self::Pipe(Box::new(p)));
        }
        let mut head = Vec::with_capacity(16);
        (&mut file)
            .take(16)
            .read_to_end(&mut head)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .map_err(|e| PerfDataError::io(path, "reading the header", e))?;
        if is_pipe_header(&head) {
            let stream: StreamSource = Box::new(file);
            return PipeDataFile::from_reader(stream, path).map(|p| Self::Pipe(Box::new(p)));
        }
        let read = if unfinished {
            PerfDataFile::from_reader_unfinished(file, path)
        } else {
            PerfDataFile::from_reader(file, path)
        };
        read.map(|f| Self::File(Box::new(f)))
    }

    /// True for a pipe-mode stream.
    pub fn is_pipe(&self) -> bool {
        matches!(self, Self::Pipe(_))
    }

    /// The input's name.
    pub fn path(&self) -> &Path {
        match self {
            Self::File(f) => f.path(),
            Self::Pipe(p) => p.path(),
        }
    }

    /// The events.
    pub fn attrs(&self) -> &[EventAttr] {
        match self {
            Self::File(f) => f.attrs(),
            Self::Pipe(p) => p.attrs(),
        }
    }

    /// The features.
    pub fn features(&self) -> &Features {
        match self {
            Self::File(f) => f.features(),
            Self::Pipe(p) => p.features(),
        }
    }

    /// Feature sections or records that could not be read.
    pub fn feature_errors(&self) -> &[PerfDataError] {
        match self {
            Self::File(f) => f.feature_errors(),
            Self::Pipe(p) => p.feature_errors(),
        }
    }

    /// The byte order of the records.
    pub fn endianness(&self) -> lwprof_records::Endianness {
        match self {
            Self::File(f) => f.endianness(),
            Self::Pipe(p) => p.endianness(),
        }
    }

    /// True when a file's header was never finalized.
    pub fn is_unfinished(&self) -> bool {
        match self {
            Self::File(f) => f.is_unfinished(),
            Self::Pipe(_) => false,
        }
    }

    /// Every record in stream order (a stream only once); see
    /// [`PerfDataFile::for_each_record`].
    pub fn for_each_record(&self, f: impl FnMut(&FileRecord<'_>)) -> RecordWalk {
        match self {
            Self::File(file) => file.for_each_record(f),
            Self::Pipe(p) => p.for_each_record(f),
        }
    }
}
