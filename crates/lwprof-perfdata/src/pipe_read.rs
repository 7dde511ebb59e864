//! Pipe-mode perf.data (`perf record -o -`): a 16-byte header (magic and
//! size 16), then records only. The events, features and tracing data that a
//! file keeps in sections arrive as records before the kernel's:
//! HEADER_ATTR, HEADER_FEATURE, HEADER_TRACING_DATA (its data follows the
//! record), HEADER_BUILD_ID, then FINISHED_INIT.
//!
//! [`PipeDataFile`] reads those leading records at open, from any `Read` (a
//! pipe, standard input, a saved stream), and streams the rest once with
//! [`for_each_record`](PipeDataFile::for_each_record); the leading records
//! are handed out again first, so a walk sees every record of the stream.
//! A stream written on a machine of the other byte order (its magic and
//! header size read swapped) is read in that order, as files are. It does
//! not seek, and does not apply attributes that arrive after the first
//! kernel record (they are handed out and counted like any other record).

use super::attr::{attr_from_bytes, attr_to_native, default_event_name, ATTR_SIZE_VER0};
use super::error::PerfDataError;
use super::features::{decode_event_desc, decode_into, name as feature_name, Bytes, Features};
use super::layout::AttrResolver;
use super::reader::{FileRecord, RecordReader, RecordWalk, RECORD_HEADER_TRACING_DATA};
use super::walk::{resolved_record, Walker};
use super::{feature, EventAttr, MAGIC};
use lwprof_records::Endianness;
use std::cell::RefCell;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Size of the pipe-mode header (`struct perf_pipe_file_header`).
pub const PIPE_HEADER_SIZE: u64 = 16;

const HEADER_ATTR: u32 = 64;
const HEADER_BUILD_ID: u32 = 67;
const HEADER_FEATURE: u32 = 80;
const FINISHED_INIT: u32 = 82;
/// perf's own record types start here; below are the kernel's.
const USER_TYPE_START: u32 = 64;

/// Whether the first 16 bytes of a file are a pipe-mode header (of either
/// byte order).
pub fn is_pipe_header(head: &[u8]) -> bool {
    head.len() >= 16
        && ((head[..8] == MAGIC.to_ne_bytes() && head[8..16] == PIPE_HEADER_SIZE.to_ne_bytes())
            || (head[..8] == MAGIC.swap_bytes().to_ne_bytes()
                && head[8..16] == PIPE_HEADER_SIZE.swap_bytes().to_ne_bytes()))
}

/// A pipe-mode stream: the events and features from its leading records,
/// and the rest of the stream, walked once.
pub struct PipeDataFile<R: Read> {
    path: PathBuf,
    attrs: Vec<EventAttr>,
    features: Features,
    feature_errors: Vec<PerfDataError>,
    resolver: AttrResolver,
    /// The stream's byte order.
    endianness: Endianness,
    /// The records read at open (offset, bytes), handed out first.
    leading: Vec<(u64, Vec<u8>)>,
    /// What stopped the reading at open after the events were known.
    leading_error: RefCell<Option<PerfDataError>>,
    rest: RefCell<Option<RecordReader<BufReader<R>>>>,
}

impl<R: Read> std::fmt::Debug for PipeDataFile<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipeDataFile")
            .field("path", &self.path)
            .field("attrs", &self.attrs)
            .field("leading", &self.leading.len())
            .finish()
    }
}

impl<R: Read> PipeDataFile<R> {
    /// Reads the header and the leading records of a pipe-mode stream;
    /// `name` names it in messages. Fails when the header is not a pipe-mode
    /// header or the stream ends or breaks before the first event.
    pub fn from_reader(source: R, name: impl Into<PathBuf>) -> Result<Self, PerfDataError> {
        let path = name.into();
        let mut source = BufReader::with_capacity(256 * 1024, source);
        let mut head = Vec::with_capacity(16);
        (&mut source)
            .take(PIPE_HEADER_SIZE)
            .read_to_end(&mut head)
            .map_err(|e| PerfDataError::io(&path, "reading the header", e))?;
        let endianness = check_header(&head, &path)?;
        let mut me = PipeDataFile {
            path: path.clone(),
            attrs: Vec::new(),
            features: Features::default(),
            feature_errors: Vec::new(),
            resolver: AttrResolver::default(),
            endianness,
            leading: Vec::new(),
            leading_error: RefCell::new(None),
            rest: RefCell::new(None),
        };
        let mut reader = RecordReader {
            reader: source,
            path,
            pos: PIPE_HEADER_SIZE,
            end: u64::MAX,
            declared_end: u64::MAX,
            // No events yet: the resolver only reads record headers.
            resolver: AttrResolver::default().with_endianness(endianness),
            buf: Vec::new(),
            done: false,
            stream: true,
            endianness,
        };
        me.read_leading(&mut reader)?;
        me.resolver = AttrResolver::new(&me.attrs).with_endianness(endianness);
        reader.resolver = me.resolver.clone();
        *me.rest.get_mut() = Some(reader);
        Ok(me)
    }

    /// Reads records up to FINISHED_INIT or the first kernel record.
    fn read_leading(
        &mut self,
        reader: &mut RecordReader<BufReader<R>>,
    ) -> Result<(), PerfDataError> {
        loop {
            let (offset, type_, bytes) = match reader.next_record() {
                Ok(Some(r)) => (r.offset, r.type_, r.bytes.to_vec()),
                Ok(None) if !self.attrs.is_empty() => return Ok(()),
                Ok(None) => return Err(self.no_events(reader.pos, "the stream ended")),
                Err(e) if !self.attrs.is_empty() => {
                    *self.leading_error.get_mut() = Some(e);
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            match type_ {
                HEADER_ATTR => self.attrs.push(parse_header_attr(
                    &bytes,
                    offset,
                    &self.path,
                    self.endianness,
                )?),
                HEADER_FEATURE => self.feature(&bytes, offset),
                RECORD_HEADER_TRACING_DATA => self.tracing_data(&bytes, offset),
                HEADER_BUILD_ID => self.build_id(&bytes, offset),
                _ => {}
            }
            self.leading.push((offset, bytes));
            if type_ == FINISHED_INIT || type_ < USER_TYPE_START {
                if self.attrs.is_empty() {
                    return Err(self.no_events(offset, "a data record came"));
                }
                return Ok(());
            }
        }
    }

    fn no_events(&self, offset: u64, what: &str) -> PerfDataError {
        PerfDataError::Corrupt {
            path: self.path.clone(),
            what: "pipe-mode stream".into(),
            offset,
            detail: format!("{what} before any HEADER_ATTR record: the stream names no event"),
        }
    }

    fn feature(&mut self, bytes: &[u8], offset: u64) {
        if bytes.len() < 16 {
            self.feature_errors
                .push(short_record(&self.path, "HEADER_FEATURE", offset));
            return;
        }
        let bit = self
            .endianness
            .u64(bytes[8..16].try_into().unwrap_or([0; 8]));
        let bit = u32::try_from(bit).unwrap_or(u32::MAX);
        let name = feature_name(bit);
        let b = Bytes::new(&bytes[16..], offset + 16, &self.path, name)
            .with_endianness(self.endianness);
        let res = if bit == feature::EVENT_DESC {
            decode_event_desc(b).map(|descs| {
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

    fn tracing_data(&mut self, bytes: &[u8], offset: u64) {
        // The record is 16 bytes (header, u32 size, padding); the data follows.
        let data = bytes.get(16..).unwrap_or_default();
        let b = Bytes::new(data, offset + 16, &self.path, "HEADER_TRACING_DATA")
            .with_endianness(self.endianness);
        if let Err(e) = decode_into(&mut self.features, feature::TRACING_DATA, b) {
            self.feature_errors.push(e);
        }
    }

    fn build_id(&mut self, bytes: &[u8], offset: u64) {
        // The record has the layout of one BUILD_ID section entry.
        let mut one = Features::default();
        let b = Bytes::new(bytes, offset, &self.path, "HEADER_BUILD_ID")
            .with_endianness(self.endianness);
        match decode_into(&mut one, feature::BUILD_ID, b) {
            Ok(()) => self.features.build_ids.extend(one.build_ids),
            Err(e) => self.feature_errors.push(e),
        }
    }

    /// The stream's byte order (this machine's, or the other one).
    pub fn endianness(&self) -> Endianness {
        self.endianness
    }

    /// The stream's name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The events from the HEADER_ATTR records, named by EVENT_DESC.
    pub fn attrs(&self) -> &[EventAttr] {
        &self.attrs
    }

    /// The features from the HEADER_FEATURE, HEADER_TRACING_DATA and
    /// HEADER_BUILD_ID records before the first kernel record.
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// Feature records that could not be decoded.
    pub fn feature_errors(&self) -> &[PerfDataError] {
        &self.feature_errors
    }

    /// Calls `f` for every record of the stream, the leading ones first, as
    /// [`PerfDataFile::for_each_record`](crate::PerfDataFile::for_each_record)
    /// does. The stream is read once: a second walk fails with
    /// [`PerfDataError::StreamConsumed`].
    pub fn for_each_record(&self, mut f: impl FnMut(&FileRecord<'_>)) -> RecordWalk {
        let mut walker = Walker::new(&self.path, &self.resolver);
        let Some(mut rest) = self.rest.borrow_mut().take() else {
            let mut walk = walker.finish(0);
            walk.error = Some(PerfDataError::StreamConsumed {
                path: self.path.clone(),
            });
            return walk;
        };
        for (offset, bytes) in &self.leading {
            let r = resolved_record(&self.resolver, *offset, bytes);
            if let Err(e) = walker.record(&r, &mut f) {
                let mut walk = walker.finish(*offset);
                walk.error = Some(e);
                return walk;
            }
        }
        if let Some(e) = self.leading_error.borrow_mut().take() {
            let mut walk = walker.finish(rest.pos);
            walk.error = Some(e);
            return walk;
        }
        walker.run(&mut rest, f)
    }
}

/// The byte order of a pipe-mode header.
fn check_header(head: &[u8], path: &Path) -> Result<Endianness, PerfDataError> {
    if head.len() < 16 {
        return Err(PerfDataError::Truncated {
            path: path.to_path_buf(),
            what: "pipe-mode header".into(),
            offset: 0,
            needed: PIPE_HEADER_SIZE,
            available: head.len() as u64,
            hint: " (empty input?)".into(),
        });
    }
    if head[..8] == MAGIC.to_ne_bytes() && head[8..16] == PIPE_HEADER_SIZE.to_ne_bytes() {
        return Ok(Endianness::NATIVE);
    }
    if head[..8] == MAGIC.swap_bytes().to_ne_bytes()
        && head[8..16] == PIPE_HEADER_SIZE.swap_bytes().to_ne_bytes()
    {
        return Ok(match Endianness::NATIVE {
            Endianness::Little => Endianness::Big,
            Endianness::Big => Endianness::Little,
        });
    }
    // Not a pipe header: let the file-header parser say why.
    match super::reader::parse_header(head, path) {
        Err(e) => Err(e),
        Ok(_) => Err(PerfDataError::Corrupt {
            path: path.to_path_buf(),
            what: "pipe-mode header".into(),
            offset: 8,
            detail: "a seekable perf.data file header, not a stream".into(),
        }),
    }
}

fn short_record(path: &Path, what: &str, offset: u64) -> PerfDataError {
    PerfDataError::Corrupt {
        path: path.to_path_buf(),
        what: what.into(),
        offset,
        detail: "the record is shorter than its fixed fields".into(),
    }
}

/// A HEADER_ATTR record: the attribute (its own `size` long), then the ids.
fn parse_header_attr(
    bytes: &[u8],
    offset: u64,
    path: &Path,
    e: Endianness,
) -> Result<EventAttr, PerfDataError> {
    let body = &bytes[8..];
    let corrupt = |detail: String| PerfDataError::Corrupt {
        path: path.to_path_buf(),
        what: "HEADER_ATTR record".into(),
        offset,
        detail,
    };
    if body.len() < ATTR_SIZE_VER0 {
        return Err(corrupt(format!(
            "{} bytes cannot hold an attribute (at least {ATTR_SIZE_VER0})",
            body.len()
        )));
    }
    let size = e.u32([body[4], body[5], body[6], body[7]]) as usize;
    let size = if size == 0 { ATTR_SIZE_VER0 } else { size };
    if size < ATTR_SIZE_VER0 || size > body.len() || !(body.len() - size).is_multiple_of(8) {
        return Err(corrupt(format!(
            "attribute size {size} does not fit the record's {} bytes with whole ids after it",
            body.len()
        )));
    }
    let ids = body[size..]
        .chunks_exact(8)
        .map(|c| e.u64(c.try_into().unwrap_or([0; 8])))
        .collect();
    let native = attr_to_native(&body[..size], e);
    let attr = attr_from_bytes(&native);
    Ok(EventAttr::from_bytes(
        &native,
        default_event_name(&attr),
        ids,
    ))
}
