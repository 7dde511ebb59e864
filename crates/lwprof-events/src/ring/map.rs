//! Mapping a ring: the options, the mmap'ed regions (unmapped on drop), a
//! ring of a perf fd drawn from the locked-memory budget, and an anonymous
//! ring for tests with the writer that plays the kernel.
//!
//! This module does not read records; the mapped ring is read by
//! [`super::batch`] and [`super::snapshot`].
use super::{Ring, RingStats, RingWriter};
use crate::budget::{Budget, SizePolicy};
use crate::error::{Error, Result};
use perf_event_open_sys::bindings as pb;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::Arc;
/// How to map a ring.
#[derive(Debug, Clone)]
pub struct RingOptions {
    /// Data pages: 0 (the user page alone, for self-monitoring) or a power of two.
    pub data_pages: usize,
    /// Map without `PROT_WRITE` (overwrite mode). Pair it with
    /// `attr.write_backward = 1` and read with [`Ring::snapshot`].
    pub overwrite: bool,
    /// Shrink or fail when the budget is short.
    pub policy: SizePolicy,
    /// The budget to draw from; `None` for [`Budget::global`].
    pub budget: Option<Arc<Budget>>,
}

impl Default for RingOptions {
    /// A forward ring of perf's default per-CPU size (fits `perf_event_mlock_kb`).
    fn default() -> Self {
        RingOptions {
            data_pages: Budget::global().limits().default_ring_pages(),
            overwrite: false,
            policy: SizePolicy::Shrink,
            budget: None,
        }
    }
}

/// One mmap'ed region, unmapped on drop.
#[derive(Debug)]
pub(super) struct Mapping {
    pub(super) ptr: NonNull<u8>,
    pub(super) len: usize,
}

// SAFETY: a Mapping is a plain address range; who may touch which bytes is
// decided by the ring protocol, not by the thread that mapped it.
unsafe impl Send for Mapping {}
// SAFETY: as above; all shared mutation goes through atomics or the protocol.
unsafe impl Sync for Mapping {}

impl Mapping {
    pub(super) fn new(
        fd: Option<BorrowedFd<'_>>,
        len: usize,
        offset: usize,
        writable: bool,
    ) -> io::Result<Self> {
        let prot = libc::PROT_READ | if writable { libc::PROT_WRITE } else { 0 };
        let (flags, raw) = match fd {
            Some(fd) => (libc::MAP_SHARED, fd.as_raw_fd()),
            None => (libc::MAP_SHARED | libc::MAP_ANONYMOUS, -1),
        };
        // An offset past off_t is what mmap(2) itself refuses with EOVERFLOW.
        let off = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
        // SAFETY: a fresh mapping at an address of the kernel's choosing; no
        // existing memory is affected.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, raw, off) };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        match NonNull::new(p.cast()) {
            Some(ptr) => Ok(Mapping { ptr, len }),
            // Only with vm.mmap_min_addr = 0 could a non-fixed mapping land at
            // address 0; give it back rather than hold a null base.
            None => {
                // SAFETY: the mapping was just made and nothing refers to it.
                unsafe { libc::munmap(p, len) };
                Err(io::Error::other("mmap placed the ring at address 0"))
            }
        }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: we own this mapping and every borrow of it has ended (views
        // borrow the Ring, which holds the last Arc or outlives the writer's).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

pub(super) fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

pub(super) fn bad_pages(what: &str, pages: usize) -> Error {
    Error::misuse(format!(
        "{what}: {pages} pages requested; a ring needs 0 or a power of two"
    ))
}

impl Ring {
    /// Maps the ring of the perf event `fd`: the user page plus
    /// `opts.data_pages` data pages (shrunk to fit the budget under
    /// [`SizePolicy::Shrink`]; see [`Ring::shrunk`]). The ring keeps a
    /// duplicate of `fd` for pause/resume and polling.
    pub fn map(fd: BorrowedFd<'_>, opts: &RingOptions) -> Result<Ring> {
        if opts.data_pages != 0 && !opts.data_pages.is_power_of_two() {
            return Err(bad_pages("ring", opts.data_pages));
        }
        let budget = opts
            .budget
            .clone()
            .unwrap_or_else(|| Arc::clone(Budget::global()));
        let reservation = budget.reserve(opts.data_pages, 1, opts.policy)?;
        let page = page_size();
        let len = (1 + reservation.data_pages()) * page;
        let map = Mapping::new(Some(fd), len, 0, !opts.overwrite)
            .map_err(|e| mmap_error(e, len, &budget))?;
        let dup = fd
            .try_clone_to_owned()
            .map_err(|e| Error::io("duplicating the perf fd of a ring", e))?;
        Ok(Ring {
            map: Arc::new(map),
            aux: None,
            fd: Some(dup),
            page_size: page,
            data_size: reservation.data_pages() * page,
            aux_size: 0,
            overwrite: opts.overwrite,
            paused: false,
            stats: RingStats::default(),
            last_snapshot_head: None,
            scratch: Vec::new(),
            reservation: Some(reservation),
            aux_reservation: None,
        })
    }

    /// A ring over anonymous memory laid out like the kernel's (user page,
    /// `data_pages` data pages, `aux_pages` AUX pages), with the
    /// [`RingWriter`] that plays the kernel's part. For tests and benchmarks;
    /// it draws nothing from the budget.
    pub fn anonymous(
        data_pages: usize,
        aux_pages: usize,
        overwrite: bool,
    ) -> Result<(Ring, RingWriter)> {
        if data_pages != 0 && !data_pages.is_power_of_two() {
            return Err(bad_pages("anonymous ring", data_pages));
        }
        if aux_pages != 0 && !aux_pages.is_power_of_two() {
            return Err(bad_pages("anonymous AUX area", aux_pages));
        }
        let page = page_size();
        let len = (1 + data_pages + aux_pages) * page;
        let map = Arc::new(
            Mapping::new(None, len, 0, true)
                .map_err(|e| Error::io("mmap of an anonymous ring", e))?,
        );
        let hdr = map.ptr.as_ptr().cast::<pb::perf_event_mmap_page>();
        // SAFETY: the mapping is fresh, zeroed, page-aligned and at least one
        // page long, so the header struct (1 KiB + fields) fits and nobody
        // else sees it yet.
        unsafe {
            (*hdr).data_offset = page as u64;
            (*hdr).data_size = (data_pages * page) as u64;
            (*hdr).aux_offset = if aux_pages > 0 {
                ((1 + data_pages) * page) as u64
            } else {
                0
            };
            (*hdr).aux_size = (aux_pages * page) as u64;
        }
        let ring = Ring {
            map: Arc::clone(&map),
            aux: None,
            fd: None,
            page_size: page,
            data_size: data_pages * page,
            aux_size: aux_pages * page,
            overwrite,
            paused: false,
            stats: RingStats::default(),
            last_snapshot_head: None,
            scratch: Vec::new(),
            reservation: None,
            aux_reservation: None,
        };
        let writer = RingWriter {
            map,
            page_size: page,
            data_size: data_pages * page,
            aux_offset: (1 + data_pages) * page,
            aux_size: aux_pages * page,
            lost: 0,
            lost_id: 0,
        };
        Ok((ring, writer))
    }
}

pub(super) fn mmap_error(e: io::Error, len: usize, budget: &Budget) -> Error {
    if e.raw_os_error() == Some(libc::EPERM) {
        Error::io(
            format!(
                "mmap of a {} KiB perf ring refused by the kernel's locked-memory accounting; {}",
                len / 1024,
                budget.limits().advice(len / budget.limits().page_size)
            ),
            e,
        )
    } else {
        Error::io(format!("mmap of a {} KiB perf ring", len / 1024), e)
    }
}
