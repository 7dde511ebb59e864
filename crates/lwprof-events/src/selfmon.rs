//! Self-monitoring: reading a counter from the user page without a system call.
//!
//! The first page of every perf mapping carries, besides the ring positions,
//! the fields an application needs to read its own counter in user space:
//! `index` (the hardware counter + 1, 0 when not on a counter), `offset`,
//! `time_enabled`/`time_running`, the `cap_user_*` bits, `pmc_width` and the
//! TSC conversion (`time_shift`, `time_mult`, `time_zero`). The kernel
//! updates them under a sequence lock (`perf_event_update_userpage()`), and
//! [`read_user_page`] is the ONE function that reads them: the seqlock loop,
//! with `rdpmc` when and only when `cap_user_rdpmc && index != 0`.
//!
//! Without a hardware PMU (as on most VMs) `index` is always 0 and the caller
//! falls back to read(2); [`crate::sampling::SamplingEvent::self_count`] does so.
//!
//! [`SelfProfiler`] is the other half of self-monitoring: an application
//! samples itself and reads its own rings in place (see [`profiler`]).

pub mod profiler;
pub use profiler::{SelfProfile, SelfProfiler, SelfProfilerConfig};

use perf_event_open_sys::bindings as pb;
use std::ptr::{addr_of_mut, NonNull};
use std::sync::atomic::{fence, AtomicI64, AtomicU16, AtomicU32, AtomicU64, Ordering};

/// One consistent reading of the self-monitoring fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserPageReading {
    /// The sequence number the reading was taken under (even).
    pub seq: u32,
    /// Hardware counter index + 1; 0 when the event is not on a counter.
    pub index: u32,
    /// Add to the hardware counter's value to get the count.
    pub offset: i64,
    /// Nanoseconds enabled, as of the last update.
    pub time_enabled: u64,
    /// Nanoseconds running, as of the last update.
    pub time_running: u64,
    /// `rdpmc` may be used.
    pub cap_user_rdpmc: bool,
    /// `time_shift`/`time_mult`/`time_offset` are valid.
    pub cap_user_time: bool,
    /// `time_zero` is valid.
    pub cap_user_time_zero: bool,
    /// Width in bits of the hardware counter.
    pub pmc_width: u16,
    /// TSC to nanoseconds: shift.
    pub time_shift: u16,
    /// TSC to nanoseconds: multiplier.
    pub time_mult: u32,
    /// TSC to nanoseconds: offset for time_enabled/running.
    pub time_offset: u64,
    /// TSC to perf clock: the perf time at TSC 0.
    pub time_zero: u64,
    /// `offset` + the sign-extended rdpmc value, when rdpmc was usable.
    pub count: Option<u64>,
    /// How many times the read was retried because the kernel updated the page.
    pub retries: u32,
}

impl UserPageReading {
    /// Converts a TSC value to perf's clock (the `time` of samples), when the
    /// kernel publishes `time_zero` (the formula of perf_event.h).
    pub fn tsc_to_perf_time(&self, cyc: u64) -> Option<u64> {
        if !self.cap_user_time_zero || self.time_shift >= 64 {
            return None;
        }
        let shift = self.time_shift as u32;
        let quot = cyc >> shift;
        let rem = cyc & ((1u64 << shift) - 1);
        Some(
            self.time_zero
                .wrapping_add(quot.wrapping_mul(self.time_mult as u64))
                .wrapping_add(rem.wrapping_mul(self.time_mult as u64) >> shift),
        )
    }
}

/// The fields a (fake) kernel writes, for crafted pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserPageFields {
    /// `index`.
    pub index: u32,
    /// `offset`.
    pub offset: i64,
    /// `time_enabled`.
    pub time_enabled: u64,
    /// `time_running`.
    pub time_running: u64,
    /// The `capabilities` word (bit 1 `cap_bit0_is_deprecated`, bit 2
    /// `cap_user_rdpmc`, bit 3 `cap_user_time`, bit 4 `cap_user_time_zero`).
    pub capabilities: u64,
    /// `pmc_width`.
    pub pmc_width: u16,
    /// `time_shift`.
    pub time_shift: u16,
    /// `time_mult`.
    pub time_mult: u32,
    /// `time_offset`.
    pub time_offset: u64,
    /// `time_zero`.
    pub time_zero: u64,
}

/// Capability bits of `perf_event_mmap_page.capabilities`.
pub mod cap {
    /// Set by kernels >= 3.12, which moved the meaning of bit 0 to bits 2 and 3.
    pub const BIT0_IS_DEPRECATED: u64 = 1 << 1;
    /// `cap_user_rdpmc`.
    pub const USER_RDPMC: u64 = 1 << 2;
    /// `cap_user_time`.
    pub const USER_TIME: u64 = 1 << 3;
    /// `cap_user_time_zero`.
    pub const USER_TIME_ZERO: u64 = 1 << 4;
}

macro_rules! field {
    ($page:expr, $f:ident, $atomic:ty) => {
        // SAFETY (of the expansion's callers): `$page` points at a live,
        // aligned perf_event_mmap_page; every field is naturally aligned.
        <$atomic>::from_ptr(addr_of_mut!((*$page.as_ptr()).$f))
    };
}

/// Reads the self-monitoring fields of the user page at `page` with the
/// seqlock protocol, calling `rdpmc(index - 1)` inside the loop only when the
/// page says `cap_user_rdpmc` and `index != 0`.
///
/// The kernel's writer (`perf_event_update_userpage()`) does `++lock;
/// barrier(); <fields>; barrier(); ++lock;`. The reader here loads `lock`
/// with Acquire (so the field loads cannot move above it), retries while it
/// is odd (an update in progress on another CPU), loads the fields, issues
/// an Acquire fence (so they cannot move below the re-check) and retries if
/// `lock` changed. Field loads are Relaxed atomics: the kernel writes them
/// concurrently.
///
/// # Safety
/// `page` must point at a live, mapped `perf_event_mmap_page` for the whole call.
pub unsafe fn read_user_page(
    page: NonNull<pb::perf_event_mmap_page>,
    mut rdpmc: impl FnMut(u32) -> Option<u64>,
) -> UserPageReading {
    // SAFETY: the caller guarantees `page` is live; fields are aligned.
    let lock = unsafe { field!(page, lock, AtomicU32) };
    let mut retries = 0u32;
    loop {
        let seq = lock.load(Ordering::Acquire);
        if seq & 1 == 1 {
            retries = retries.saturating_add(1);
            std::hint::spin_loop();
            continue;
        }
        // SAFETY: as above, for each field.
        let mut r = unsafe {
            let caps = (*addr_of_mut!((*page.as_ptr()).__bindgen_anon_1.capabilities)
                .cast::<AtomicU64>())
            .load(Ordering::Relaxed);
            let modern = caps & cap::BIT0_IS_DEPRECATED != 0;
            UserPageReading {
                seq,
                index: field!(page, index, AtomicU32).load(Ordering::Relaxed),
                offset: field!(page, offset, AtomicI64).load(Ordering::Relaxed),
                time_enabled: field!(page, time_enabled, AtomicU64).load(Ordering::Relaxed),
                time_running: field!(page, time_running, AtomicU64).load(Ordering::Relaxed),
                cap_user_rdpmc: modern && caps & cap::USER_RDPMC != 0,
                cap_user_time: modern && caps & cap::USER_TIME != 0,
                cap_user_time_zero: modern && caps & cap::USER_TIME_ZERO != 0,
                pmc_width: field!(page, pmc_width, AtomicU16).load(Ordering::Relaxed),
                time_shift: field!(page, time_shift, AtomicU16).load(Ordering::Relaxed),
                time_mult: field!(page, time_mult, AtomicU32).load(Ordering::Relaxed),
                time_offset: field!(page, time_offset, AtomicU64).load(Ordering::Relaxed),
                time_zero: field!(page, time_zero, AtomicU64).load(Ordering::Relaxed),
                count: None,
                retries,
            }
        };
        if r.cap_user_rdpmc && r.index != 0 {
            r.count = rdpmc(r.index - 1).map(|pmc| {
                let width = r.pmc_width.clamp(1, 64) as u32;
                // Sign-extend the counter from its width, as the kernel's example does.
                let pmc = ((pmc << (64 - width)) as i64) >> (64 - width);
                (r.offset.wrapping_add(pmc)) as u64
            });
        }
        fence(Ordering::Acquire);
        if lock.load(Ordering::Relaxed) == seq {
            return r;
        }
        retries = retries.saturating_add(1);
    }
}

/// Reads hardware counter `counter` with the `rdpmc` instruction (x86-64).
/// Only called by [`read_user_page`] when the kernel set `cap_user_rdpmc`
/// and the event sits on a counter, i.e. when the kernel enabled user-space
/// rdpmc (CR4.PCE) for this process.
#[cfg(target_arch = "x86_64")]
pub fn rdpmc(counter: u32) -> Option<u64> {
    let (lo, hi): (u32, u32);
    // SAFETY: rdpmc reads a performance counter into edx:eax and touches no
    // memory; read_user_page calls this only when the kernel says user rdpmc
    // is allowed for this event's counter.
    unsafe {
        core::arch::asm!("rdpmc", in("ecx") counter, out("eax") lo, out("edx") hi,
            options(nomem, nostack, preserves_flags));
    }
    Some(((hi as u64) << 32) | lo as u64)
}

/// No user-space counter read on this architecture: callers fall back to read(2).
#[cfg(not(target_arch = "x86_64"))]
pub fn rdpmc(_counter: u32) -> Option<u64> {
    None
}

/// Writes `f` under the seqlock, like `perf_event_update_userpage()`.
///
/// # Safety
/// `page` must point at a live, writable `perf_event_mmap_page` that no
/// kernel writes (an anonymous ring's).
pub(crate) unsafe fn write_user_page(page: NonNull<pb::perf_event_mmap_page>, f: &UserPageFields) {
    // SAFETY: the caller guarantees a live, writable page; fields are aligned.
    unsafe {
        let lock = field!(page, lock, AtomicU32);
        lock.fetch_add(1, Ordering::Relaxed);
        // The odd lock must be visible before any field changes.
        fence(Ordering::Release);
        field!(page, index, AtomicU32).store(f.index, Ordering::Relaxed);
        field!(page, offset, AtomicI64).store(f.offset, Ordering::Relaxed);
        field!(page, time_enabled, AtomicU64).store(f.time_enabled, Ordering::Relaxed);
        field!(page, time_running, AtomicU64).store(f.time_running, Ordering::Relaxed);
        (*addr_of_mut!((*page.as_ptr()).__bindgen_anon_1.capabilities).cast::<AtomicU64>())
            .store(f.capabilities, Ordering::Relaxed);
        field!(page, pmc_width, AtomicU16).store(f.pmc_width, Ordering::Relaxed);
        field!(page, time_shift, AtomicU16).store(f.time_shift, Ordering::Relaxed);
        field!(page, time_mult, AtomicU32).store(f.time_mult, Ordering::Relaxed);
        field!(page, time_offset, AtomicU64).store(f.time_offset, Ordering::Relaxed);
        field!(page, time_zero, AtomicU64).store(f.time_zero, Ordering::Relaxed);
        // Fields before the even lock.
        lock.fetch_add(1, Ordering::Release);
    }
}

/// Increments `lock` once.
///
/// # Safety
/// As [`write_user_page`].
pub(crate) unsafe fn bump_lock(page: NonNull<pb::perf_event_mmap_page>) {
    // SAFETY: the caller guarantees a live, writable page.
    unsafe { field!(page, lock, AtomicU32) }.fetch_add(1, Ordering::Release);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::Ring;
    use std::cell::Cell;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    fn page_of(ring: &Ring) -> NonNull<pb::perf_event_mmap_page> {
        NonNull::new(ring_header(ring)).unwrap()
    }

    fn ring_header(ring: &Ring) -> *mut pb::perf_event_mmap_page {
        // The user page is the first page of the mapping.
        ring.user_page_ptr()
    }

    const MODERN_RDPMC: u64 =
        cap::BIT0_IS_DEPRECATED | cap::USER_RDPMC | cap::USER_TIME | cap::USER_TIME_ZERO;

    #[test]
    fn fields_come_back_as_written() {
        let (ring, w) = Ring::anonymous(0, 0, false).unwrap();
        let f = UserPageFields {
            index: 0,
            offset: -5,
            time_enabled: 1000,
            time_running: 900,
            capabilities: cap::BIT0_IS_DEPRECATED | cap::USER_TIME,
            pmc_width: 48,
            time_shift: 10,
            time_mult: 3,
            time_offset: 7,
            time_zero: 11,
        };
        w.update_user_page(&f);
        let r = ring.user_page();
        assert_eq!(r.seq, 2);
        assert_eq!(
            (r.index, r.offset, r.time_enabled, r.time_running),
            (0, -5, 1000, 900)
        );
        assert!(r.cap_user_time && !r.cap_user_rdpmc && !r.cap_user_time_zero);
        assert_eq!(
            (
                r.pmc_width,
                r.time_shift,
                r.time_mult,
                r.time_offset,
                r.time_zero
            ),
            (48, 10, 3, 7, 11)
        );
        assert_eq!(r.count, None, "index 0: no rdpmc, the caller reads(2)");
        assert_eq!(r.retries, 0);
    }

    #[test]
    fn rdpmc_only_when_allowed_and_on_a_counter() {
        let (ring, w) = Ring::anonymous(0, 0, false).unwrap();
        let calls = Cell::new(0);
        let fake = |idx: u32| {
            calls.set(calls.get() + 1);
            assert_eq!(idx, 2, "index - 1");
            // A 48-bit counter reading of -3.
            Some((1u64 << 48) - 3)
        };
        let mut f = UserPageFields {
            index: 3,
            offset: 100,
            pmc_width: 48,
            capabilities: MODERN_RDPMC,
            ..Default::default()
        };
        w.update_user_page(&f);
        // SAFETY: the anonymous ring's user page is live for the call.
        let r = unsafe { read_user_page(page_of(&ring), fake) };
        assert_eq!(r.count, Some(97), "offset + sign-extended pmc");
        assert_eq!(calls.get(), 1);
        // Not allowed: no rdpmc.
        f.capabilities = cap::BIT0_IS_DEPRECATED;
        w.update_user_page(&f);
        // SAFETY: as above.
        let r = unsafe { read_user_page(page_of(&ring), fake) };
        assert_eq!((r.count, calls.get()), (None, 1));
        // Old kernels: bit 2 without bit 1 means nothing.
        f.capabilities = cap::USER_RDPMC;
        w.update_user_page(&f);
        // SAFETY: as above.
        assert_eq!(unsafe { read_user_page(page_of(&ring), fake) }.count, None);
        // Not on a counter.
        f.capabilities = MODERN_RDPMC;
        f.index = 0;
        w.update_user_page(&f);
        // SAFETY: as above.
        assert_eq!(unsafe { read_user_page(page_of(&ring), fake) }.count, None);
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn an_update_during_the_read_forces_a_retry() {
        let (ring, w) = Ring::anonymous(0, 0, false).unwrap();
        let f = UserPageFields {
            index: 1,
            offset: 10,
            pmc_width: 64,
            capabilities: MODERN_RDPMC,
            ..Default::default()
        };
        w.update_user_page(&f);
        let calls = Cell::new(0);
        // The first rdpmc "is interrupted" by a kernel update of the page.
        let fake = |_idx: u32| {
            calls.set(calls.get() + 1);
            if calls.get() == 1 {
                w.update_user_page(&UserPageFields { offset: 1000, ..f });
            }
            Some(5)
        };
        // SAFETY: the anonymous ring's user page is live for the call.
        let r = unsafe { read_user_page(page_of(&ring), fake) };
        assert_eq!(calls.get(), 2, "read again after the lock changed");
        assert_eq!(
            r.count,
            Some(1005),
            "the values of the second, consistent pass"
        );
        assert_eq!((r.retries, r.seq), (1, 4));
    }

    #[test]
    fn a_reader_never_sees_a_torn_update() {
        let (ring, w) = Ring::anonymous(0, 0, false).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let writer = std::thread::spawn(move || {
            let mut k = 1u64;
            while !stop2.load(Ordering::Relaxed) {
                w.update_user_page(&UserPageFields {
                    offset: k as i64,
                    time_enabled: k,
                    time_running: k,
                    time_zero: k,
                    time_offset: k,
                    ..Default::default()
                });
                k += 1;
            }
            k
        });
        let mut distinct = 0;
        let mut last = 0;
        let mut reads = 0u64;
        // Read until the writer has made real progress (however the two
        // threads get scheduled), so reads overlap many updates.
        while reads < 50_000 || distinct < 100 {
            reads += 1;
            let r = ring.user_page();
            let k = r.time_enabled;
            assert_eq!(
                (r.offset as u64, r.time_running, r.time_zero, r.time_offset),
                (k, k, k, k),
                "torn read"
            );
            assert_eq!(r.seq % 2, 0);
            assert!(k >= last, "the page never goes back in time");
            if k != last {
                distinct += 1;
                last = k;
            }
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert!(written >= last && distinct >= 100);
    }

    #[test]
    fn an_odd_lock_is_waited_out() {
        let (ring, w) = Ring::anonymous(0, 0, false).unwrap();
        w.bump_user_page_lock();
        let calls = Cell::new(0);
        let page = page_of(&ring);
        // Finish the "update" from inside the loop via rdpmc is impossible
        // (rdpmc is not reached while odd); finish it from another thread.
        let w = std::thread::spawn(move || {
            std::thread::yield_now();
            w.bump_user_page_lock();
            w
        });
        // SAFETY: the anonymous ring's user page is live for the call.
        let r = unsafe {
            read_user_page(page, |_| {
                calls.set(1);
                None
            })
        };
        let _w = w.join().unwrap();
        assert_eq!(r.seq, 2, "read only once the lock was even again");
        assert_eq!(calls.get(), 0);
    }

    #[test]
    fn tsc_converts_with_time_zero() {
        let r = UserPageReading {
            cap_user_time_zero: true,
            time_shift: 2,
            time_mult: 3,
            time_zero: 1000,
            ..Default::default()
        };
        // 10 cycles = quot 2, rem 2: 1000 + 2*3 + (2*3 >> 2) = 1007.
        assert_eq!(r.tsc_to_perf_time(10), Some(1007));
        assert_eq!(UserPageReading::default().tsc_to_perf_time(10), None);
    }
}
