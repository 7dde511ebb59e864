//! [`RecordParser`]: one event's [`RecordParseInfo`], prepared once for
//! parsing many records.
//!
//! Parsing a sample with a bare [`RecordParseInfo`] walks `sample_type` bit by
//! bit for every record. A drain loop parses thousands of samples of the same
//! event, so the parser works out where each fixed-size field sits once, then
//! reads a contiguous sample (every sample but the one that wraps the ring)
//! with one length check for its fixed fields and one for its call chain. The
//! results, errors included, are exactly those of [`parse_record`] and
//! [`RawRecord::parse`]: any sample the fast path does not cover (a group
//! READ before the call chain, a sample split at the ring's seam, a malformed
//! one) goes to the general parser.
//!
//! Like the rest of the record module, this does no I/O and keeps no state
//! between records.

use super::error::ParseError;
use super::info::RecordParseInfo;
#[cfg(doc)]
use super::parse_record;
use super::sample::{SampleLayout, SampleRecord};
use super::{other, RawRecord, Record};
use crate::abi::record_type;
use crate::raw::RawData;

/// Parses the records of one event (or of events sharing a layout), with the
/// sample layout worked out once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordParser {
    layout: SampleLayout,
}

impl RecordParser {
    /// A parser for records laid out by `info`.
    pub const fn new(info: &RecordParseInfo) -> RecordParser {
        RecordParser {
            layout: SampleLayout::new(info),
        }
    }

    /// The sample layout worked out from the info.
    #[inline(always)]
    pub(super) fn layout(&self) -> &SampleLayout {
        &self.layout
    }

    /// The layout fields this parser was made for.
    pub fn info(&self) -> &RecordParseInfo {
        self.layout.info()
    }

    /// Parses one record from the start of `data` (header included): the
    /// same as [`parse_record`] with this parser's info.
    #[inline(always)]
    pub fn parse<'a>(&self, data: RawData<'a>) -> Result<Record<'a>, ParseError> {
        let raw = RawRecord::from_data(data, self.info().endianness)?;
        self.parse_raw(&raw)
    }

    /// Parses a record already split into header and body: the same as
    /// [`RawRecord::parse`] with this parser's info (the record's own byte
    /// order wins over the info's).
    #[inline(always)]
    pub fn parse_raw<'a>(&self, raw: &RawRecord<'a>) -> Result<Record<'a>, ParseError> {
        if raw.header.record_type == record_type::SAMPLE {
            return self.layout.parse_into(
                raw.body,
                raw.endianness,
                raw.header.misc,
                Record::Sample,
            );
        }
        other::parse_non_sample(raw, self.info())
    }

    /// Parses the record at the start of `data` (header included) when it
    /// is a SAMPLE, without going through [`Record`]; `Ok(None)` for every
    /// other type (parse those with [`RecordParser::parse`]). The sample, or
    /// the error, is the one [`RecordParser::parse`] would return.
    ///
    /// This is the drain loop's fast path: a contiguous record's header and
    /// fixed fields are checked in one go.
    ///
    /// ```
    /// # use lwprof_records::raw::RawData;
    /// # use lwprof_records::record::{sample_type as st, Record, RecordParseInfo, RecordParser};
    /// let parser = RecordParser::new(&RecordParseInfo::new(st::IP | st::CALLCHAIN));
    /// let mut bytes = lwprof_records::abi::record_type::SAMPLE.to_ne_bytes().to_vec();
    /// bytes.extend_from_slice(&lwprof_records::abi::misc::USER.to_ne_bytes());
    /// bytes.extend_from_slice(&40u16.to_ne_bytes()); // size
    /// for word in [0x40_1000u64, 2, 0x40_1000, 0x40_2000] {
    ///     bytes.extend_from_slice(&word.to_ne_bytes()); // ip, nr, ips
    /// }
    /// for record in [RawData::Single(&bytes)] {
    ///     match parser.parse_sample(record)? {
    ///         Some(sample) => {
    ///             let frames: Vec<u64> = sample.callchain().into_iter().flatten().collect();
    ///             assert_eq!(frames, [0x40_1000, 0x40_2000]);
    ///         }
    ///         None => match parser.parse(record)? {
    ///             Record::Mmap2(_) => { /* ... */ }
    ///             _ => {}
    ///         },
    ///     }
    /// }
    /// # Ok::<(), lwprof_records::record::ParseError>(())
    /// ```
    #[inline(always)]
    pub fn parse_sample<'a>(
        &self,
        data: RawData<'a>,
    ) -> Result<Option<SampleRecord<'a>>, ParseError> {
        let order = self.info().endianness;
        if let RawData::Single(bytes) = data {
            if let Some((h, rest)) = bytes.split_first_chunk::<8>() {
                if order.u32([h[0], h[1], h[2], h[3]]) != record_type::SAMPLE {
                    return Ok(None);
                }
                let misc = order.u16([h[4], h[5]]);
                let size = usize::from(order.u16([h[6], h[7]]));
                if let Some(body) = size.checked_sub(8).and_then(|n| rest.get(..n)) {
                    return self
                        .layout
                        .parse_into(RawData::Single(body), order, misc, Some);
                }
            }
        }
        self.parse_sample_slow(data)
    }

    /// [`RecordParser::parse_sample`] for a record split at the seam, or one
    /// whose header is bad.
    #[cold]
    #[inline(never)]
    fn parse_sample_slow<'a>(
        &self,
        data: RawData<'a>,
    ) -> Result<Option<SampleRecord<'a>>, ParseError> {
        let raw = RawRecord::from_data(data, self.info().endianness)?;
        self.parse_raw_sample(&raw)
    }

    /// Parses `raw` when it is a SAMPLE record, without going through
    /// [`Record`]; `Ok(None)` for every other type. The sample is the one
    /// [`RecordParser::parse_raw`] would return.
    #[inline(always)]
    pub fn parse_raw_sample<'a>(
        &self,
        raw: &RawRecord<'a>,
    ) -> Result<Option<SampleRecord<'a>>, ParseError> {
        if raw.header.record_type != record_type::SAMPLE {
            return Ok(None);
        }
        self.layout
            .parse_into(raw.body, raw.endianness, raw.header.misc, Some)
    }
}

impl From<RecordParseInfo> for RecordParser {
    fn from(info: RecordParseInfo) -> Self {
        RecordParser::new(&info)
    }
}
