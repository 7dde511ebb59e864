//! The AUX area: hardware trace buffers (Intel PT/BTS, ARM SPE, CoreSight)
//! mapped after the data area of the same ring, and read in place between
//! `aux_tail` and `aux_head`.
//!
//! This module does not decode trace data: it hands out the bytes.
use super::map::{bad_pages, mmap_error, Mapping};
use super::Ring;
use crate::budget::{Budget, Shrunk, SizePolicy};
use crate::error::{Error, Result};
use crate::raw::RawData;
use std::os::fd::AsFd;
use std::ptr::addr_of_mut;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
impl Ring {
    /// Maps an AUX area of `aux_pages` (a power of two) after the data area:
    /// writes `aux_offset`/`aux_size` into the user page and mmaps that range
    /// of the fd, read-only in overwrite mode. Returns the shrink warning if
    /// the budget made it smaller. Needs a PMU with an AUX buffer (Intel PT,
    /// BTS, ARM SPE, CoreSight); others fail with EINVAL or ENOTSUP.
    pub fn map_aux(
        &mut self,
        aux_pages: usize,
        policy: SizePolicy,
        budget: Option<Arc<Budget>>,
    ) -> Result<Option<Shrunk>> {
        if !aux_pages.is_power_of_two() {
            return Err(bad_pages("AUX area", aux_pages));
        }
        let fd = self
            .fd
            .as_ref()
            .ok_or_else(|| Error::misuse("map_aux on an anonymous ring"))?;
        if self.aux.is_some() {
            return Err(Error::misuse("map_aux: the AUX area is already mapped"));
        }
        if self.overwrite {
            return Err(Error::misuse(
                "map_aux: an overwrite ring's user page is read-only; map the AUX area on a forward ring",
            ));
        }
        let budget = budget.unwrap_or_else(|| Arc::clone(Budget::global()));
        // The kernel charges the AUX pages alone (no extra user page).
        let reservation = budget.reserve(aux_pages, 0, policy)?;
        let offset = self.map.len;
        let len = reservation.data_pages() * self.page_size;
        let hdr = self.header();
        // SAFETY: the user page is mapped writable (forward mode) and these
        // two fields are ours to set; the kernel reads them in perf_mmap() of
        // the AUX range, which the mmap system call orders after these stores.
        unsafe {
            (*hdr).aux_offset = offset as u64;
            (*hdr).aux_size = len as u64;
        }
        let map = Mapping::new(Some(fd.as_fd()), len, offset, true)
            .map_err(|e| mmap_error(e, len, &budget))?;
        let shrunk = reservation.shrunk().cloned();
        self.aux = Some(Arc::new(map));
        self.aux_size = len;
        self.aux_reservation = Some(reservation);
        Ok(shrunk)
    }

    /// Reads the AUX area: the bytes between `aux_tail` and `aux_head`, in
    /// place. `None` when no AUX area is mapped. Dropping the batch publishes
    /// `aux_tail`.
    pub fn aux_read(&mut self) -> Option<AuxBatch<'_>> {
        let base = self.aux_ptr()?;
        if self.overwrite {
            return None;
        }
        // SAFETY: aligned u64s of the live user page, accessed atomically.
        // Acquire pairs with the publication of aux_head: the PMU driver
        // issues the write barrier ("B") after the hardware's trace data,
        // then perf_aux_output_end() stores aux_head (see
        // Documentation/userspace-api/perf_ring_buffer.rst, "AUX events").
        let head = unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.header()).aux_head)) }
            .load(Ordering::Acquire);
        // SAFETY: as above; we are aux_tail's only writer.
        let tail = unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.header()).aux_tail)) }
            .load(Ordering::Relaxed);
        let size = self.aux_size as u64;
        let len = head.wrapping_sub(tail).min(size) as usize;
        Some(AuxBatch {
            ring: self,
            base,
            start: head.wrapping_sub(len as u64),
            len,
            head,
            overrun: head.wrapping_sub(tail) > size,
        })
    }
}

/// The unread bytes of the AUX area. Dropping it publishes `aux_tail`.
#[derive(Debug)]
pub struct AuxBatch<'r> {
    ring: &'r mut Ring,
    base: *const u8,
    start: u64,
    len: usize,
    head: u64,
    overrun: bool,
}

impl AuxBatch<'_> {
    /// The bytes between `aux_tail` and `aux_head`, in place (two slices when
    /// they wrap).
    pub fn data(&self) -> RawData<'_> {
        let size = self.ring.aux_size;
        let off = (self.start & (size as u64 - 1)) as usize;
        let first = self.len.min(size - off);
        // SAFETY: both ranges lie in the AUX area (off < size, first <= size -
        // off, len - first <= size), mapped while the ring lives; the kernel
        // does not write between aux_tail and aux_head until we publish
        // aux_tail, which happens on drop, after every borrow of self.
        unsafe {
            RawData::new(
                std::slice::from_raw_parts(self.base.add(off), first),
                std::slice::from_raw_parts(self.base, self.len - first),
            )
        }
    }

    /// True when the producer ran more than a buffer ahead (data was lost;
    /// only the newest `aux_size` bytes are returned).
    pub fn overrun(&self) -> bool {
        self.overrun
    }
}

impl Drop for AuxBatch<'_> {
    fn drop(&mut self) {
        // Release pairs with the kernel's READ_ONCE of aux_tail in
        // perf_aux_output_begin(), which computes the free space from it
        // before the PMU writes new data: our reads of the bytes above happen
        // before the kernel may overwrite them.
        // SAFETY: aligned u64 in the live, writable user page.
        unsafe { AtomicU64::from_ptr(addr_of_mut!((*self.ring.header()).aux_tail)) }
            .store(self.head, Ordering::Release);
    }
}
