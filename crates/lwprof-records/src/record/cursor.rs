//! A forward reader over [`RawData`] in a chosen byte order.
//!
//! The cursor keeps the current slice and the one after the ring's seam, so
//! fixed-size reads take the fast path (one bounds check on one slice) except
//! for the one read that straddles the seam. Views of variable-length fields
//! are [`RawData`] again: nothing is copied.

use super::error::{ParseError, RecordType};
use crate::raw::RawData;

/// Byte order of the record bytes.
///
/// Records read from a live ring are in the machine's order
/// ([`Endianness::NATIVE`], the default); a perf.data file written on a
/// machine of the other order says so in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endianness {
    /// Least significant byte first (x86-64, aarch64, riscv).
    Little,
    /// Most significant byte first (s390x, big-endian powerpc).
    Big,
}

impl Endianness {
    /// The order of the machine this code runs on.
    #[cfg(target_endian = "little")]
    pub const NATIVE: Endianness = Endianness::Little;
    /// The order of the machine this code runs on.
    #[cfg(target_endian = "big")]
    pub const NATIVE: Endianness = Endianness::Big;

    /// Decodes a u64.
    #[inline(always)]
    pub fn u64(self, b: [u8; 8]) -> u64 {
        match self {
            Endianness::Little => u64::from_le_bytes(b),
            Endianness::Big => u64::from_be_bytes(b),
        }
    }

    /// Decodes a u32.
    #[inline(always)]
    pub fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endianness::Little => u32::from_le_bytes(b),
            Endianness::Big => u32::from_be_bytes(b),
        }
    }

    /// Decodes a u16.
    #[inline(always)]
    pub fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endianness::Little => u16::from_le_bytes(b),
            Endianness::Big => u16::from_be_bytes(b),
        }
    }
}

impl Default for Endianness {
    fn default() -> Self {
        Endianness::NATIVE
    }
}

/// Reads fields in order from record bytes that may be split in two.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    cur: &'a [u8],
    next: &'a [u8],
    /// Byte offset of `cur[0]` within the record (header included).
    offset: usize,
    pub(crate) order: Endianness,
    pub(crate) record: RecordType,
}

impl<'a> Cursor<'a> {
    /// A cursor over `data`, whose first byte sits at `offset` in the record.
    #[inline(always)]
    pub(crate) fn new(
        data: RawData<'a>,
        offset: usize,
        order: Endianness,
        record: RecordType,
    ) -> Self {
        let (cur, next) = match data {
            RawData::Single(a) => (a, &[][..]),
            RawData::Split(a, b) => (a, b),
        };
        Cursor {
            cur,
            next,
            offset,
            order,
            record,
        }
    }

    /// Bytes left.
    #[inline(always)]
    pub(crate) fn remaining(&self) -> usize {
        self.cur.len() + self.next.len()
    }

    /// Byte offset of the next read within the record.
    #[inline(always)]
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    #[cold]
    #[inline(never)]
    fn truncated(&self, field: &'static str, needed: usize) -> ParseError {
        ParseError::Truncated {
            record: self.record,
            field,
            offset: self.offset,
            needed,
            available: self.remaining(),
        }
    }

    /// Reads N bytes; the slow path handles the seam.
    #[inline(always)]
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ParseError> {
        if let Some((head, tail)) = self.cur.split_first_chunk::<N>() {
            self.cur = tail;
            self.offset += N;
            return Ok(*head);
        }
        self.array_slow(field)
    }

    #[inline(never)]
    fn array_slow<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ParseError> {
        if self.remaining() < N {
            return Err(self.truncated(field, N));
        }
        let mut out = [0u8; N];
        let first = self.cur.len();
        out[..first].copy_from_slice(self.cur);
        let rest = N - first;
        out[first..].copy_from_slice(&self.next[..rest]);
        self.cur = &self.next[rest..];
        self.next = &[];
        self.offset += N;
        Ok(out)
    }

    /// Reads a u64.
    #[inline(always)]
    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, ParseError> {
        let b = self.array::<8>(field)?;
        Ok(self.order.u64(b))
    }

    /// Reads a u32.
    #[inline(always)]
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, ParseError> {
        let b = self.array::<4>(field)?;
        Ok(self.order.u32(b))
    }

    /// Reads a u16.
    #[inline(always)]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, ParseError> {
        let b = self.array::<2>(field)?;
        Ok(self.order.u16(b))
    }

    /// Reads N raw bytes.
    #[inline(always)]
    pub(crate) fn bytes<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], ParseError> {
        self.array::<N>(field)
    }

    /// Takes a view of the next `len` bytes, without copying.
    #[inline(always)]
    pub(crate) fn view(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<RawData<'a>, ParseError> {
        if len <= self.cur.len() {
            let (head, tail) = self.cur.split_at(len);
            self.cur = tail;
            self.offset += len;
            return Ok(RawData::Single(head));
        }
        self.view_slow(len, field)
    }

    #[inline(never)]
    fn view_slow(&mut self, len: usize, field: &'static str) -> Result<RawData<'a>, ParseError> {
        if self.remaining() < len {
            return Err(self.truncated(field, len));
        }
        let rest = len - self.cur.len();
        let view = RawData::new(self.cur, &self.next[..rest]);
        self.cur = &self.next[rest..];
        self.next = &[];
        self.offset += len;
        Ok(view)
    }

    /// Takes a view of `count` elements of `size` bytes each.
    #[inline(always)]
    pub(crate) fn array_view(
        &mut self,
        count: u64,
        size: usize,
        field: &'static str,
    ) -> Result<RawData<'a>, ParseError> {
        match usize::try_from(count)
            .ok()
            .and_then(|c| c.checked_mul(size))
        {
            Some(len) => self.view(len, field),
            None => Err(self.truncated(field, usize::MAX)),
        }
    }

    /// Everything left, as a view.
    #[inline(always)]
    pub(crate) fn rest(&mut self) -> RawData<'a> {
        let view = RawData::new(self.cur, self.next);
        self.offset += self.remaining();
        self.cur = &[];
        self.next = &[];
        view
    }
}
