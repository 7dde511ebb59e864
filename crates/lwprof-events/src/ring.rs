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
//! This module does not parse records beyond the 8-byte header and the
//! counters of LOST / LOST_SAMPLES; typed records belong to the record parser.

use crate::budget::{Budget, Reservation, Shrunk, SizePolicy};
use crate::error::{Error, Result};
use crate::raw::RawData;
use crate::selfmon::{self, UserPageReading};
use crate::sys;
use lwprof_records::abi::record_type;
use lwprof_records::record::{Endianness, RecordHeader};
use lwprof_records::RecordBuilder;
use perf_event_open_sys::bindings as pb;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ptr::{addr_of_mut, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What the reader saw go by, and above all what the kernel reports lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Records read (every type, LOST included).
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// Samples (`PERF_RECORD_SAMPLE`) read.
    pub samples: u64,
    /// Sum of the `lost` fields of every `PERF_RECORD_LOST`: records the
    /// kernel dropped because the ring was full (or paused).
    pub lost: u64,
    /// The same, per event id, in order of first appearance.
    pub lost_by_id: Vec<(u64, u64)>,
    /// `PERF_RECORD_LOST` records seen.
    pub lost_records: u64,
    /// Sum of `PERF_RECORD_LOST_SAMPLES.lost` (samples the PMU or the AUX
    /// path dropped before they reached the ring).
    pub lost_samples: u64,
    /// `PERF_RECORD_THROTTLE` records: sampling was stopped for exceeding
    /// `kernel.perf_event_max_sample_rate`; samples missing meanwhile are
    /// not in `lost`.
    pub throttles: u64,
    /// `PERF_RECORD_UNTHROTTLE` records.
    pub unthrottles: u64,
    /// Bytes skipped because a record header was malformed (size < 8 or past
    /// `data_head`); non-zero means a kernel or crafting bug.
    pub corrupt_bytes: u64,
}

impl RingStats {
    /// Lost records reported for one event id.
    pub fn lost_for(&self, id: u64) -> u64 {
        self.lost_by_id
            .iter()
            .find(|(i, _)| *i == id)
            .map_or(0, |(_, n)| *n)
    }

    /// Adds another ring's counts (e.g. every CPU of one session).
    pub fn accumulate(&mut self, other: &RingStats) {
        self.records += other.records;
        self.bytes += other.bytes;
        self.samples += other.samples;
        self.lost += other.lost;
        self.lost_records += other.lost_records;
        self.lost_samples += other.lost_samples;
        self.throttles += other.throttles;
        self.unthrottles += other.unthrottles;
        self.corrupt_bytes += other.corrupt_bytes;
        for &(id, n) in &other.lost_by_id {
            self.add_lost(id, n);
        }
    }

    fn add_lost(&mut self, id: u64, n: u64) {
        match self.lost_by_id.iter_mut().find(|(i, _)| *i == id) {
            Some(slot) => slot.1 += n,
            None => self.lost_by_id.push((id, n)),
        }
    }

    #[inline]
    /// Counts one record that went by; `words` are its u64s at offsets 8 and
    /// 16 (see [`counter_words`]).
    fn note(&mut self, header: &RecordHeader, words: [u64; 2]) {
        self.records += 1;
        self.bytes += header.size as u64;
        match header.record_type {
            record_type::SAMPLE => self.samples += 1,
            record_type::LOST => {
                // struct { header; u64 id; u64 lost; sample_id }
                self.lost_records += 1;
                self.lost += words[1];
                self.add_lost(words[0], words[1]);
            }
            // struct { header; u64 lost; sample_id }
            record_type::LOST_SAMPLES => self.lost_samples += words[0],
            record_type::THROTTLE => self.throttles += 1,
            record_type::UNTHROTTLE => self.unthrottles += 1,
            _ => {}
        }
    }
}

/// The u64s at offsets 8 and 16 of a LOST / LOST_SAMPLES record (zeros for
/// other types, or when the record is too short).
fn counter_words(header: &RecordHeader, data: &RawData<'_>) -> [u64; 2] {
    match header.record_type {
        record_type::LOST => [
            data.read_u64(8).unwrap_or(0),
            data.read_u64(16).unwrap_or(0),
        ],
        record_type::LOST_SAMPLES => [data.read_u64(8).unwrap_or(0), 0],
        _ => [0, 0],
    }
}

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
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a Mapping is a plain address range; who may touch which bytes is
// decided by the ring protocol, not by the thread that mapped it.
unsafe impl Send for Mapping {}
// SAFETY: as above; all shared mutation goes through atomics or the protocol.
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(
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
        let off = libc::off_t::try_from(offset)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a fresh mapping at an address of the kernel's choosing; no
        // existing memory is affected.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, raw, off) };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            // mmap never returns NULL on success for a non-fixed mapping.
            ptr: NonNull::new(p.cast()).ok_or_else(|| io::Error::from(io::ErrorKind::Other))?,
            len,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: we own this mapping and every borrow of it has ended (views
        // borrow the Ring, which holds the last Arc or outlives the writer's).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

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

fn page_size() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}

fn bad_pages(what: &str, pages: usize) -> Error {
    Error::io(
        format!("{what}: {pages} pages requested; a ring needs 0 or a power of two"),
        io::Error::from(io::ErrorKind::InvalidInput),
    )
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
        let fd = self.fd.as_ref().ok_or_else(|| {
            Error::io(
                "map_aux on an anonymous ring",
                io::Error::from(io::ErrorKind::Unsupported),
            )
        })?;
        if self.aux.is_some() {
            return Err(Error::io(
                "map_aux: the AUX area is already mapped",
                io::Error::from(io::ErrorKind::AlreadyExists),
            ));
        }
        if self.overwrite {
            return Err(Error::io(
                "map_aux: an overwrite ring's user page is read-only; map the AUX area on a forward ring",
                io::Error::from(io::ErrorKind::Unsupported),
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
            // SAFETY: an anonymous ring keeps its AUX area right after the data area.
            None if self.aux_size > 0 => {
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

    /// `read_init`: loads `data_head` once and returns the batch of records
    /// between the tail and that head. Records the kernel writes meanwhile
    /// wait for the next batch. Overwrite rings yield nothing here: use
    /// [`Ring::snapshot`].
    pub fn read(&mut self) -> ReadBatch<'_> {
        let (head, tail) = if self.overwrite || self.data_size == 0 {
            (0, 0)
        } else {
            (self.load_head(), self.load_tail())
        };
        let mut batch = ReadBatch {
            ring: self,
            head,
            pos: tail,
            published: tail,
        };
        if head.wrapping_sub(tail) > batch.ring.data_size as u64 {
            // More than a buffer between tail and head: the producer broke the
            // protocol (or the positions were crafted so). Skip it all.
            batch.ring.stats.corrupt_bytes += head.wrapping_sub(tail);
            batch.pos = head;
        }
        batch
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

    /// Flight-recorder read of an overwrite ring: pauses output, walks the
    /// records from `data_head` (newest first in backward mode) until the
    /// buffer is covered, an unwritten (zero) header, or a record the kernel
    /// has partly overwritten, and returns them oldest first. With
    /// `only_new`, stops at the head of the previous snapshot so no record is
    /// returned twice. Output resumes when the [`Snapshot`] is dropped.
    pub fn snapshot(&mut self, only_new: bool) -> Result<Snapshot<'_>> {
        if !self.overwrite {
            return Err(Error::io(
                "snapshot of a forward ring; map it with RingOptions::overwrite and attr.write_backward",
                io::Error::from(io::ErrorKind::Unsupported),
            ));
        }
        let was_paused = self.paused;
        if !was_paused {
            self.pause()?;
        }
        let mut starts = std::mem::take(&mut self.scratch);
        starts.clear();
        let head = if self.data_size == 0 {
            0
        } else {
            self.load_head()
        };
        let stop = if only_new {
            self.last_snapshot_head
        } else {
            None
        };
        let size = self.data_size as u64;
        let mut pos = head;
        while self.data_size > 0 && Some(pos) != stop {
            let used = pos.wrapping_sub(head);
            if used >= size {
                break;
            }
            // A zero header is a never-written area; a record running past
            // `size` bytes from head has been partly overwritten.
            match self.record_at(pos, size - used) {
                Some((h, _)) => {
                    starts.push(pos);
                    pos = pos.wrapping_add(h.size as u64);
                }
                None => break,
            }
        }
        starts.reverse();
        self.last_snapshot_head = Some(head);
        Ok(Snapshot {
            ring: self,
            starts,
            next: 0,
            resume: !was_paused,
        })
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

fn mmap_error(e: io::Error, len: usize, budget: &Budget) -> Error {
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

/// A batch of records between the tail and the head loaded by [`Ring::read`].
/// Dropping it publishes the tail for every record read.
#[derive(Debug)]
pub struct ReadBatch<'r> {
    ring: &'r mut Ring,
    head: u64,
    pos: u64,
    published: u64,
}

impl<'r> ReadBatch<'r> {
    /// `read_event`: the next record, in place. The view borrows the batch,
    /// so the tail cannot be published while it is alive.
    pub fn next_record(&mut self) -> Option<RawData<'_>> {
        self.advance()
            .map(|(start, len)| self.ring.view(start, len))
    }

    /// Moves past the next record and returns its start and length.
    #[inline(always)]
    fn advance(&mut self) -> Option<(u64, usize)> {
        if self.pos == self.head {
            return None;
        }
        let left = self.head.wrapping_sub(self.pos);
        match self.ring.header_at(self.pos, left) {
            Some(h) => {
                self.ring.note_record(self.pos, &h);
                let start = self.pos;
                self.pos = self.pos.wrapping_add(h.size as u64);
                Some((start, h.size as usize))
            }
            None => {
                self.ring.stats.corrupt_bytes += left;
                self.pos = self.head;
                None
            }
        }
    }

    /// An iterator over the records of the batch, in place.
    pub fn records(&mut self) -> Records<'_, 'r> {
        Records { batch: self }
    }

    /// Walks the rest of the batch without looking at it (the LOST and
    /// THROTTLE counters are still updated), so consuming it loses nothing
    /// silently. Returns the records skipped.
    pub fn skip_all(&mut self) -> usize {
        let mut n = 0;
        while self.advance().is_some() {
            n += 1;
        }
        n
    }

    /// Bytes of the batch not read yet.
    pub fn remaining_bytes(&self) -> u64 {
        self.head.wrapping_sub(self.pos)
    }

    /// The bytes of the batch not read yet, in place (two slices when they
    /// wrap the end of the buffer), without walking their records: for
    /// copying a batch out whole, as `perf record` writes rings to its file.
    /// Reading it does not move the batch past those records.
    pub fn unread(&self) -> RawData<'_> {
        // `read` keeps head - pos within data_size (a larger gap is skipped
        // as corrupt), and an empty batch needs no view (nor a data area).
        match usize::try_from(self.remaining_bytes()) {
            Ok(len) if len > 0 && len <= self.ring.data_size => self.ring.view(self.pos, len),
            _ => RawData::Single(&[]),
        }
    }

    /// `consume`: publishes the tail for every record read so far, handing
    /// their bytes back to the kernel. Cheap when nothing new was read.
    pub fn consume(&mut self) {
        if self.pos != self.published {
            self.ring.store_tail(self.pos);
            self.published = self.pos;
        }
    }
}

impl Drop for ReadBatch<'_> {
    /// `read_done`: consumes what was read.
    fn drop(&mut self) {
        self.consume();
    }
}

/// The records of a [`ReadBatch`], as in-place views.
#[derive(Debug)]
pub struct Records<'b, 'r> {
    batch: &'b mut ReadBatch<'r>,
}

impl<'b> Iterator for Records<'b, '_> {
    type Item = RawData<'b>;

    #[inline(always)]
    fn next(&mut self) -> Option<RawData<'b>> {
        let (start, len) = self.batch.advance()?;
        let view = self.batch.ring.view(start, len);
        // SAFETY: the bytes stay mapped and unwritten for 'b: the mapping
        // lives as long as the Ring, which the batch borrows for longer than
        // 'b; the tail that would hand them back to the kernel is published
        // only through `&mut ReadBatch` (consume or drop), which is
        // impossible while this `&'b mut` borrow (and so any item) is alive.
        Some(unsafe { std::mem::transmute::<RawData<'_>, RawData<'b>>(view) })
    }
}

/// The records of an overwrite ring at one instant, oldest first. Output
/// stays paused until it is dropped.
#[derive(Debug)]
pub struct Snapshot<'r> {
    ring: &'r mut Ring,
    starts: Vec<u64>,
    next: usize,
    resume: bool,
}

impl<'r> Snapshot<'r> {
    /// Records in the snapshot.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// True when the ring held no record.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The next record, oldest first, in place.
    pub fn next_record(&mut self) -> Option<RawData<'_>> {
        self.advance()
            .map(|(start, len)| self.ring.view(start, len))
    }

    /// Every record, oldest first, as in-place views; the views borrow the
    /// snapshot, so output cannot resume while one is alive.
    pub fn records(&mut self) -> SnapshotRecords<'_, 'r> {
        SnapshotRecords { snap: self }
    }

    fn advance(&mut self) -> Option<(u64, usize)> {
        while let Some(&pos) = self.starts.get(self.next) {
            self.next += 1;
            if let Some(h) = self.ring.header_at(pos, self.ring.data_size as u64) {
                self.ring.note_record(pos, &h);
                return Some((pos, h.size as usize));
            }
        }
        None
    }
}

/// The records of a [`Snapshot`], oldest first.
#[derive(Debug)]
pub struct SnapshotRecords<'s, 'r> {
    snap: &'s mut Snapshot<'r>,
}

impl<'s> Iterator for SnapshotRecords<'s, '_> {
    type Item = RawData<'s>;

    #[inline]
    fn next(&mut self) -> Option<RawData<'s>> {
        let (start, len) = self.snap.advance()?;
        let view = self.snap.ring.view(start, len);
        // SAFETY: the bytes stay mapped for 's (the snapshot borrows the Ring
        // for longer), and the kernel does not write them while output is
        // paused; output resumes only when the Snapshot is dropped, which
        // cannot happen while this `&'s mut` borrow (and so any item) lives.
        Some(unsafe { std::mem::transmute::<RawData<'_>, RawData<'s>>(view) })
    }
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        self.ring.scratch = std::mem::take(&mut self.starts);
        if self.resume {
            // A failed resume leaves the ring paused; is_paused() says so.
            let _ = self.ring.resume();
        }
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

/// Plays the kernel's part on a ring made by [`Ring::anonymous`]: writes
/// records and publishes `data_head` exactly as `perf_output_begin` /
/// `perf_output_put_handle` do (forward, with LOST records when full, or
/// backward overwrite), writes AUX bytes, and updates the self-monitoring
/// fields under the seqlock. For tests and benchmarks; it may run on another
/// thread than the reader.
#[derive(Debug)]
pub struct RingWriter {
    map: Arc<Mapping>,
    page_size: usize,
    data_size: usize,
    aux_offset: usize,
    aux_size: usize,
    lost: u64,
    lost_id: u64,
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

    fn copy_in(&self, pos: u64, bytes: &[u8]) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A record of `size` bytes (>= 16, multiple of 8) carrying `seq` and a
    /// byte pattern derived from it.
    fn rec(seq: u64, size: usize) -> Vec<u8> {
        let mut payload = seq.to_ne_bytes().to_vec();
        payload.extend((0..size - 16).map(|i| (seq as usize * 31 + i) as u8));
        RecordBuilder::new()
            .bytes(&payload)
            .finish(record_type::SAMPLE, 0)
            .unwrap()
    }

    fn seq_of(r: &RawData<'_>) -> u64 {
        r.read_u64(8).unwrap()
    }

    #[test]
    fn every_wrap_offset_reads_in_place() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        let size = ring.data_size() as u64;
        let sizes = [48usize, 16, 104, 200, 24];
        // Every 8-byte-aligned start, near zero and near the u64 wrap of the
        // position counters, so every record crosses the end at every offset.
        for base in [0u64, u64::MAX - 3 * size + 1] {
            for start in (0..size).step_by(8) {
                let pos = base.wrapping_add(start);
                w.set_positions(pos, pos);
                let mut expected = Vec::new();
                for (i, &sz) in sizes.iter().enumerate() {
                    let r = rec(start * 10 + i as u64, sz);
                    assert!(w.write(&r));
                    expected.push(r);
                }
                let mut batch = ring.read();
                let mut got = 0;
                for (r, want) in batch.records().zip(&expected) {
                    assert_eq!(r.len(), want.len());
                    assert_eq!(r.as_contiguous().as_ref(), &want[..], "start {start}");
                    if let RawData::Split(a, b) = r {
                        assert!(!a.is_empty() && !b.is_empty());
                    }
                    got += 1;
                }
                assert_eq!(got, sizes.len());
                drop(batch);
                assert_eq!(ring.pending_bytes(), 0, "the tail was published");
            }
        }
        assert_eq!(ring.stats().corrupt_bytes, 0);
        assert_eq!(ring.stats().samples, 2 * (size / 8) * sizes.len() as u64);
    }

    #[test]
    fn unread_is_the_bytes_of_the_records_not_yet_read() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        let size = ring.data_size() as u64;
        // Empty: no bytes, and no view of a data area.
        assert!(ring.read().unread().is_empty());
        w.set_positions(size - 24, size - 24);
        let (a, b, c) = (rec(1, 48), rec(2, 32), rec(3, 16));
        assert!(w.write(&a) && w.write(&b) && w.write(&c));
        let all: Vec<u8> = [a.as_slice(), &b, &c].concat();
        let mut batch = ring.read();
        let unread = batch.unread();
        assert!(
            matches!(unread, RawData::Split(..)),
            "wraps with the first record"
        );
        assert_eq!(unread.as_contiguous().as_ref(), &all[..]);
        // Reading it does not consume; reading records shrinks it.
        assert_eq!(batch.remaining_bytes(), all.len() as u64);
        assert!(batch.next_record().is_some());
        assert_eq!(batch.unread().as_contiguous().as_ref(), &all[48..]);
        assert_eq!(batch.skip_all(), 2);
        assert!(batch.unread().is_empty());
    }

    #[test]
    fn views_point_into_the_mapping() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        let size = ring.data_size() as u64;
        w.set_positions(size - 24, size - 24);
        assert!(w.write(&rec(1, 48)));
        assert!(w.write(&rec(2, 32)));
        let snapshot: Vec<(bool, usize)> = {
            let mut batch = ring.read();
            let v: Vec<_> = batch
                .records()
                .map(|r| match r {
                    RawData::Single(a) => (false, a.as_ptr() as usize),
                    RawData::Split(a, _) => (true, a.as_ptr() as usize),
                })
                .collect();
            v
        };
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot[0].0, "the first record wraps");
        let base = ring.data_ptr() as usize;
        assert_eq!(snapshot[0].1, base + size as usize - 24);
        assert_eq!(snapshot[1].1, base + 24);
        let mut batch = ring.read();
        assert!(batch.next_record().is_none());
        drop(batch);
        assert!(w.write(&rec(3, 64)));
        let (base, end) = (base, base + ring.data_size());
        let mut batch = ring.read();
        let r = batch.next_record().unwrap();
        let RawData::Single(a) = r else {
            panic!("expected one slice")
        };
        let p = a.as_ptr() as usize;
        assert!(p >= base && p + a.len() <= end, "in place");
    }

    #[test]
    fn consume_publishes_only_what_was_read() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        for i in 0..10 {
            assert!(w.write(&rec(i, 40)));
        }
        {
            let mut batch = ring.read();
            let firsts: Vec<u64> = batch.records().take(3).map(|r| seq_of(&r)).collect();
            assert_eq!(firsts, [0, 1, 2]);
            batch.consume();
            assert_eq!(batch.remaining_bytes(), 7 * 40);
            // Not consumed again: the next record stays for now.
            let r = batch.next_record().map(|r| seq_of(&r));
            assert_eq!(r, Some(3));
        } // read_done: publishes up to record 3.
        assert_eq!(ring.pending_bytes(), 6 * 40);
        // The kernel writes more meanwhile: the new batch sees it.
        assert!(w.write(&rec(10, 40)));
        let seqs: Vec<u64> = ring.read().records().map(|r| seq_of(&r)).collect();
        assert_eq!(seqs, (4..=10).collect::<Vec<_>>());
        assert_eq!(ring.stats().records, 11);
    }

    #[test]
    fn a_batch_does_not_see_records_written_after_read_init() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        assert!(w.write(&rec(0, 32)));
        let mut batch = ring.read();
        assert!(w.write(&rec(1, 32)));
        assert_eq!(batch.records().count(), 1);
        drop(batch);
        assert_eq!(ring.read().records().count(), 1);
    }

    #[test]
    fn lost_records_are_counted_per_id() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        w.set_lost_id(77);
        let size = ring.data_size();
        let mut written = 0u64;
        let mut dropped = 0u64;
        for i in 0..(size / 64 + 50) as u64 {
            if w.write(&rec(i, 64)) {
                written += 1;
            } else {
                dropped += 1;
            }
        }
        assert!(dropped >= 50);
        let n = ring.read().records().count() as u64;
        assert_eq!(n, written);
        assert_eq!(ring.stats().lost, 0, "not reported until space frees up");
        assert!(w.write(&rec(999, 64)), "room again: LOST + sample");
        let types: Vec<u32> = ring
            .read()
            .records()
            .map(|r| {
                RecordHeader::parse(r, Endianness::NATIVE)
                    .unwrap()
                    .record_type
            })
            .collect();
        assert_eq!(types, [record_type::LOST, record_type::SAMPLE]);
        let st = ring.stats();
        assert_eq!(st.lost, dropped);
        assert_eq!(st.lost_for(77), dropped);
        assert_eq!(st.lost_for(78), 0);
        assert_eq!(st.samples, written + 1);
        assert_eq!(st.lost_records, 1);
    }

    #[test]
    fn throttle_and_lost_samples_are_counted() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        let t = RecordBuilder::new()
            .bytes(&[0u8; 24])
            .finish(record_type::THROTTLE, 0)
            .unwrap();
        let u = RecordBuilder::new()
            .bytes(&[0u8; 24])
            .finish(record_type::UNTHROTTLE, 0)
            .unwrap();
        let ls = RecordBuilder::new()
            .bytes(&5u64.to_ne_bytes())
            .finish(record_type::LOST_SAMPLES, 0)
            .unwrap();
        for r in [&t, &u, &t, &ls, &ls] {
            assert!(w.write(r));
        }
        assert_eq!(ring.read().skip_all(), 5);
        let st = ring.stats();
        assert_eq!((st.throttles, st.unthrottles, st.lost_samples), (2, 1, 10));
    }

    #[test]
    fn malformed_headers_are_skipped_not_looped_on() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        assert!(w.write(&rec(0, 32)));
        // A header claiming size 0, then one claiming more than was written.
        let mut zero = rec(1, 32);
        zero[6] = 0;
        zero[7] = 0;
        let head = w.head();
        w.copy_in(head, &zero);
        w.set_positions(head + 32, ring.load_tail());
        let seqs: Vec<u64> = ring.read().records().map(|r| seq_of(&r)).collect();
        assert_eq!(seqs, [0]);
        assert_eq!(ring.stats().corrupt_bytes, 32);
        assert_eq!(ring.pending_bytes(), 0, "the reader moved past the damage");
        let mut long = rec(2, 32);
        long[6] = 200;
        let head = w.head();
        w.copy_in(head, &long);
        w.set_positions(head + 32, head);
        assert_eq!(ring.read().records().count(), 0);
        assert_eq!(ring.stats().corrupt_bytes, 64);
        // A head more than a buffer ahead of the tail.
        w.set_positions(ring.data_size() as u64 * 3, 0);
        assert_eq!(ring.read().records().count(), 0);
        assert_eq!(ring.pending_bytes(), 0);
    }

    #[test]
    fn concurrent_writer_and_reader_agree() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, false).unwrap();
        w.set_positions(u64::MAX - 1000, u64::MAX - 1000);
        const N: u64 = 200_000;
        let writer = std::thread::spawn(move || {
            let mut i = 0;
            while i < N {
                // Sizes that do not divide the ring, so records wrap.
                // A dropped record is counted by the writer, as by the kernel.
                let _ = w.write(&rec(i, 16 + 8 * (i as usize % 13)));
                i += 1;
            }
            // Flush the pending LOST count with one final record; each
            // failed attempt is itself counted lost, as by the kernel.
            let mut failed = 0;
            while !w.write(&rec(u64::MAX, 16)) {
                failed += 1;
                std::hint::spin_loop();
            }
            failed
        });
        let mut seen = 0u64;
        let mut last: Option<u64> = None;
        let mut split = 0u64;
        let mut done = false;
        while !done {
            let mut batch = ring.read();
            for r in batch.records() {
                let h = RecordHeader::parse(r, Endianness::NATIVE).unwrap();
                if h.record_type != record_type::SAMPLE {
                    continue;
                }
                let s = seq_of(&r);
                if s == u64::MAX {
                    done = true;
                    continue;
                }
                if let Some(l) = last {
                    assert!(s > l, "records in order");
                }
                last = Some(s);
                let want = rec(s, 16 + 8 * (s as usize % 13));
                assert_eq!(r.as_contiguous().as_ref(), &want[..]);
                split += matches!(r, RawData::Split(..)) as u64;
                seen += 1;
            }
        }
        let flush_failed = writer.join().unwrap();
        assert_eq!(
            seen + ring.stats().lost,
            N + flush_failed,
            "received + lost = written"
        );
        assert!(split > 0, "some records wrapped");
    }

    #[test]
    fn backward_snapshot_returns_the_newest_records_in_order() {
        let (mut ring, mut w) = Ring::anonymous(1, 0, true).unwrap();
        {
            let snap = ring.snapshot(false).unwrap();
            assert!(snap.is_empty(), "a fresh ring has nothing");
        }
        let size_of = |i: u64| 16 + 8 * (i as usize % 9);
        for i in 0..1000 {
            w.write_backward(&rec(i, size_of(i)));
        }
        let mut snap = ring.snapshot(false).unwrap();
        let seqs: Vec<u64> = snap.records().map(|r| seq_of(&r)).collect();
        drop(snap);
        let first_len = seqs.len() as u64;
        assert_eq!(*seqs.last().unwrap(), 999, "ends with the newest");
        assert!(
            seqs.windows(2).all(|p| p[1] == p[0] + 1),
            "consecutive, oldest first"
        );
        let bytes: usize = seqs.iter().map(|&s| size_of(s)).sum();
        let size = ring.data_size();
        assert!(
            bytes <= size && bytes + size_of(seqs[0] - 1) > size,
            "the ring is covered: {bytes}"
        );
        // Only what is new since the previous snapshot.
        for i in 1000..1005 {
            w.write_backward(&rec(i, size_of(i)));
        }
        let mut snap = ring.snapshot(true).unwrap();
        let seqs: Vec<u64> = snap.records().map(|r| seq_of(&r)).collect();
        assert_eq!(seqs, [1000, 1001, 1002, 1003, 1004]);
        drop(snap);
        assert!(!ring.is_paused(), "output resumes after the snapshot");
        assert_eq!(ring.stats().samples, first_len + 5);
    }

    #[test]
    fn forward_ring_refuses_snapshot_and_overwrite_ring_reads_nothing() {
        let (mut ring, _w) = Ring::anonymous(1, 0, false).unwrap();
        assert!(ring.snapshot(false).is_err());
        let (mut ring, mut w) = Ring::anonymous(1, 0, true).unwrap();
        w.write_backward(&rec(0, 32));
        assert_eq!(ring.read().records().count(), 0);
    }

    #[test]
    fn aux_area_reads_wrap_in_place() {
        let (mut ring, mut w) = Ring::anonymous(1, 1, false).unwrap();
        let size = ring.aux_size() as u64;
        assert_eq!(size as usize, page_size());
        for start in [0, 1, size - 100, size - 1, u64::MAX - 10] {
            w.set_aux_positions(start, start);
            let bytes: Vec<u8> = (0..300usize)
                .map(|i| (i * 7).wrapping_add(start as usize) as u8)
                .collect();
            assert!(w.write_aux(&bytes));
            {
                let batch = ring.aux_read().unwrap();
                assert!(!batch.overrun());
                let d = batch.data();
                assert_eq!(d.as_contiguous().as_ref(), &bytes[..], "start {start}");
                let wraps = (start % size) + 300 > size;
                assert_eq!(matches!(d, RawData::Split(..)), wraps);
            }
            // aux_tail was published: the area is empty again and has room.
            assert_eq!(ring.aux_read().unwrap().data().len(), 0);
            assert!(w.write_aux(&vec![0u8; size as usize]));
            assert!(!w.write_aux(&[0u8; 1]), "full until read");
            drop(ring.aux_read());
        }
        let (mut no_aux, _w) = Ring::anonymous(1, 0, false).unwrap();
        assert!(no_aux.aux_read().is_none());
    }

    #[test]
    fn header_only_ring_reads_nothing() {
        let (mut ring, _w) = Ring::anonymous(0, 0, false).unwrap();
        assert_eq!(ring.data_size(), 0);
        assert_eq!(ring.read().records().count(), 0);
        assert!(Ring::anonymous(3, 0, false).is_err());
    }

    #[test]
    fn ring_is_send() {
        fn send<T: Send>() {}
        send::<Ring>();
        send::<RingWriter>();
    }
}
