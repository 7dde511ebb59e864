//! Ring buffers: the mmap'ed record stream of a perf event, read in place.
//!
//! A [`Ring`] is the mapping of `1 + 2^n` pages of a perf fd: the user page
//! (`perf_event_mmap_page`) followed by the data area the kernel writes
//! records into. Optionally an AUX area (hardware trace buffers) is mapped
//! after it by the same type ([`Ring::map_aux`]).
//!
//! Reading follows libperf's four verbs: `read_init` is [`Ring::read`], which
//! loads `data_head` once and returns a [`ReadBatch`]; `read_event` is
//! [`ReadBatch::next_record`] or the [`ReadBatch::records`] iterator, which
//! yield each record as a [`RawData`] view into the mapping (two slices when
//! the record wraps the end of the buffer: nothing is copied); `consume` is
//! [`ReadBatch::consume`], which publishes `data_tail` once for everything
//! read so far; `read_done` is dropping the batch, which consumes too. A view
//! cannot outlive the publication of the tail that frees its bytes: the borrow
//! checker enforces it.
//!
//! The ring counts what the kernel says it lost: every `PERF_RECORD_LOST`
//! (per event id), `PERF_RECORD_LOST_SAMPLES`, `THROTTLE` and `UNTHROTTLE`
//! record that passes the reader is added to [`RingStats`]. Malformed headers
//! are counted as corrupt bytes, never looped on.
//!
//! Overwrite ("flight recorder") rings are mapped without `PROT_WRITE` with
//! `attr.write_backward = 1`: the kernel overwrites the oldest records and
//! [`Ring::snapshot`] pauses output, walks from `data_head` and returns the
//! newest records in chronological order.
//!
//! The ring logic runs over any memory laid out like the kernel's: a ring made
//! by [`Ring::anonymous`] comes with a [`RingWriter`] that plays the kernel's
//! part, so tests and benchmarks craft rings with arbitrary head, tail and wrap
//! positions without a perf fd.
//!
//! The parts: `map` maps rings (and anonymous ones for tests),
//! `batch` reads forward, `snapshot` reads overwrite rings, `aux` the AUX
//! area, `stats` counts what went by, `writer` plays the kernel. This file
//! holds the ring itself: its user-page atomics and the in-place views.
//!
//! This module does not parse records beyond the 8-byte header and the
//! counters of LOST / LOST_SAMPLES; typed records belong to the record parser.

mod aux;
mod batch;
mod map;
mod snapshot;
mod stats;
#[cfg(test)]
mod tests;
mod writer;

pub use aux::AuxBatch;
pub use batch::{ReadBatch, Records};
pub use map::RingOptions;
pub use snapshot::{Snapshot, SnapshotRecords};
pub use stats::RingStats;
pub use writer::RingWriter;

use crate::budget::{Reservation, Shrunk};
use crate::error::{Error, Result};
use crate::raw::RawData;
use crate::selfmon::{self, UserPageReading};
use crate::sys;
use lwprof_records::abi::record_type;
use lwprof_records::record::{Endianness, RecordHeader};
use map::Mapping;
use perf_event_open_sys::bindings as pb;
use stats::counter_words;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::{addr_of_mut, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The ring buffer of one perf event (or of several redirected into it with
/// `PERF_EVENT_IOC_SET_OUTPUT`).
#[derive(Debug)]
pub struct Ring {
    // Field order is drop order: the AUX area is unmapped before the ring.
    aux: Option<Arc<Mapping>>,
    map: Arc<Mapping>,
    fd: Option<OwnedFd>,
    page_size: usize,
    data_size: usize,
    aux_size: usize,
    overwrite: bool,
    paused: bool,
    stats: RingStats,
    /// data_head at the previous snapshot (overwrite mode).
    last_snapshot_head: Option<u64>,
    /// Record starts of the current snapshot (reused allocation).
    scratch: Vec<u64>,
    reservation: Option<Reservation>,
    aux_reservation: Option<Reservation>,
}

impl Ring {
    fn header(&self) -> *mut pb::perf_event_mmap_page {
        self.map.ptr.as_ptr().cast()
    }

    /// The user page, for the self-monitoring tests.
    #[cfg(test)]
    pub(crate) fn user_page_ptr(&self) -> *mut pb::perf_event_mmap_page {
        self.header()
    }

    fn data_ptr(&self) -> *const u8 {
        // SAFETY: the data area starts one page into the mapping, which is
        // (1 + data pages) pages long.
        unsafe { self.map.ptr.as_ptr().add(self.page_size) }
    }

    fn aux_ptr(&self) -> Option<*const u8> {
        match &self.aux {
            Some(m) => Some(m.ptr.as_ptr().cast_const()),
            None if self.aux_size > 0 => {
                // SAFETY: an anonymous ring keeps its AUX area right after
                // the data area, inside the one mapping.
                Some(unsafe { self.map.ptr.as_ptr().add(self.page_size + self.data_size) })
            }
            None => None,
        }
    }

    /// `data_head`, loaded with Acquire.
    ///
    /// Pairs with the kernel's publication of `data_head` in
    /// `perf_output_put_handle()` (kernel/events/ring_buffer.c): it writes the
    /// record bytes, issues `smp_wmb()` (barrier "B") and then stores
    /// `data_head` with `WRITE_ONCE`. Our Acquire is the reader's `smp_rmb()`
    /// ("C", which "matches B"): every record byte before `data_head` is
    /// visible once we see the new head.
    fn load_head(&self) -> u64 {
        // SAFETY: data_head is an aligned u64 in the live user page; the
        // kernel writes it concurrently, so it is only accessed atomically.
        unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.header()).data_head)) }
            .load(Ordering::Acquire)
    }

    /// `data_tail` as we last published it (we are its only writer).
    fn load_tail(&self) -> u64 {
        // SAFETY: aligned u64 in the live user page, accessed atomically.
        unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.header()).data_tail)) }
            .load(Ordering::Relaxed)
    }

    /// Publishes `data_tail` with Release.
    ///
    /// Pairs with the kernel's read of `data_tail` in `perf_output_begin()`:
    /// `READ_ONCE(rb->user_page->data_tail)` followed by the space check whose
    /// control dependency orders it before the kernel's stores of new record
    /// bytes (barrier "A", which "matches D", the reader's `smp_mb()` before
    /// storing the tail). Our Release orders every load of the consumed
    /// records before the store, so the kernel cannot overwrite bytes we are
    /// still reading.
    fn store_tail(&self, tail: u64) {
        debug_assert!(!self.overwrite);
        // SAFETY: aligned u64 in the live user page, which is writable in
        // forward mode (the only mode that calls this).
        unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.header()).data_tail)) }
            .store(tail, Ordering::Release)
    }

    /// Bytes in the data area (0 for a header-only mapping).
    pub fn data_size(&self) -> usize {
        self.data_size
    }

    /// Bytes in the AUX area (0 when none is mapped).
    pub fn aux_size(&self) -> usize {
        self.aux_size
    }

    /// True for an overwrite (flight-recorder) ring.
    pub fn is_overwrite(&self) -> bool {
        self.overwrite
    }

    /// The warning when the budget made the data area smaller than asked.
    pub fn shrunk(&self) -> Option<&Shrunk> {
        self.reservation.as_ref().and_then(Reservation::shrunk)
    }

    /// What went by so far, and what the kernel reported lost.
    pub fn stats(&self) -> &RingStats {
        &self.stats
    }

    /// The perf fd this ring was mapped from (a duplicate it owns), for a
    /// [`crate::poll::Poller`]; `None` for an anonymous ring.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(|f| f.as_fd())
    }

    /// Bytes written by the kernel and not yet consumed (forward mode).
    pub fn pending_bytes(&self) -> u64 {
        self.load_head().wrapping_sub(self.load_tail())
    }

    /// Stops the kernel writing into this ring (`PERF_EVENT_IOC_PAUSE_OUTPUT`).
    /// Records produced meanwhile are counted as lost and reported by a
    /// `PERF_RECORD_LOST` after [`Ring::resume`]. No-op on an anonymous ring.
    pub fn pause(&mut self) -> Result<()> {
        if let Some(fd) = &self.fd {
            sys::pause_output(fd.as_fd(), true).map_err(|e| Error::io("pause ring output", e))?;
        }
        self.paused = true;
        Ok(())
    }

    /// Lets the kernel write again.
    pub fn resume(&mut self) -> Result<()> {
        if let Some(fd) = &self.fd {
            sys::pause_output(fd.as_fd(), false).map_err(|e| Error::io("resume ring output", e))?;
        }
        self.paused = false;
        Ok(())
    }

    /// True between [`Ring::pause`] and [`Ring::resume`].
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// One consistent reading of the user page's self-monitoring fields (the
    /// seqlock protocol; rdpmc when the kernel allows it). See
    /// [`crate::selfmon::read_user_page`].
    pub fn user_page(&self) -> UserPageReading {
        // SAFETY: the header points at the live user page for as long as self.
        unsafe { selfmon::read_user_page(NonNull::new_unchecked(self.header()), selfmon::rdpmc) }
    }

    /// The record starting at ring position `pos`, if it lies within `limit`
    /// bytes from `pos` and has a sane header.
    #[inline]
    fn record_at(&self, pos: u64, limit: u64) -> Option<(RecordHeader, RawData<'_>)> {
        let header = self.header_at(pos, limit)?;
        Some((header, self.view(pos, header.size as usize)))
    }

    /// The header of the record at `pos`, if sane and within `limit` bytes.
    #[inline(always)]
    fn header_at(&self, pos: u64, limit: u64) -> Option<RecordHeader> {
        if limit < RecordHeader::SIZE as u64 || self.data_size == 0 {
            return None;
        }
        let off = (pos & (self.data_size as u64 - 1)) as usize;
        let header = if off + RecordHeader::SIZE <= self.data_size {
            // SAFETY: the 8 bytes lie in the data area (off + 8 <= size) and
            // were published by the kernel (limit >= 8 from pos).
            let b: [u8; 8] = unsafe { std::ptr::read_unaligned(self.data_ptr().add(off).cast()) };
            RecordHeader {
                record_type: u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
                misc: u16::from_ne_bytes([b[4], b[5]]),
                size: u16::from_ne_bytes([b[6], b[7]]),
            }
        } else {
            RecordHeader::parse(self.view(pos, RecordHeader::SIZE), Endianness::NATIVE)?
        };
        if (header.size as usize) < RecordHeader::SIZE || header.size as u64 > limit {
            return None;
        }
        Some(header)
    }

    /// Counts the record at `pos` (with header `h`) in the stats.
    #[inline(always)]
    fn note_record(&mut self, pos: u64, h: &RecordHeader) {
        if h.record_type == record_type::SAMPLE {
            // The common case, kept short: a drain walks mostly samples.
            self.stats.records += 1;
            self.stats.bytes += h.size as u64;
            self.stats.samples += 1;
        } else {
            self.note_other_record(pos, h);
        }
    }

    /// [`Ring::note_record`] for every type but samples.
    #[inline(never)]
    fn note_other_record(&mut self, pos: u64, h: &RecordHeader) {
        let words = if matches!(h.record_type, record_type::LOST | record_type::LOST_SAMPLES) {
            counter_words(h, &self.view(pos, h.size as usize))
        } else {
            [0, 0]
        };
        self.stats.note(h, words);
    }

    /// `len` bytes (<= data_size) of the data area from ring position `pos`,
    /// as one or two slices.
    #[inline(always)]
    fn view(&self, pos: u64, len: usize) -> RawData<'_> {
        let size = self.data_size;
        let off = (pos & (size as u64 - 1)) as usize;
        let first = len.min(size - off);
        // SAFETY: off < size and off + first <= size, and len - first <= size:
        // both ranges lie in the data area, mapped for as long as `self`.
        // Callers only view bytes the kernel has published (before data_head)
        // and not yet released (after data_tail), which it does not write;
        // in overwrite mode, output is paused while a snapshot is read.
        unsafe {
            let base = self.data_ptr();
            RawData::new(
                std::slice::from_raw_parts(base.add(off), first),
                std::slice::from_raw_parts(base, len - first),
            )
        }
    }
}
