//! The kernel's side of an anonymous ring, for tests and benchmarks: records
//! written forward (with LOST records when full) or backward, AUX bytes,
//! and the self-monitoring fields under the seqlock.
//!
//! This module never touches a perf fd.
use super::map::Mapping;
use crate::selfmon;
use lwprof_records::abi::record_type;
use lwprof_records::record::RecordHeader;
use lwprof_records::RecordBuilder;
use perf_event_open_sys::bindings as pb;
use std::ptr::{addr_of_mut, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
/// Plays the kernel's part on a ring made by [`super::Ring::anonymous`]: writes
/// records and publishes `data_head` exactly as `perf_output_begin` /
/// `perf_output_put_handle` do (forward, with LOST records when full, or
/// backward overwrite), writes AUX bytes, and updates the self-monitoring
/// fields under the seqlock. For tests and benchmarks; it may run on another
/// thread than the reader.
#[derive(Debug)]
pub struct RingWriter {
    pub(super) map: Arc<Mapping>,
    pub(super) page_size: usize,
    pub(super) data_size: usize,
    pub(super) aux_offset: usize,
    pub(super) aux_size: usize,
    pub(super) lost: u64,
    pub(super) lost_id: u64,
}

impl RingWriter {
    fn header(&self) -> *mut pb::perf_event_mmap_page {
        self.map.ptr.as_ptr().cast()
    }

    fn head_atomic(&self) -> &AtomicU64 {
        // SAFETY: aligned u64 in the user page, mapped while self.map lives.
        unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.header()).data_head)) }
    }

    fn tail_atomic(&self) -> &AtomicU64 {
        // SAFETY: as above.
        unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.header()).data_tail)) }
    }

    /// Sets `data_head` and `data_tail` (an empty ring at any position when
    /// equal). Call before the reader starts.
    pub fn set_positions(&mut self, head: u64, tail: u64) {
        self.tail_atomic().store(tail, Ordering::Relaxed);
        self.head_atomic().store(head, Ordering::Release);
    }

    /// The current `data_head`.
    pub fn head(&self) -> u64 {
        self.head_atomic().load(Ordering::Relaxed)
    }

    /// The id put into LOST records.
    pub fn set_lost_id(&mut self, id: u64) {
        self.lost_id = id;
    }

    /// Records dropped and not yet reported by a LOST record.
    pub fn pending_lost(&self) -> u64 {
        self.lost
    }

    pub(super) fn copy_in(&self, pos: u64, bytes: &[u8]) {
        let off = (pos & (self.data_size as u64 - 1)) as usize;
        let first = bytes.len().min(self.data_size - off);
        // SAFETY: both ranges lie in the data area (off < size, first <= size
        // - off, len - first <= size); the reader does not look at bytes past
        // data_head, and the caller checked the space against data_tail.
        unsafe {
            let base = self.map.ptr.as_ptr().add(self.page_size);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(off), first);
            std::ptr::copy_nonoverlapping(bytes.as_ptr().add(first), base, bytes.len() - first);
        }
    }

    /// Writes one record forward, like the kernel: when the ring lacks space
    /// it is dropped and counted, and the next record that fits is preceded
    /// by a `PERF_RECORD_LOST` with the count. Returns false when dropped.
    /// `record` must start with a header whose size is its length.
    pub fn write(&mut self, record: &[u8]) -> bool {
        if record.len() < RecordHeader::SIZE || record.len() > self.data_size {
            self.lost += 1;
            return false;
        }
        let head = self.head();
        // As in perf_output_begin(): read the tail, check the space, and only
        // then write (the Acquire stands in for the kernel's control
        // dependency, "A matches D").
        let tail = self.tail_atomic().load(Ordering::Acquire);
        let lost_rec = if self.lost > 0 {
            let mut p = Vec::with_capacity(16);
            p.extend_from_slice(&self.lost_id.to_ne_bytes());
            p.extend_from_slice(&self.lost.to_ne_bytes());
            RecordBuilder::new().bytes(&p).finish(record_type::LOST, 0)
        } else {
            None
        };
        let need = record.len() + lost_rec.as_ref().map_or(0, Vec::len);
        if head.wrapping_sub(tail) + need as u64 > self.data_size as u64 {
            self.lost += 1;
            return false;
        }
        let mut pos = head;
        if let Some(l) = &lost_rec {
            self.copy_in(pos, l);
            pos = pos.wrapping_add(l.len() as u64);
            self.lost = 0;
        }
        self.copy_in(pos, record);
        // perf_output_put_handle(): smp_wmb(); WRITE_ONCE(data_head).
        self.head_atomic()
            .store(pos.wrapping_add(record.len() as u64), Ordering::Release);
        true
    }

    /// Writes one record backward, overwriting the oldest data, as the kernel
    /// does for `write_backward` rings mapped read-only.
    pub fn write_backward(&mut self, record: &[u8]) {
        if record.len() < RecordHeader::SIZE || record.len() > self.data_size {
            return;
        }
        let head = self.head().wrapping_sub(record.len() as u64);
        self.copy_in(head, record);
        self.head_atomic().store(head, Ordering::Release);
    }

    /// Appends `bytes` to the AUX area at `aux_head` and publishes it; false
    /// (and nothing written) when it lacks space before `aux_tail`.
    pub fn write_aux(&mut self, bytes: &[u8]) -> bool {
        // SAFETY: aligned u64s of the user page, accessed atomically.
        let (head_a, tail_a) = unsafe {
            (
                AtomicU64::from_ptr(addr_of_mut!((*self.header()).aux_head)),
                AtomicU64::from_ptr(addr_of_mut!((*self.header()).aux_tail)),
            )
        };
        let head = head_a.load(Ordering::Relaxed);
        let tail = tail_a.load(Ordering::Acquire);
        if self.aux_size == 0 || head.wrapping_sub(tail) + bytes.len() as u64 > self.aux_size as u64
        {
            return false;
        }
        let off = (head & (self.aux_size as u64 - 1)) as usize;
        let first = bytes.len().min(self.aux_size - off);
        // SAFETY: both ranges lie in the AUX area of the mapping, and they are
        // free (between aux_head and aux_tail + size).
        unsafe {
            let base = self.map.ptr.as_ptr().add(self.aux_offset);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(off), first);
            std::ptr::copy_nonoverlapping(bytes.as_ptr().add(first), base, bytes.len() - first);
        }
        head_a.store(head.wrapping_add(bytes.len() as u64), Ordering::Release);
        true
    }

    /// Sets `aux_head` and `aux_tail`.
    pub fn set_aux_positions(&mut self, head: u64, tail: u64) {
        // SAFETY: aligned u64s of the user page, accessed atomically.
        unsafe {
            AtomicU64::from_ptr(addr_of_mut!((*self.header()).aux_tail))
                .store(tail, Ordering::Relaxed);
            AtomicU64::from_ptr(addr_of_mut!((*self.header()).aux_head))
                .store(head, Ordering::Release);
        }
    }

    /// Updates the self-monitoring fields as `perf_event_update_userpage()`
    /// does: `lock` is incremented (odd: update in progress), the fields are
    /// written, and `lock` is incremented again.
    pub fn update_user_page(&self, fields: &selfmon::UserPageFields) {
        // SAFETY: the header is the live user page of this anonymous ring.
        unsafe { selfmon::write_user_page(NonNull::new_unchecked(self.header()), fields) }
    }

    /// Increments `lock` once (leaves it odd: a writer "in progress"), for
    /// seqlock tests.
    pub fn bump_user_page_lock(&self) {
        // SAFETY: the header is the live user page of this anonymous ring.
        unsafe { selfmon::bump_lock(NonNull::new_unchecked(self.header())) }
    }
}
