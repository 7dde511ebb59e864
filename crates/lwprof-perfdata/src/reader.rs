//! Reading perf.data (perf's and ours): header, attributes with ids and
//! names, feature sections, and a walk over the data section in file order.
//!
//! Written here rather than with the linux-perf-data crate because that
//! crate fails wholesale on a truncated file (it reads every feature section,
//! which sit after the data, before handing out any record), reorders
//! records by time, drops the records of the round in progress on an error,
//! and its errors carry no file offset. lwprof needs the records before the
//! damage and an error that says where the damage is.

use super::attr::{attr_from_bytes, attr_to_native, default_event_name, ATTR_SIZE_VER0};
use super::error::PerfDataError;
use super::features::{decode_event_desc, decode_into, name as feature_name, Bytes, Features};
use super::layout::AttrResolver;
use super::walk::{resolved_record, Walker};
use super::{feature, EventAttr, HEADER_SIZE, MAGIC};
use lwprof_records::abi::record_type::{AUXTRACE as RECORD_AUXTRACE, SAMPLE as RECORD_SAMPLE};
use lwprof_records::Endianness;
use std::cell::{RefCell, RefMut};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Record types from here on are garbage: the kernel's are below 64 and
/// perf's own (64..) stop well before 128.
const MAX_RECORD_TYPE: u32 = 128;

/// `PERF_RECORD_HEADER_TRACING_DATA` (pipe mode): its payload follows it.
pub(crate) const RECORD_HEADER_TRACING_DATA: u32 = 66;

/// The most bytes a record's trailing payload (AUX data, tracing data) may
/// claim: a stream has no end to check a bogus size against, and a read of
/// that size would allocate it first.
const MAX_TRAILING: u64 = 1 << 32;

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The fixed file header (`struct perf_file_header`). Sections are
/// (file offset, size in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// Bytes per entry of the attribute section (attr + ids section).
    pub attr_size: u64,
    /// The attribute section.
    pub attrs: (u64, u64),
    /// The data section: the records.
    pub data: (u64, u64),
    /// The obsolete event-types section (zero in modern files).
    pub event_types: (u64, u64),
    /// The feature bitmap (256 bits).
    pub features: [u64; 4],
}

impl FileHeader {
    /// Whether the feature bit is set.
    pub fn has_feature(&self, bit: u32) -> bool {
        bit < feature::BITMAP_BITS && self.features[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }

    /// The set feature bits, ascending (the order of the section table).
    pub fn feature_bits(&self) -> impl Iterator<Item = u32> + '_ {
        (0..feature::BITMAP_BITS).filter(|&b| self.has_feature(b))
    }
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    u64::from_ne_bytes(a)
}

fn u64_in(b: &[u8], off: usize, e: Endianness) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[off..off + 8]);
    e.u64(a)
}

/// The byte order other than this machine's.
pub(crate) fn foreign() -> Endianness {
    match Endianness::NATIVE {
        Endianness::Little => Endianness::Big,
        Endianness::Big => Endianness::Little,
    }
}

/// Parses the file header from the file's first bytes (pure); a file of
/// the other byte order is refused.
pub(crate) fn parse_header(b: &[u8], path: &Path) -> Result<FileHeader, PerfDataError> {
    match parse_header_any(b, path)? {
        (h, e) if e == Endianness::NATIVE => Ok(h),
        _ => Err(PerfDataError::ByteSwapped {
            path: path.to_path_buf(),
        }),
    }
}

/// Parses the file header of either byte order ("PERFILE2" read as a u64 in
/// the file's order); returns it with the file's order.
pub(crate) fn parse_header_any(
    b: &[u8],
    path: &Path,
) -> Result<(FileHeader, Endianness), PerfDataError> {
    let trunc = |needed: u64| PerfDataError::Truncated {
        path: path.to_path_buf(),
        what: "file header".into(),
        offset: 0,
        needed,
        available: b.len() as u64,
        hint: " in the file (empty or truncated file?)".into(),
    };
    if b.len() < 16 {
        return Err(trunc(HEADER_SIZE));
    }
    let magic = u64_at(b, 0);
    let e = if magic == MAGIC {
        Endianness::NATIVE
    } else if magic == MAGIC.swap_bytes() {
        foreign()
    } else {
        return Err(PerfDataError::NotPerfData {
            path: path.to_path_buf(),
            found: String::from_utf8_lossy(&b[..8]).into_owned(),
        });
    };
    let size = u64_in(b, 8, e);
    if size == 16 {
        return Err(PerfDataError::PipeMode {
            path: path.to_path_buf(),
            header_size: size,
        });
    }
    if size != HEADER_SIZE {
        return Err(PerfDataError::Corrupt {
            path: path.to_path_buf(),
            what: "file header".into(),
            offset: 8,
            detail: format!("header size {size}, expected {HEADER_SIZE}"),
        });
    }
    if b.len() < HEADER_SIZE as usize {
        return Err(trunc(HEADER_SIZE));
    }
    let w = |i: usize| u64_in(b, i * 8, e);
    let header = FileHeader {
        attr_size: w(2),
        attrs: (w(3), w(4)),
        data: (w(5), w(6)),
        event_types: (w(7), w(8)),
        features: [w(9), w(10), w(11), w(12)],
    };
    Ok((header, e))
}

/// Whether the feature section table after an empty data section points at
/// sections that lie after it and inside the file (else it is not a table).
fn feature_table_fits<R: Read + Seek>(
    file: &mut R,
    header: &FileHeader,
    endianness: Endianness,
    file_len: u64,
) -> std::io::Result<bool> {
    let table_at = header.data.0;
    let table_len = header.feature_bits().count() as u64 * 16;
    if table_at.saturating_add(table_len) > file_len {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(table_at))?;
    let mut table = vec![0u8; table_len as usize];
    file.read_exact(&mut table)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(table.chunks_exact(16).all(|e| {
        let (off, size) = (u64_in(e, 0, endianness), u64_in(e, 8, endianness));
        off >= table_at + table_len && off.checked_add(size).is_some_and(|end| end <= file_len)
    }))
}

/// One record of the data section, as it is in the file.
#[derive(Debug, Clone, Copy)]
pub struct FileRecord<'a> {
    /// File offset of the record.
    pub offset: u64,
    /// `perf_event_header.type` (`PERF_RECORD_*`; 64 and up are perf's own).
    pub type_: u32,
    /// `perf_event_header.misc`.
    pub misc: u16,
    /// The whole record, header included. For `PERF_RECORD_AUXTRACE` the
    /// AUX data that follows the record in the file is appended.
    pub bytes: &'a [u8],
    /// Index into [`PerfDataFile::attrs`] of the event the record belongs
    /// to: found by its id, or 0 when the file has one event. `None` for
    /// perf's own records and when the id is missing or unknown.
    pub attr_index: Option<usize>,
    /// The record's timestamp, when its event's `sample_type` has TIME
    /// (non-sample records need `sample_id_all`).
    pub time: Option<u64>,
}

impl FileRecord<'_> {
    /// The bytes after the 8-byte header.
    pub fn body(&self) -> &[u8] {
        &self.bytes[8..]
    }
}

/// Walks the data section in file order. After an error it yields nothing
/// more; every record before the damage has been handed out.
pub struct RecordReader<R: Read> {
    pub(crate) reader: R,
    pub(crate) path: PathBuf,
    pub(crate) pos: u64,
    /// Where the walk stops: the data section end, or the file end if sooner.
    pub(crate) end: u64,
    /// Where the header says the data section ends.
    pub(crate) declared_end: u64,
    pub(crate) resolver: AttrResolver,
    pub(crate) buf: Vec<u8>,
    pub(crate) done: bool,
    /// A pipe-mode stream: no declared end, the records run to end of input.
    pub(crate) stream: bool,
    /// The byte order of the records.
    pub(crate) endianness: Endianness,
}

impl<R: Read> std::fmt::Debug for RecordReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordReader")
            .field("pos", &self.pos)
            .field("end", &self.end)
            .finish()
    }
}

impl<R: Read> RecordReader<R> {
    fn truncated(&self, what: String, needed: u64, available: u64) -> PerfDataError {
        let hint = if self.stream {
            " in the stream (it ended inside a record: the writer stopped early?)".to_string()
        } else if self.end < self.declared_end {
            format!(
                " in the data section (file truncated: the header says the data section ends at {:#x}, the file ends at {:#x})",
                self.declared_end, self.end
            )
        } else {
            " in the data section (corrupt record size?)".to_string()
        };
        PerfDataError::Truncated {
            path: self.path.clone(),
            what,
            offset: self.pos,
            needed,
            available,
            hint,
        }
    }

    fn read_exact_at(&mut self, from: usize, len: usize, what: &str) -> Result<(), PerfDataError> {
        let pos = self.pos;
        if self.stream {
            // Grows with what arrives, so a bogus size allocates nothing.
            self.buf.truncate(from);
            let got = (&mut self.reader)
                .take(len as u64)
                .read_to_end(&mut self.buf)
                .map_err(|e| {
                    PerfDataError::io(&self.path, format!("reading {what} at offset {pos:#x}"), e)
                })?;
            if got < len {
                let (needed, available) = ((from + len) as u64, (from + got) as u64);
                return Err(self.truncated(what.to_string(), needed, available));
            }
            return Ok(());
        }
        self.buf.resize(from + len, 0);
        self.reader.read_exact(&mut self.buf[from..]).map_err(|e| {
            PerfDataError::io(&self.path, format!("reading {what} at offset {pos:#x}"), e)
        })
    }

    /// In a stream: true at a clean end of input (no byte of a next record).
    fn at_stream_end(&mut self) -> Result<bool, PerfDataError> {
        self.buf.resize(1, 0);
        let got = read_full(&mut self.reader, &mut self.buf[..1])
            .map_err(|e| PerfDataError::io(&self.path, "reading the stream", e))?;
        Ok(got == 0)
    }

    /// The next record, `Ok(None)` at the end of the data section, or the
    /// error that stopped the walk (it names the offset of the damage).
    pub fn next_record(&mut self) -> Result<Option<FileRecord<'_>>, PerfDataError> {
        if self.done {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some(len)) => {
                let offset = self.pos;
                self.pos += len;
                Ok(Some(resolved_record(&self.resolver, offset, &self.buf)))
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Reads the next record into `buf`; returns its length in the file.
    fn advance(&mut self) -> Result<Option<u64>, PerfDataError> {
        let remaining = if self.stream {
            if self.at_stream_end()? {
                return Ok(None);
            }
            self.read_exact_at(1, 7, "a record header")?;
            u64::MAX
        } else {
            let remaining = self.end - self.pos;
            if remaining == 0 {
                if self.end < self.declared_end {
                    let needed = self.declared_end - self.pos;
                    return Err(self.truncated("data section".into(), needed, 0));
                }
                return Ok(None);
            }
            if remaining < 8 {
                return Err(self.truncated("record header".into(), 8, remaining));
            }
            self.read_exact_at(0, 8, "a record header")?;
            remaining
        };
        let e = self.endianness;
        let type_ = e.u32([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
        let size = u64::from(e.u16([self.buf[6], self.buf[7]]));
        if type_ == 0 || type_ >= MAX_RECORD_TYPE {
            return Err(self.corrupt_header(format!(
                "type {type_} is not a record type (kernel types are below 64, perf's below {MAX_RECORD_TYPE})"
            )));
        }
        if size < 8 {
            return Err(self.corrupt_header(format!(
                "record of type {type_} claims {size} bytes, less than its own 8-byte header"
            )));
        }
        if size > remaining {
            return Err(self.truncated(
                format!("record of type {type_} (claims {size} bytes)"),
                size,
                remaining,
            ));
        }
        self.read_exact_at(8, size as usize - 8, "a record")?;
        let trailing = match type_ {
            RECORD_AUXTRACE if size >= 16 => Some((u64_in(&self.buf, 8, e), "AUX data")),
            // Pipe mode: the tracing data follows its record (size padded to 8).
            RECORD_HEADER_TRACING_DATA if size >= 12 => {
                let n = e.u32([self.buf[8], self.buf[9], self.buf[10], self.buf[11]]);
                Some((u64::from(n), "tracing data"))
            }
            _ => None,
        };
        let mut len = size;
        if let Some((extra, what)) = trailing {
            if extra > remaining - size || extra > MAX_TRAILING {
                return Err(self.truncated(
                    format!("record of type {type_} with {extra} bytes of {what}"),
                    size.saturating_add(extra),
                    remaining,
                ));
            }
            self.read_exact_at(size as usize, extra as usize, what)?;
            len += extra;
        }
        Ok(Some(len))
    }

    fn corrupt_header(&self, detail: String) -> PerfDataError {
        PerfDataError::Corrupt {
            path: self.path.clone(),
            what: "record header".into(),
            offset: self.pos,
            detail,
        }
    }
}

/// The outcome of [`PerfDataFile::for_each_record`].
#[derive(Debug)]
pub struct RecordWalk {
    /// Records handed to the callback.
    pub records: u64,
    /// Compressed records whose contents were handed out instead.
    pub compressed: u64,
    /// What stopped the walk early, if anything.
    pub error: Option<PerfDataError>,
}

/// An open perf.data file: header, attributes and features are read at
/// open; records are walked with [`records`](Self::records).
///
/// The source is anything `Read + Seek`: a [`File`] ([`open`](Self::open))
/// or bytes in memory ([`from_reader`](Self::from_reader) with a
/// `std::io::Cursor`). One walk over the records runs at a time.
#[derive(Debug)]
pub struct PerfDataFile<R = File> {
    path: PathBuf,
    source: RefCell<R>,
    file_len: u64,
    header: FileHeader,
    attrs: Vec<EventAttr>,
    features: Features,
    feature_errors: Vec<PerfDataError>,
    resolver: AttrResolver,
    unfinished: bool,
    endianness: Endianness,
}

/// The borrowed source of a walk over the records.
#[derive(Debug)]
pub struct SourceRef<'a, R>(RefMut<'a, R>);

impl<R: Read> Read for SourceRef<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl PerfDataFile<File> {
    /// Opens a perf.data file. Fails when the header or the attributes are
    /// unreadable, and with [`PerfDataError::Unfinished`] when the header was
    /// never finalized. A damaged data section or feature section does not
    /// fail the open: see [`feature_errors`](Self::feature_errors) and the
    /// error that ends [`records`](Self::records).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, PerfDataError> {
        Self::open_impl(path.as_ref(), false)
    }

    /// Like [`open`](Self::open), but a file whose header was never finalized
    /// is read as if its data section ran to the end of the file.
    pub fn open_unfinished(path: impl AsRef<Path>) -> Result<Self, PerfDataError> {
        Self::open_impl(path.as_ref(), true)
    }

    fn open_impl(path: &Path, allow_unfinished: bool) -> Result<Self, PerfDataError> {
        let file = File::open(path).map_err(|e| PerfDataError::io(path, "opening", e))?;
        Self::read_from(file, path.to_path_buf(), allow_unfinished)
    }
}

impl<R: Read + Seek> PerfDataFile<R> {
    /// Reads a perf.data image from `source` (bytes in memory, a file, ...);
    /// `name` names it in error messages. As [`open`](PerfDataFile::open).
    pub fn from_reader(source: R, name: impl Into<PathBuf>) -> Result<Self, PerfDataError> {
        Self::read_from(source, name.into(), false)
    }

    /// Like [`from_reader`](Self::from_reader), reading an unfinished header
    /// as [`open_unfinished`](PerfDataFile::open_unfinished) does.
    pub fn from_reader_unfinished(
        source: R,
        name: impl Into<PathBuf>,
    ) -> Result<Self, PerfDataError> {
        Self::read_from(source, name.into(), true)
    }

    fn read_from(
        mut file: R,
        path: PathBuf,
        allow_unfinished: bool,
    ) -> Result<Self, PerfDataError> {
        let path = path.as_path();
        let file_len = file
            .seek(SeekFrom::End(0))
            .and_then(|len| file.seek(SeekFrom::Start(0)).map(|_| len))
            .map_err(|e| PerfDataError::io(path, "reading the file size", e))?;
        let mut head = Vec::with_capacity(HEADER_SIZE as usize);
        (&mut file)
            .take(HEADER_SIZE)
            .read_to_end(&mut head)
            .map_err(|e| PerfDataError::io(path, "reading the header", e))?;
        let (header, endianness) = parse_header_any(&head, path)?;
        let data_offset = header.data.0;
        // perf sets the feature bits when it starts and writes the sections
        // at the end; a killed perf leaves data size 0 and records where the
        // feature table would be.
        let unfinished = header.data.1 == 0
            && file_len > data_offset
            && (header.features == [0; 4]
                || !feature_table_fits(&mut file, &header, endianness, file_len)
                    .map_err(|e| PerfDataError::io(path, "reading the feature table", e))?);
        if unfinished && !allow_unfinished {
            return Err(PerfDataError::Unfinished {
                path: path.to_path_buf(),
                data_offset,
                data_bytes: file_len - data_offset,
            });
        }
        let mut me = PerfDataFile {
            path: path.to_path_buf(),
            source: RefCell::new(file),
            file_len,
            header,
            attrs: Vec::new(),
            features: Features::default(),
            feature_errors: Vec::new(),
            resolver: AttrResolver::default(),
            unfinished,
            endianness,
        };
        me.attrs = me.read_attrs()?;
        if !unfinished {
            me.read_features();
        }
        me.resolver = AttrResolver::new(&me.attrs).with_endianness(endianness);
        Ok(me)
    }

    /// Reads `len` bytes at `offset`, with a Truncated error naming `what`
    /// when the file is too short.
    fn read_at(&mut self, offset: u64, len: u64, what: &str) -> Result<Vec<u8>, PerfDataError> {
        let available = self.file_len.saturating_sub(offset);
        if len > available {
            return Err(PerfDataError::Truncated {
                path: self.path.clone(),
                what: what.to_string(),
                offset,
                needed: len,
                available,
                hint: " in the file (file truncated?)".into(),
            });
        }
        let io = |e| {
            PerfDataError::io(
                &self.path,
                format!("reading {what} at offset {offset:#x}"),
                e,
            )
        };
        let source = self.source.get_mut();
        source.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut v = vec![0u8; len as usize];
        source.read_exact(&mut v).map_err(io)?;
        Ok(v)
    }

    fn read_attrs(&mut self) -> Result<Vec<EventAttr>, PerfDataError> {
        let (off, size) = self.header.attrs;
        let entry = self.header.attr_size;
        let corrupt = |detail: String| PerfDataError::Corrupt {
            path: self.path.clone(),
            what: "attribute section".into(),
            offset: off,
            detail,
        };
        if entry < ATTR_SIZE_VER0 as u64 + 16 || entry > 4096 {
            return Err(corrupt(format!(
                "entry size {entry} (header offset 16) is not a perf_file_attr size"
            )));
        }
        if size == 0 || size % entry != 0 {
            return Err(corrupt(format!(
                "section size {size} is not a non-zero multiple of the entry size {entry}"
            )));
        }
        let bytes = self.read_at(off, size, "attribute section")?;
        let attr_len = (entry - 16) as usize;
        let mut attrs = Vec::new();
        for (i, chunk) in bytes.chunks_exact(entry as usize).enumerate() {
            let at = off + i as u64 * entry;
            let e = self.endianness;
            let declared = e.u32([chunk[4], chunk[5], chunk[6], chunk[7]]) as usize;
            let declared = if declared == 0 {
                ATTR_SIZE_VER0
            } else {
                declared
            };
            if declared > attr_len {
                return Err(PerfDataError::Corrupt {
                    path: self.path.clone(),
                    what: "attribute".into(),
                    offset: at + 4,
                    detail: format!(
                        "size field {declared} exceeds the {attr_len}-byte entries of this file"
                    ),
                });
            }
            let native = attr_to_native(&chunk[..declared], e);
            let attr = attr_from_bytes(&native);
            let ids_off = u64_in(chunk, attr_len, e);
            let ids_size = u64_in(chunk, attr_len + 8, e);
            if !ids_size.is_multiple_of(8) {
                return Err(PerfDataError::Corrupt {
                    path: self.path.clone(),
                    what: "attribute id section".into(),
                    offset: at + attr_len as u64,
                    detail: format!("size {ids_size} is not a multiple of 8"),
                });
            }
            let ids = self
                .read_at(ids_off, ids_size, "attribute ids")?
                .chunks_exact(8)
                .map(|c| u64_in(c, 0, e))
                .collect();
            attrs.push(EventAttr::from_bytes(
                &native,
                default_event_name(&attr),
                ids,
            ));
        }
        Ok(attrs)
    }

    fn read_features(&mut self) {
        let table_at = self.header.data.0.saturating_add(self.header.data.1);
        let bits: Vec<u32> = self.header.feature_bits().collect();
        let table = match self.read_at(table_at, bits.len() as u64 * 16, "feature section table") {
            Ok(t) => t,
            Err(e) => {
                self.feature_errors.push(e);
                return;
            }
        };
        for (i, &bit) in bits.iter().enumerate() {
            let e = self.endianness;
            let (off, size) = (u64_in(&table, i * 16, e), u64_in(&table, i * 16 + 8, e));
            let name = feature_name(bit);
            let bytes = match self.read_at(off, size, &format!("{name} feature section")) {
                Ok(b) => b,
                Err(e) => {
                    self.feature_errors.push(e);
                    continue;
                }
            };
            let b = Bytes::new(&bytes, off, &self.path, name).with_endianness(e);
            let res = if bit == feature::EVENT_DESC {
                decode_event_desc(b).map(|descs| {
                    // Names by position, checked against the ids: EVENT_DESC
                    // lists the events in attribute-section order.
                    for (a, d) in self.attrs.iter_mut().zip(descs) {
                        if d.ids == a.ids || a.ids.is_empty() {
                            a.name = d.name;
                        }
                    }
                })
            } else {
                decode_into(&mut self.features, bit, b)
            };
            if let Err(e) = res {
                self.feature_errors.push(e);
            }
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The byte order of the file: this machine's, or the other one for a
    /// file whose magic reads "2ELIFREP". Records handed out by the walks
    /// are in this order (attributes, ids and features are converted).
    pub fn endianness(&self) -> Endianness {
        self.endianness
    }

    /// The file header.
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// The events: attribute, name (from EVENT_DESC, else derived from the
    /// attribute) and ids.
    pub fn attrs(&self) -> &[EventAttr] {
        &self.attrs
    }

    /// The feature sections that could be read.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// Problems with feature sections (missing, truncated, malformed); the
    /// other features and the records are still usable.
    pub fn feature_errors(&self) -> &[PerfDataError] {
        &self.feature_errors
    }

    /// True when the header was never finalized (opened with
    /// [`open_unfinished`](Self::open_unfinished)).
    pub fn is_unfinished(&self) -> bool {
        self.unfinished
    }

    /// The attribute index of an event id.
    pub fn attr_index_of_id(&self, id: u64) -> Option<usize> {
        self.attrs.iter().position(|a| a.ids.contains(&id))
    }

    /// A walk over the data section in file order. Fails with
    /// [`PerfDataError::WalkInProgress`] while another walk holds the source.
    pub fn records(&self) -> Result<RecordReader<BufReader<SourceRef<'_, R>>>, PerfDataError> {
        let io = |e| PerfDataError::io(&self.path, "opening the data section", e);
        let mut file = SourceRef(
            self.source
                .try_borrow_mut()
                .map_err(|_| PerfDataError::WalkInProgress)?,
        );
        let start = self.header.data.0;
        file.0.seek(SeekFrom::Start(start)).map_err(io)?;
        let declared_end = if self.unfinished {
            self.file_len
        } else {
            start.saturating_add(self.header.data.1)
        };
        Ok(RecordReader {
            reader: BufReader::with_capacity(256 * 1024, file),
            path: self.path.clone(),
            pos: start,
            end: declared_end.min(self.file_len).max(start),
            declared_end,
            resolver: self.resolver.clone(),
            buf: Vec::new(),
            done: false,
            stream: false,
            endianness: self.endianness,
        })
    }

    /// Calls `f` for every record in file order; returns how many there were
    /// and what stopped the walk early, if anything. Records inside
    /// `PERF_RECORD_COMPRESSED` (`perf record -z`) are decompressed and
    /// handed out in their place, with the compressed record's offset.
    pub fn for_each_record(&self, f: impl FnMut(&FileRecord<'_>)) -> RecordWalk {
        let walker = Walker::new(&self.path, &self.resolver);
        match self.records() {
            Ok(mut reader) => walker.run(&mut reader, f),
            Err(e) => {
                let mut walk = walker.finish(0);
                walk.error = Some(e);
                walk
            }
        }
    }

    /// Times of the first and last SAMPLE record, by walking the data.
    pub fn sample_time_scan(&self) -> Result<Option<(u64, u64)>, PerfDataError> {
        let mut span: Option<(u64, u64)> = None;
        let walk = self.for_each_record(|r| {
            if let (RECORD_SAMPLE, Some(t)) = (r.type_, r.time) {
                let s = span.get_or_insert((t, t));
                s.0 = s.0.min(t);
                s.1 = s.1.max(t);
            }
        });
        match walk.error {
            Some(e) if walk.records == 0 => Err(e),
            _ => Ok(span),
        }
    }
}
