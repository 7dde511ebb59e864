//! [`RecordParser::decode_sample`]: a sample's fixed-size fields decoded in
//! one pass, for drain loops that read them all.
//!
//! [`SampleRecord`] keeps offsets and decodes each field when asked for, so
//! every accessor checks again whether the field is there, where the record
//! bytes are, and their byte order. A profiler that reads the ip, pid, tid,
//! time, cpu and period of every sample pays that per field. The decoder
//! here reads every fixed-size field the event has into a [`SampleHead`] in
//! one go over a contiguous record whose length it checked once, with the
//! byte order chosen once per record rather than per field, and hands the
//! call chain over as a [`U64Array`] view.
//!
//! The result is exactly that of [`RecordParser::parse_sample`] (the
//! [`DecodedSample`] holds that very [`SampleRecord`] for the other fields):
//! a record split at the ring's seam, one with a variable-size field before
//! the call chain (a group READ), and every malformed one go through
//! [`RecordParser::parse_sample`] and give its sample or its error. Like the
//! rest of the record module, no I/O and no state between records.

use super::cursor::Endianness;
use super::error::ParseError;
use super::info::sample_type as st;
use super::parser::RecordParser;
use super::sample::{
    SampleLayout, SampleRecord, H_ADDR, H_CPU, H_ID, H_IP, H_PERIOD, H_STREAM_ID, H_TID, H_TIME,
    NO_WORD,
};
use super::views::U64Array;
use crate::abi::record_type;
use crate::raw::RawData;

/// The fixed-size fields of a sample (those before READ and the call
/// chain), decoded; `None` for the ones the event did not ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SampleHead {
    /// PERF_SAMPLE_IDENTIFIER or PERF_SAMPLE_ID (the same id; with both,
    /// ID's word, as [`SampleRecord::id`]).
    pub id: Option<u64>,
    /// PERF_SAMPLE_IP.
    pub ip: Option<u64>,
    /// PERF_SAMPLE_TID: process id.
    pub pid: Option<u32>,
    /// PERF_SAMPLE_TID: thread id.
    pub tid: Option<u32>,
    /// PERF_SAMPLE_TIME.
    pub time: Option<u64>,
    /// PERF_SAMPLE_ADDR.
    pub addr: Option<u64>,
    /// PERF_SAMPLE_STREAM_ID.
    pub stream_id: Option<u64>,
    /// PERF_SAMPLE_CPU.
    pub cpu: Option<u32>,
    /// PERF_SAMPLE_PERIOD.
    pub period: Option<u64>,
}

/// A sample with its fixed-size fields and call chain decoded up front
/// (see [`RecordParser::decode_sample`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedSample<'a> {
    /// The fixed-size fields: what [`SampleRecord::head`] returns.
    pub head: SampleHead,
    /// PERF_SAMPLE_CALLCHAIN: what [`SampleRecord::callchain`] returns.
    pub callchain: Option<U64Array<'a>>,
    /// The whole sample, for its other fields (READ, RAW, registers, ...),
    /// its cpumode and its bytes.
    pub sample: SampleRecord<'a>,
}

impl<'a> From<SampleRecord<'a>> for DecodedSample<'a> {
    /// Decodes `sample`'s fixed-size fields and call chain through its
    /// accessors (the general path; the same result as the fast one).
    fn from(sample: SampleRecord<'a>) -> Self {
        DecodedSample {
            head: sample.head(),
            callchain: sample.callchain(),
            sample,
        }
    }
}

impl SampleRecord<'_> {
    /// Every fixed-size field, through the accessors ([`SampleRecord::id`],
    /// [`SampleRecord::ip`], ...). [`RecordParser::decode_sample`] reads
    /// them in one pass instead.
    pub fn head(&self) -> SampleHead {
        SampleHead {
            id: self.id(),
            ip: self.ip(),
            pid: self.pid(),
            tid: self.tid(),
            time: self.time(),
            addr: self.addr(),
            stream_id: self.stream_id(),
            cpu: self.cpu(),
            period: self.period(),
        }
    }
}

/// A byte order fixed at compile time, so the per-field reads of the fast
/// path do not branch on it.
trait Order {
    const ORDER: Endianness;
    fn u64(b: [u8; 8]) -> u64;
    fn u32(b: [u8; 4]) -> u32;
    fn u16(b: [u8; 2]) -> u16;
}

/// Least significant byte first.
struct Le;
/// Most significant byte first.
struct Be;

impl Order for Le {
    const ORDER: Endianness = Endianness::Little;
    #[inline(always)]
    fn u64(b: [u8; 8]) -> u64 {
        u64::from_le_bytes(b)
    }
    #[inline(always)]
    fn u32(b: [u8; 4]) -> u32 {
        u32::from_le_bytes(b)
    }
    #[inline(always)]
    fn u16(b: [u8; 2]) -> u16 {
        u16::from_le_bytes(b)
    }
}

impl Order for Be {
    const ORDER: Endianness = Endianness::Big;
    #[inline(always)]
    fn u64(b: [u8; 8]) -> u64 {
        u64::from_be_bytes(b)
    }
    #[inline(always)]
    fn u32(b: [u8; 4]) -> u32 {
        u32::from_be_bytes(b)
    }
    #[inline(always)]
    fn u16(b: [u8; 2]) -> u16 {
        u16::from_be_bytes(b)
    }
}

/// The head word at body offset `at` ([`NO_WORD`] when absent) of `head`,
/// the fixed-size fields: in bounds, as the layout put it there (a failed
/// check gives `None`, but cannot happen).
#[inline(always)]
fn word(head: &[u8], at: u8) -> Option<[u8; 8]> {
    if at == NO_WORD {
        return None;
    }
    let at = usize::from(at);
    head.get(at..at + 8)?.first_chunk::<8>().copied()
}

/// The two u32 halves of a word, in record order.
#[inline(always)]
fn halves<E: Order>(w: [u8; 8]) -> (u32, u32) {
    (
        E::u32([w[0], w[1], w[2], w[3]]),
        E::u32([w[4], w[5], w[6], w[7]]),
    )
}

/// The fast path on a contiguous SAMPLE body `b`: `None` when the general
/// parser must decide (it then finds the same sample, or the error).
#[inline(always)]
fn decode_body<'a, E: Order>(
    layout: &SampleLayout,
    b: &'a [u8],
    misc: u16,
) -> Option<DecodedSample<'a>> {
    // Offsets are u16: only a hand-made record is this long (the general
    // parser rejects it).
    if !layout.is_fixed() || b.len() >= usize::from(u16::MAX) {
        return None;
    }
    let t = layout.info().sample_type;
    let prefix = layout.prefix();
    // One length check for every fixed-size field.
    let (head, rest) = b.split_at_checked(prefix)?;
    let (callchain, extent, end) = if t & st::CALLCHAIN != 0 {
        let (nr, ips) = rest.split_first_chunk::<8>()?;
        let nr = E::u64(*nr);
        // No overflow: the count is compared with what is left, in elements.
        if nr > (ips.len() / 8) as u64 {
            return None;
        }
        let (ips, _) = ips.split_at_checked(nr as usize * 8)?;
        let at = prefix + 8;
        // All fit a u16: the body is shorter than 64 KiB.
        (
            Some(U64Array::new(RawData::Single(ips), E::ORDER)),
            (at as u16, nr as u16),
            (at + ips.len()) as u16,
        )
    } else {
        (None, (0, 0), prefix as u16)
    };
    if layout.has_tail() && !layout.tail_fits(b, end, E::ORDER) {
        return None;
    }
    // Each word at its offset: independent reads, no walk.
    let w = layout.words();
    let id = word(head, w[H_ID]);
    let ip = word(head, w[H_IP]);
    let tid = word(head, w[H_TID]).map(halves::<E>);
    let time = word(head, w[H_TIME]);
    let addr = word(head, w[H_ADDR]);
    let stream_id = word(head, w[H_STREAM_ID]);
    let cpu = word(head, w[H_CPU]).map(|w| halves::<E>(w).0);
    let period = word(head, w[H_PERIOD]);
    Some(DecodedSample {
        head: SampleHead {
            // With both IDENTIFIER and ID, ID's word, as the layout has it.
            id: id.map(E::u64),
            ip: ip.map(E::u64),
            pid: tid.map(|(p, _)| p),
            tid: tid.map(|(_, t)| t),
            time: time.map(E::u64),
            addr: addr.map(E::u64),
            stream_id: stream_id.map(E::u64),
            cpu,
            period: period.map(E::u64),
        },
        callchain,
        sample: layout.sample(b, extent, end, misc, E::ORDER),
    })
}

impl RecordParser {
    /// Parses the record at the start of `data` (header included) when it
    /// is a SAMPLE and decodes its fixed-size fields and call chain;
    /// `Ok(None)` for every other type (parse those with
    /// [`RecordParser::parse`]).
    ///
    /// The result is [`RecordParser::parse_sample`]'s, decoded: the same
    /// sample (in [`DecodedSample::sample`]) or the same error. It is the
    /// faster way to read all of a sample's fixed-size fields: a contiguous
    /// record's fields are read in one pass after one length check, in a
    /// byte order chosen once per record.
    ///
    /// ```
    /// # use lwprof_records::raw::RawData;
    /// # use lwprof_records::record::{sample_type as st, RecordParseInfo, RecordParser};
    /// let parser = RecordParser::new(&RecordParseInfo::new(st::IP | st::TID | st::CALLCHAIN));
    /// let mut bytes = lwprof_records::abi::record_type::SAMPLE.to_ne_bytes().to_vec();
    /// bytes.extend_from_slice(&lwprof_records::abi::misc::USER.to_ne_bytes());
    /// bytes.extend_from_slice(&48u16.to_ne_bytes()); // size
    /// bytes.extend_from_slice(&0x40_1000u64.to_ne_bytes()); // ip
    /// bytes.extend_from_slice(&7u32.to_ne_bytes()); // pid
    /// bytes.extend_from_slice(&8u32.to_ne_bytes()); // tid
    /// for word in [2u64, 0x40_1000, 0x40_2000] {
    ///     bytes.extend_from_slice(&word.to_ne_bytes()); // nr, ips
    /// }
    /// let s = parser.decode_sample(RawData::Single(&bytes))?.expect("a sample");
    /// assert_eq!((s.head.ip, s.head.pid, s.head.tid), (Some(0x40_1000), Some(7), Some(8)));
    /// assert_eq!(s.head.time, None);
    /// let frames: u64 = s.callchain.into_iter().flatten().sum();
    /// assert_eq!(frames, 0x40_1000 + 0x40_2000);
    /// # Ok::<(), lwprof_records::record::ParseError>(())
    /// ```
    #[inline(always)]
    pub fn decode_sample<'a>(
        &self,
        data: RawData<'a>,
    ) -> Result<Option<DecodedSample<'a>>, ParseError> {
        // Both orders inline: an out-of-line one would return its sample in
        // memory, and the merge would put the other's there too.
        match self.info().endianness {
            Endianness::Little => self.decode_sample_in::<Le>(data),
            Endianness::Big => self.decode_sample_in::<Be>(data),
        }
    }

    /// The fast path alone on a contiguous record: `None` where
    /// [`RecordParser::decode_sample`] takes the general one.
    #[cfg(test)]
    pub(super) fn decode_sample_fast<'a>(&self, bytes: &'a [u8]) -> Option<DecodedSample<'a>> {
        fn body<'a, E: Order>(p: &RecordParser, bytes: &'a [u8]) -> Option<DecodedSample<'a>> {
            let (h, rest) = bytes.split_first_chunk::<8>()?;
            let size = usize::from(E::u16([h[6], h[7]]));
            let body = rest.get(..size.checked_sub(8)?)?;
            decode_body::<E>(p.layout(), body, E::u16([h[4], h[5]]))
        }
        match self.info().endianness {
            Endianness::Little => body::<Le>(self, bytes),
            Endianness::Big => body::<Be>(self, bytes),
        }
    }

    /// [`RecordParser::decode_sample`] with the info's byte order `E`.
    #[inline(always)]
    fn decode_sample_in<'a, E: Order>(
        &self,
        data: RawData<'a>,
    ) -> Result<Option<DecodedSample<'a>>, ParseError> {
        if let RawData::Single(bytes) = data {
            if let Some((h, rest)) = bytes.split_first_chunk::<8>() {
                if E::u32([h[0], h[1], h[2], h[3]]) != record_type::SAMPLE {
                    return Ok(None);
                }
                let misc = E::u16([h[4], h[5]]);
                let size = usize::from(E::u16([h[6], h[7]]));
                if let Some(body) = size.checked_sub(8).and_then(|n| rest.get(..n)) {
                    if let Some(s) = decode_body::<E>(self.layout(), body, misc) {
                        return Ok(Some(s));
                    }
                }
            }
        }
        self.decode_sample_slow(data)
    }

    /// [`RecordParser::decode_sample`] through the general path: a record
    /// split at the seam, a layout or a record the fast path leaves alone.
    ///
    /// The sample is decoded here, inline, from the small [`SampleRecord`]
    /// the cold call returns: were the whole [`DecodedSample`] returned
    /// from an out-of-line call, the fast path's result would be built in
    /// memory too, to merge with it, rather than kept in registers.
    #[inline(always)]
    fn decode_sample_slow<'a>(
        &self,
        data: RawData<'a>,
    ) -> Result<Option<DecodedSample<'a>>, ParseError> {
        Ok(self.parse_sample_cold(data)?.map(DecodedSample::from))
    }

    /// [`RecordParser::parse_sample`], out of line.
    #[cold]
    #[inline(never)]
    fn parse_sample_cold<'a>(
        &self,
        data: RawData<'a>,
    ) -> Result<Option<SampleRecord<'a>>, ParseError> {
        self.parse_sample(data)
    }
}
