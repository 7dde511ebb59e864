//! The sample layout of one event, worked out once from its attr, and the
//! fast path it allows: the fixed-size fields at known offsets, one length
//! check, the general parser only for what the fast path cannot decide.
//!
//! This module decides nothing the general parser would decide otherwise:
//! every sample it builds is the one [`super::SampleRecord::parse`] builds.
use super::super::cursor::{Cursor, Endianness};
use super::super::error::{ParseError, RecordType};
use super::super::info::{read_format as rf, sample_type as st, RecordParseInfo};
use super::super::RecordHeader;
use super::fields::{walk_tail, TAIL, T_LEN};
use super::*;
use crate::abi::record_type;
use crate::raw::RawData;
/// Where the fixed-size fields of one event's samples sit, worked out once
/// from its [`RecordParseInfo`] so that [`SampleLayout::parse_into`] reads them at
/// known offsets instead of walking the bitmask field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SampleLayout {
    info: RecordParseInfo,
    /// Body offset of each head word (by slot), or [`NO_WORD`].
    words: [u8; 8],
    /// Body offset of the READ values, or [`NO_WORD`].
    read: u8,
    /// Bytes of the fixed-size fields: the call chain's `nr` comes next.
    prefix: u16,
    /// False when a variable-size field (a group READ) comes before the call
    /// chain; such samples take the general path.
    fixed: bool,
}

impl SampleLayout {
    pub(crate) const fn new(info: &RecordParseInfo) -> SampleLayout {
        let t = info.sample_type;
        let mut words = [NO_WORD; 8];
        let mut off = 0u16;
        // In record order; ID after IDENTIFIER, so ID's word wins the shared
        // slot as in the general parser (the kernel writes the same value).
        let order = [
            (st::IDENTIFIER, H_ID),
            (st::IP, H_IP),
            (st::TID, H_TID),
            (st::TIME, H_TIME),
            (st::ADDR, H_ADDR),
            (st::ID, H_ID),
            (st::STREAM_ID, H_STREAM_ID),
            (st::CPU, H_CPU),
            (st::PERIOD, H_PERIOD),
        ];
        let mut i = 0;
        while i < order.len() {
            let (bit, slot) = order[i];
            if t & bit != 0 {
                words[slot] = off as u8;
                off += 8;
            }
            i += 1;
        }
        let mut read = NO_WORD;
        let mut fixed = true;
        if t & st::READ != 0 {
            let f = info.read_format;
            if f & rf::GROUP != 0 {
                fixed = false;
            } else {
                read = off as u8;
                let extra = rf::TOTAL_TIME_ENABLED | rf::TOTAL_TIME_RUNNING | rf::ID | rf::LOST;
                off += 8 * (1 + (f & extra).count_ones() as u16);
            }
        }
        SampleLayout {
            info: *info,
            words,
            read,
            prefix: off,
            fixed,
        }
    }

    pub(crate) fn info(&self) -> &RecordParseInfo {
        &self.info
    }

    /// Parses the body of a SAMPLE record: the same result as the general
    /// parser, faster when the body is contiguous and no variable-size field
    /// precedes the call chain (every other case, and every error, is left to
    /// the general parser, so errors are the same too).
    ///
    /// The sample goes to `wrap` where it is made, so that it is built in
    /// the caller's result type (`Record::Sample`, `Some`) rather than built
    /// once and then copied into it.
    #[inline(always)]
    pub(crate) fn parse_into<'a, T>(
        &self,
        body: RawData<'a>,
        order: Endianness,
        misc: u16,
        wrap: impl FnOnce(SampleRecord<'a>) -> T,
    ) -> Result<T, ParseError> {
        if let RawData::Single(b) = body {
            if let Some((callchain, end)) = self.extent(b, order) {
                if self.info.sample_type & TAIL == 0 || self.tail_fits(b, end, order) {
                    return Ok(wrap(self.sample(b, callchain, end, misc, order)));
                }
            }
        }
        self.parse_general(body, order, misc).map(wrap)
    }

    /// The sample of contiguous body `b` whose extent (see
    /// [`SampleLayout::extent`]) was checked, tail included.
    #[inline(always)]
    pub(in crate::record) fn sample<'a>(
        &self,
        b: &'a [u8],
        callchain: (u16, u16),
        end: u16,
        misc: u16,
        order: Endianness,
    ) -> SampleRecord<'a> {
        SampleRecord {
            body: RawData::Single(b),
            sample_type: self.info.sample_type,
            regs_user_mask: self.info.sample_regs_user,
            regs_intr_mask: self.info.sample_regs_intr,
            words: self.words,
            callchain,
            tail_start: end,
            misc,
            read_format: read_format_bits(self.info.read_format),
            branch_bits: branch_bits(self.info.branch_sample_type),
            read_at: self.read,
            order,
        }
    }

    /// Whether samples of this layout can take a fast path: no
    /// variable-size field before the call chain.
    #[inline(always)]
    pub(in crate::record) fn is_fixed(&self) -> bool {
        self.fixed
    }

    /// Body offset of the head word of each slot (`H_*`), or [`NO_WORD`].
    #[inline(always)]
    pub(in crate::record) fn words(&self) -> &[u8; 8] {
        &self.words
    }

    /// Bytes of the fixed-size fields before the call chain.
    #[inline(always)]
    pub(in crate::record) fn prefix(&self) -> usize {
        usize::from(self.prefix)
    }

    /// Whether the event has fields after the call chain (which the fast
    /// paths check with [`SampleLayout::tail_fits`]).
    #[inline(always)]
    pub(in crate::record) fn has_tail(&self) -> bool {
        self.info.sample_type & TAIL != 0
    }

    #[cold]
    #[inline(never)]
    pub(in crate::record) fn parse_general<'a>(
        &self,
        body: RawData<'a>,
        order: Endianness,
        misc: u16,
    ) -> Result<SampleRecord<'a>, ParseError> {
        let mut c = Cursor::new(
            body,
            RecordHeader::SIZE,
            order,
            RecordType(record_type::SAMPLE),
        );
        SampleRecord::parse(&mut c, body, &self.info, misc)
    }

    /// The fast path's checks on a contiguous body: the call chain's offset
    /// and length, and where the fields after it start; `None` when the
    /// general parser must decide (it then finds the same sample, or the
    /// error).
    #[inline(always)]
    fn extent(&self, b: &[u8], order: Endianness) -> Option<((u16, u16), u16)> {
        if !self.fixed || b.len() >= usize::from(ABSENT) {
            return None;
        }
        let prefix = usize::from(self.prefix);
        if self.info.sample_type & st::CALLCHAIN == 0 {
            // One length check for every fixed-size field; they are decoded
            // when asked for.
            return (b.len() >= prefix).then_some(((0, 0), prefix as u16));
        }
        // The same check, with the call chain's count.
        let (_, rest) = b.split_at_checked(prefix)?;
        let (nr, ips) = rest.split_first_chunk::<8>()?;
        let nr = order.u64(*nr);
        // No overflow: the count is compared with what is left, in elements.
        if nr > (ips.len() / 8) as u64 {
            return None;
        }
        let at = prefix + 8;
        let end = at + nr as usize * 8;
        // All fit a u16: the body is shorter than 64 KiB.
        Some(((at as u16, nr as u16), end as u16))
    }

    /// Whether the fields after the call chain, from `end`, fit in `b`.
    #[inline(never)]
    pub(in crate::record) fn tail_fits(&self, b: &[u8], end: u16, order: Endianness) -> bool {
        let end = usize::from(end);
        let Some(rest) = b.get(end..) else {
            return false;
        };
        let mut c = Cursor::new(
            RawData::Single(rest),
            RecordHeader::SIZE + end,
            order,
            RecordType(record_type::SAMPLE),
        );
        let i = &self.info;
        walk_tail(
            &mut c,
            i.sample_type,
            i.sample_regs_user,
            i.sample_regs_intr,
            branch_bits(i.branch_sample_type),
            T_LEN,
        )
        .is_ok()
    }
}
