//! Zero-copy views of the variable-length parts of records.
//!
//! Each view borrows the record bytes (possibly split at the ring's seam)
//! and decodes elements only when iterated; copy with
//! [`RawData::as_contiguous`] or `collect()` when you need to keep them.

use super::cursor::{Cursor, Endianness};
use super::error::RecordType;
use crate::raw::RawData;

/// Iterates over fixed-size elements of a view; the element count was
/// checked when the view was made, so reads cannot fail.
#[derive(Debug, Clone)]
struct Elements<'a> {
    cursor: Cursor<'a>,
    left: usize,
}

impl<'a> Elements<'a> {
    fn new(data: RawData<'a>, order: Endianness, size: usize) -> Self {
        let left = data.len().checked_div(size).unwrap_or(0);
        Elements {
            cursor: Cursor::new(data, 0, order, RecordType(0)),
            left,
        }
    }

    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        // The view holds `left * size` bytes, so this read is in bounds; a
        // zero keeps the iterator total rather than panicking if it were not.
        self.cursor.u64("element").unwrap_or(0)
    }
}

/// A view of an array of u64 (call chain, registers, branch counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct U64Array<'a> {
    data: RawData<'a>,
    order: Endianness,
}

impl<'a> U64Array<'a> {
    /// A view of `data` (a multiple of 8 bytes) in `order`.
    pub fn new(data: RawData<'a>, order: Endianness) -> Self {
        U64Array { data, order }
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len() / 8
    }

    /// True when there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i`, or `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<u64> {
        let at = i.checked_mul(8)?;
        self.data.read_array::<8>(at).map(|b| self.order.u64(b))
    }

    /// The elements in order.
    #[inline]
    pub fn iter(&self) -> U64Iter<'a> {
        let (cur, next) = match self.data {
            RawData::Single(a) => (a, &[][..]),
            RawData::Split(a, b) => (a, b),
        };
        U64Iter {
            cur,
            next,
            order: self.order,
        }
    }

    /// The underlying bytes.
    pub fn raw(&self) -> RawData<'a> {
        self.data
    }

    /// The elements, copied.
    pub fn to_vec(&self) -> Vec<u64> {
        self.iter().collect()
    }
}

impl<'a> IntoIterator for U64Array<'a> {
    type Item = u64;
    type IntoIter = U64Iter<'a>;
    fn into_iter(self) -> U64Iter<'a> {
        self.iter()
    }
}

/// Iterator over a [`U64Array`].
///
/// Elements are read straight from the slice before the seam, 8 bytes at a
/// time; only the one element that straddles the seam (if any) is put
/// together from both slices. Bytes past the last whole element are ignored.
#[derive(Debug, Clone)]
pub struct U64Iter<'a> {
    /// Bytes before the seam (all of them when there is none).
    cur: &'a [u8],
    /// Bytes after the seam.
    next: &'a [u8],
    order: Endianness,
}

/// The element that straddles the seam (the `cur.len() < 8` bytes of `cur`
/// and the first bytes of `next`) and the bytes after it; `None` at the end.
/// A free function taking slices by value, so the iterator's fields stay in
/// registers on the fast path.
#[cold]
#[inline(never)]
fn across_seam<'a>(cur: &[u8], next: &'a [u8], order: Endianness) -> Option<(u64, &'a [u8])> {
    let have = cur.len().min(8);
    let (after, rest) = next.split_at_checked(8 - have)?;
    let mut b = [0u8; 8];
    b[..have].copy_from_slice(&cur[..have]);
    b[have..].copy_from_slice(after);
    Some((order.u64(b), rest))
}

impl U64Iter<'_> {
    /// Moves past the seam: the element across it, if any.
    #[inline(always)]
    fn next_across_seam(&mut self) -> Option<u64> {
        let step = across_seam(self.cur, self.next, self.order);
        self.next = &[];
        match step {
            Some((v, rest)) => {
                self.cur = rest;
                Some(v)
            }
            None => {
                self.cur = &[];
                None
            }
        }
    }
}

impl Iterator for U64Iter<'_> {
    type Item = u64;

    #[inline]
    fn next(&mut self) -> Option<u64> {
        if let Some((head, tail)) = self.cur.split_first_chunk::<8>() {
            self.cur = tail;
            return Some(self.order.u64(*head));
        }
        if self.next.is_empty() {
            return None;
        }
        self.next_across_seam()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.cur.len() + self.next.len()) / 8;
        (n, Some(n))
    }

    #[inline]
    fn fold<B, F: FnMut(B, u64) -> B>(mut self, init: B, mut f: F) -> B {
        let mut acc = init;
        loop {
            // Whole elements before the seam, with the byte order decided
            // once per slice rather than per element.
            let chunks = self.cur.chunks_exact(8);
            let rest = chunks.remainder();
            match self.order {
                Endianness::Little => {
                    for c in chunks {
                        if let Ok(b) = <[u8; 8]>::try_from(c) {
                            acc = f(acc, u64::from_le_bytes(b));
                        }
                    }
                }
                Endianness::Big => {
                    for c in chunks {
                        if let Ok(b) = <[u8; 8]>::try_from(c) {
                            acc = f(acc, u64::from_be_bytes(b));
                        }
                    }
                }
            }
            self.cur = rest;
            if self.next.is_empty() {
                return acc;
            }
            match self.next_across_seam() {
                Some(v) => acc = f(acc, v),
                None => return acc,
            }
        }
    }
}

impl ExactSizeIterator for U64Iter<'_> {}

/// Counter values as laid out by `read_format` (PERF_SAMPLE_READ, READ records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadValues<'a> {
    /// One event (no PERF_FORMAT_GROUP).
    Single {
        /// The counter value.
        value: u64,
        /// PERF_FORMAT_TOTAL_TIME_ENABLED.
        time_enabled: Option<u64>,
        /// PERF_FORMAT_TOTAL_TIME_RUNNING.
        time_running: Option<u64>,
        /// PERF_FORMAT_ID.
        id: Option<u64>,
        /// PERF_FORMAT_LOST.
        lost: Option<u64>,
    },
    /// Every member of a group (PERF_FORMAT_GROUP).
    Group {
        /// PERF_FORMAT_TOTAL_TIME_ENABLED.
        time_enabled: Option<u64>,
        /// PERF_FORMAT_TOTAL_TIME_RUNNING.
        time_running: Option<u64>,
        /// One entry per member, leader first.
        members: ReadGroupMembers<'a>,
    },
}

/// The per-member values of a group read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadGroupMembers<'a> {
    pub(crate) data: RawData<'a>,
    pub(crate) order: Endianness,
    pub(crate) read_format: u64,
}

/// One member's value in a group read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadGroupMember {
    /// The counter value.
    pub value: u64,
    /// PERF_FORMAT_ID.
    pub id: Option<u64>,
    /// PERF_FORMAT_LOST.
    pub lost: Option<u64>,
}

impl<'a> ReadGroupMembers<'a> {
    pub(crate) fn stride(read_format: u64) -> usize {
        use super::info::read_format as rf;
        8 * (1 + usize::from(read_format & rf::ID != 0) + usize::from(read_format & rf::LOST != 0))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.data.len() / Self::stride(self.read_format)
    }

    /// True when the group is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members in order.
    pub fn iter(&self) -> ReadGroupIter<'a> {
        ReadGroupIter {
            inner: Elements::new(self.data, self.order, Self::stride(self.read_format)),
            read_format: self.read_format,
        }
    }
}

/// Iterator over [`ReadGroupMembers`].
#[derive(Debug, Clone)]
pub struct ReadGroupIter<'a> {
    inner: Elements<'a>,
    read_format: u64,
}

impl Iterator for ReadGroupIter<'_> {
    type Item = ReadGroupMember;
    fn next(&mut self) -> Option<ReadGroupMember> {
        use super::info::read_format as rf;
        if self.inner.left == 0 {
            return None;
        }
        self.inner.left -= 1;
        let value = self.inner.next_u64();
        let id = (self.read_format & rf::ID != 0).then(|| self.inner.next_u64());
        let lost = (self.read_format & rf::LOST != 0).then(|| self.inner.next_u64());
        Some(ReadGroupMember { value, id, lost })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.left, Some(self.inner.left))
    }
}

/// PERF_SAMPLE_BRANCH_STACK: the last branch records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchStack<'a> {
    /// `hw_idx` (PERF_SAMPLE_BRANCH_HW_INDEX).
    pub hw_idx: Option<u64>,
    pub(crate) entries: RawData<'a>,
    /// One counters word per entry (PERF_SAMPLE_BRANCH_COUNTERS).
    pub counters: Option<U64Array<'a>>,
    pub(crate) order: Endianness,
}

/// One branch: `perf_branch_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BranchEntry {
    /// Branch source address.
    pub from: u64,
    /// Branch target address.
    pub to: u64,
    /// The flag bits (mispred, predicted, in_tx, abort, cycles, type, ...).
    pub flags: u64,
}

impl BranchEntry {
    /// The branch was mispredicted.
    pub fn mispred(&self) -> bool {
        self.flags & 1 != 0
    }
    /// The branch was predicted correctly.
    pub fn predicted(&self) -> bool {
        self.flags & 2 != 0
    }
    /// Inside a transaction.
    pub fn in_tx(&self) -> bool {
        self.flags & 4 != 0
    }
    /// A transaction abort.
    pub fn abort(&self) -> bool {
        self.flags & 8 != 0
    }
    /// Cycles since the previous branch (16 bits).
    pub fn cycles(&self) -> u16 {
        ((self.flags >> 4) & 0xffff) as u16
    }
    /// Branch type (PERF_BR_*, 4 bits).
    pub fn branch_type(&self) -> u8 {
        ((self.flags >> 20) & 0xf) as u8
    }
}

impl<'a> BranchStack<'a> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len() / 24
    }
    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The entries, most recent first.
    pub fn iter(&self) -> BranchIter<'a> {
        BranchIter {
            inner: Elements::new(self.entries, self.order, 24),
        }
    }
}

/// Iterator over a [`BranchStack`].
#[derive(Debug, Clone)]
pub struct BranchIter<'a> {
    inner: Elements<'a>,
}

impl Iterator for BranchIter<'_> {
    type Item = BranchEntry;
    fn next(&mut self) -> Option<BranchEntry> {
        if self.inner.left == 0 {
            return None;
        }
        self.inner.left -= 1;
        Some(BranchEntry {
            from: self.inner.next_u64(),
            to: self.inner.next_u64(),
            flags: self.inner.next_u64(),
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.left, Some(self.inner.left))
    }
}

/// PERF_SAMPLE_REGS_USER / PERF_SAMPLE_REGS_INTR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Regs<'a> {
    /// `PERF_SAMPLE_REGS_ABI_*`: 0 = none (e.g. a kernel thread), 1 = 32-bit,
    /// 2 = 64-bit.
    pub abi: u64,
    /// The attr's register mask; bit `n` set means register `n` is present.
    pub mask: u64,
    /// The values, in ascending register number (empty when `abi` is 0).
    pub values: U64Array<'a>,
}

impl Regs<'_> {
    /// Value of register number `reg` (`PERF_REG_X86_*`, `PERF_REG_ARM64_*`,
    /// ...), or `None` when it was not sampled.
    pub fn get(&self, reg: u32) -> Option<u64> {
        if reg >= 64 || self.mask & (1u64 << reg) == 0 {
            return None;
        }
        let below = (self.mask & ((1u64 << reg) - 1)).count_ones() as usize;
        self.values.get(below)
    }
}

/// PERF_SAMPLE_STACK_USER: a copy of the user stack from the stack pointer up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserStack<'a> {
    /// The copied bytes (`attr.sample_stack_user` long; only the first
    /// `dyn_size` are meaningful).
    pub data: RawData<'a>,
    /// How many bytes the kernel actually copied (0 when `data` is empty).
    pub dyn_size: u64,
}

impl<'a> UserStack<'a> {
    /// The meaningful bytes: the first `dyn_size` of `data`.
    pub fn valid(&self) -> RawData<'a> {
        let n = usize::try_from(self.dyn_size)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        self.data.slice(0, n).unwrap_or(RawData::Single(&[]))
    }
}

/// PERF_SAMPLE_WEIGHT or PERF_SAMPLE_WEIGHT_STRUCT: the same 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weight {
    /// The whole u64 (`weight.full`).
    pub full: u64,
    /// Whether the event asked for the struct form.
    pub is_struct: bool,
}

impl Weight {
    /// `var1_dw` (e.g. the access latency), the low 32 bits.
    pub fn var1_dw(&self) -> u32 {
        self.full as u32
    }
    /// `var2_w` (e.g. the instruction latency), bits 32..48.
    pub fn var2_w(&self) -> u16 {
        (self.full >> 32) as u16
    }
    /// `var3_w`, bits 48..64.
    pub fn var3_w(&self) -> u16 {
        (self.full >> 48) as u16
    }
}

/// The namespaces of a NAMESPACES record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespaceEntries<'a> {
    pub(crate) data: RawData<'a>,
    pub(crate) order: Endianness,
}

/// One namespace: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NamespaceEntry {
    /// Device number of nsfs.
    pub dev: u64,
    /// Inode number of the namespace.
    pub inode: u64,
}

impl<'a> NamespaceEntries<'a> {
    /// Number of entries (NR_NAMESPACES on the recording kernel).
    pub fn len(&self) -> usize {
        self.data.len() / 16
    }
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The entries, indexed by `*_NS_INDEX` (net, uts, ipc, pid, user, mnt, cgroup).
    pub fn iter(&self) -> NamespaceIter<'a> {
        NamespaceIter {
            inner: Elements::new(self.data, self.order, 16),
        }
    }
}

/// Iterator over [`NamespaceEntries`].
#[derive(Debug, Clone)]
pub struct NamespaceIter<'a> {
    inner: Elements<'a>,
}

impl Iterator for NamespaceIter<'_> {
    type Item = NamespaceEntry;
    fn next(&mut self) -> Option<NamespaceEntry> {
        if self.inner.left == 0 {
            return None;
        }
        self.inner.left -= 1;
        Some(NamespaceEntry {
            dev: self.inner.next_u64(),
            inode: self.inner.next_u64(),
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.left, Some(self.inner.left))
    }
}
