//! The locked-memory budget for ring buffers.
//!
//! Every page of a perf ring buffer (the user page, the data pages and the
//! AUX pages) is locked memory. The kernel charges a mapping as follows
//! (`perf_mmap()` in kernel/events/core.c; the AUX area goes through the same
//! rule in `rb_alloc_aux` accounting):
//!
//! 1. each user may lock `kernel.perf_event_mlock_kb` KiB **per online CPU**
//!    for perf buffers (`user_lock_limit = mlock_kb / page_kb * num_online_cpus`),
//!    charged to the user's `locked_vm`, shared by all of that user's processes;
//!    a data ring costs its data pages plus one for the user page;
//! 2. what exceeds that is charged to the process's `pinned_vm` and checked
//!    against `RLIMIT_MEMLOCK` (`ulimit -l`);
//! 3. the check of step 2 is skipped when `perf_event_paranoid` is -1 or the
//!    caller has `CAP_IPC_LOCK` (root has it), so root is never refused.
//!
//! Because root is never refused, and because many contexts in one process
//! could otherwise pin memory without bound (seed 004), lwprof keeps its own
//! process-wide [`Budget`]: a limit in pages and ONE atomic counter of pages in
//! use. A reservation is a compare-exchange loop on that counter; there is no
//! lock. A ring holds its [`Reservation`] and gives the pages back when it is
//! dropped.
//!
//! This module decides sizes; it maps nothing and never calls mmap.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Where the kernel publishes the per-user, per-CPU perf locked-memory allowance.
pub const MLOCK_KB_PATH: &str = "/proc/sys/kernel/perf_event_mlock_kb";

/// The locked-memory limits that apply to this process, as read from the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The page size in bytes.
    pub page_size: usize,
    /// `kernel.perf_event_mlock_kb` (per user, per online CPU), if readable.
    pub perf_mlock_kb: Option<u64>,
    /// Online CPUs (the kernel multiplies the perf allowance by this).
    pub online_cpus: usize,
    /// The soft `RLIMIT_MEMLOCK` in bytes; `None` when unlimited.
    pub rlimit_memlock: Option<u64>,
}

/// perf's default when the sysctl cannot be read: 512 KiB plus the user page.
const DEFAULT_MLOCK_KB: u64 = 516;

impl Limits {
    /// Reads the limits of this machine and process.
    pub fn from_system() -> Limits {
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        // SAFETY: as above.
        let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one struct rlimit through a pointer to a live local.
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rl) };
        let rlimit_memlock = if rc != 0 || rl.rlim_cur == libc::RLIM_INFINITY {
            None
        } else {
            Some(rl.rlim_cur)
        };
        Limits {
            page_size: if page > 0 { page as usize } else { 4096 },
            perf_mlock_kb: std::fs::read_to_string(MLOCK_KB_PATH)
                .ok()
                .and_then(|s| s.trim().parse().ok()),
            online_cpus: if cpus > 0 { cpus as usize } else { 1 },
            rlimit_memlock,
        }
    }

    fn mlock_kb(&self) -> u64 {
        self.perf_mlock_kb.unwrap_or(DEFAULT_MLOCK_KB)
    }

    /// Pages one CPU's share of `perf_event_mlock_kb` covers (user page included).
    pub fn perf_pages_per_cpu(&self) -> usize {
        (self.mlock_kb() * 1024 / self.page_size as u64) as usize
    }

    /// Pages the kernel charges to the user's perf allowance before it falls
    /// back to `RLIMIT_MEMLOCK`: the per-CPU share times the online CPUs.
    pub fn perf_pages_total(&self) -> usize {
        self.perf_pages_per_cpu().saturating_mul(self.online_cpus)
    }

    /// Pages `RLIMIT_MEMLOCK` allows on top (`usize::MAX` when unlimited).
    pub fn rlimit_pages(&self) -> usize {
        self.rlimit_memlock
            .map_or(usize::MAX, |b| (b / self.page_size as u64) as usize)
    }

    /// The budget an unprivileged process could lock at most: the perf
    /// allowance plus `RLIMIT_MEMLOCK`. (Other processes of the same user share
    /// the perf allowance; this process cannot see their use.)
    pub fn default_budget_pages(&self) -> usize {
        self.perf_pages_total().saturating_add(self.rlimit_pages())
    }

    /// perf's default data size for a per-CPU ring: the largest power of two
    /// of data pages that, with the user page, fits one CPU's share of
    /// `perf_event_mlock_kb` (128 pages = 512 KiB with the default 516 KiB).
    pub fn default_ring_pages(&self) -> usize {
        prev_power_of_two(self.perf_pages_per_cpu().saturating_sub(1)).max(1)
    }

    /// The message telling a user which limits apply and how to raise them so
    /// that `need_pages` more pages fit.
    pub fn advice(&self, need_pages: usize) -> String {
        let kb = self.page_size / 1024;
        let need_kb = need_pages * kb;
        let per_cpu_kb = need_kb.div_ceil(self.online_cpus) as u64 + self.mlock_kb();
        let rlimit = match self.rlimit_memlock {
            Some(b) => format!("RLIMIT_MEMLOCK is {} KiB", b / 1024),
            None => "RLIMIT_MEMLOCK is unlimited".to_string(),
        };
        let raise_rlimit = match self.rlimit_memlock {
            Some(b) => format!("`ulimit -l {}`", b / 1024 + need_kb as u64),
            None => "`ulimit -l unlimited`".to_string(),
        };
        format!(
            "limits: kernel.perf_event_mlock_kb is {} KiB per CPU ({} CPUs online) and {rlimit}; \
             raise them with `sysctl -w kernel.perf_event_mlock_kb={per_cpu_kb}` or {raise_rlimit}, \
             or ask for fewer ring pages",
            self.mlock_kb(),
            self.online_cpus,
        )
    }
}

/// The largest power of two <= `n` (0 for 0).
pub fn prev_power_of_two(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    }
}

/// What to do when a ring does not fit the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizePolicy {
    /// Shrink the data area to the largest power of two that fits, and say so.
    #[default]
    Shrink,
    /// Fail with [`BudgetError`].
    Fail,
}

/// A ring that was shrunk to fit: the warning returned to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shrunk {
    /// Data pages requested.
    pub requested_pages: usize,
    /// Data pages granted.
    pub granted_pages: usize,
    /// Which limits apply and how to raise them.
    pub advice: String,
}

impl std::fmt::Display for Shrunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ring buffer shrunk from {} to {} data pages to fit the locked-memory budget; {}",
            self.requested_pages, self.granted_pages, self.advice
        )
    }
}

/// A ring that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a ring of {requested_pages} data pages (+{overhead_pages} for the user page) does not fit \
     the locked-memory budget: {in_use_pages} of {limit_pages} pages in use; {advice}"
)]
pub struct BudgetError {
    /// Data pages requested.
    pub requested_pages: usize,
    /// Extra pages charged with them (the user page; 0 for an AUX area).
    pub overhead_pages: usize,
    /// Pages already reserved in this process.
    pub in_use_pages: usize,
    /// The budget's limit in pages.
    pub limit_pages: usize,
    /// Which limits apply and how to raise them.
    pub advice: String,
}

/// A process-wide budget of locked pages, kept with one atomic counter.
#[derive(Debug)]
pub struct Budget {
    /// Pages reserved now: the one counter every reservation updates.
    used: AtomicUsize,
    /// The limit in pages (configuration, not contended).
    limit: AtomicUsize,
    limits: Limits,
}

impl Budget {
    /// A budget of `limit_pages` pages, with `limits` for the messages.
    pub fn new(limit_pages: usize, limits: Limits) -> Arc<Budget> {
        Arc::new(Budget {
            used: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit_pages),
            limits,
        })
    }

    /// The budget every [`crate::ring::Ring`] draws from unless told
    /// otherwise; its limit defaults to [`Limits::default_budget_pages`].
    pub fn global() -> &'static Arc<Budget> {
        static GLOBAL: OnceLock<Arc<Budget>> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let limits = Limits::from_system();
            Budget::new(limits.default_budget_pages(), limits)
        })
    }

    /// The limits the messages refer to.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The limit in pages.
    pub fn limit_pages(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Changes the limit. Reservations already made are kept even if they now
    /// exceed it; new ones must fit.
    pub fn set_limit_pages(&self, pages: usize) {
        self.limit.store(pages, Ordering::Relaxed);
    }

    /// Pages reserved now.
    pub fn used_pages(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Reserves `data_pages` (0 or a power of two) plus `overhead_pages`.
    /// Under [`SizePolicy::Shrink`] a request that does not fit is granted the
    /// largest power of two of data pages that does (at least one), with a
    /// [`Shrunk`] warning; a header-only request (0 data pages) is never shrunk.
    pub fn reserve(
        self: &Arc<Self>,
        data_pages: usize,
        overhead_pages: usize,
        policy: SizePolicy,
    ) -> Result<Reservation, BudgetError> {
        let limit = self.limit_pages();
        // Relaxed is enough: the counter guards no other memory, only itself,
        // and compare_exchange makes each update atomic.
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let free = limit.saturating_sub(used);
            let want = data_pages.saturating_add(overhead_pages);
            let grant = if want <= free {
                data_pages
            } else if policy == SizePolicy::Shrink && data_pages > 0 {
                prev_power_of_two(free.saturating_sub(overhead_pages))
            } else {
                0
            };
            if (grant == 0 && data_pages > 0) || grant + overhead_pages > free {
                return Err(BudgetError {
                    requested_pages: data_pages,
                    overhead_pages,
                    in_use_pages: used,
                    limit_pages: limit,
                    advice: self.limits.advice(want.saturating_sub(free)),
                });
            }
            let pages = grant + overhead_pages;
            match self.used.compare_exchange_weak(
                used,
                used + pages,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let shrunk = (grant != data_pages).then(|| Shrunk {
                        requested_pages: data_pages,
                        granted_pages: grant,
                        advice: self.limits.advice(want - free),
                    });
                    return Ok(Reservation {
                        budget: Arc::clone(self),
                        pages,
                        data_pages: grant,
                        shrunk,
                    });
                }
                Err(now) => used = now,
            }
        }
    }
}

/// Pages held from a [`Budget`]; given back on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    pages: usize,
    data_pages: usize,
    shrunk: Option<Shrunk>,
}

impl Reservation {
    /// Data pages granted (a power of two, or 0 for a header-only mapping).
    pub fn data_pages(&self) -> usize {
        self.data_pages
    }

    /// All pages held, overhead included.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// The warning when the request was shrunk.
    pub fn shrunk(&self) -> Option<&Shrunk> {
        self.shrunk.as_ref()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.pages, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            page_size: 4096,
            perf_mlock_kb: Some(516),
            online_cpus: 2,
            rlimit_memlock: Some(8 << 20),
        }
    }

    #[test]
    fn limits_follow_the_kernel_rules() {
        let l = limits();
        assert_eq!(l.perf_pages_per_cpu(), 129);
        assert_eq!(l.perf_pages_total(), 258);
        assert_eq!(l.rlimit_pages(), 2048);
        assert_eq!(l.default_budget_pages(), 258 + 2048);
        assert_eq!(l.default_ring_pages(), 128);
        let sys = Limits::from_system();
        assert!(sys.page_size >= 4096 && sys.online_cpus >= 1);
    }

    #[test]
    fn request_beyond_the_allowance_shrinks_with_a_warning() {
        let b = Budget::new(100, limits());
        let r = b.reserve(128, 1, SizePolicy::Shrink).unwrap();
        // 99 pages are left for data after the user page: 64 is the largest power of two.
        assert_eq!(r.data_pages(), 64);
        assert_eq!(r.pages(), 65);
        let w = r.shrunk().expect("a shrink warning");
        assert_eq!((w.requested_pages, w.granted_pages), (128, 64));
        let text = w.to_string();
        assert!(text.contains("kernel.perf_event_mlock_kb"), "{text}");
        assert!(text.contains("ulimit -l"), "{text}");
        assert_eq!(b.used_pages(), 65);
        // What remains (35) gives 32 + 1.
        let r2 = b.reserve(64, 1, SizePolicy::Shrink).unwrap();
        assert_eq!(r2.data_pages(), 32);
        drop(r);
        assert_eq!(b.used_pages(), 33);
        drop(r2);
        assert_eq!(b.used_pages(), 0);
    }

    #[test]
    fn request_that_fits_is_not_shrunk() {
        let b = Budget::new(100, limits());
        let r = b.reserve(64, 1, SizePolicy::Fail).unwrap();
        assert_eq!(r.data_pages(), 64);
        assert!(r.shrunk().is_none());
    }

    #[test]
    fn fail_policy_names_both_limits() {
        let b = Budget::new(100, limits());
        let e = b.reserve(128, 1, SizePolicy::Fail).unwrap_err();
        assert_eq!(e.requested_pages, 128);
        assert_eq!(e.limit_pages, 100);
        let text = e.to_string();
        assert!(
            text.contains("kernel.perf_event_mlock_kb is 516 KiB per CPU"),
            "{text}"
        );
        assert!(text.contains("RLIMIT_MEMLOCK is 8192 KiB"), "{text}");
        assert!(
            text.contains("sysctl -w kernel.perf_event_mlock_kb="),
            "{text}"
        );
        assert!(text.contains("ulimit -l"), "{text}");
        assert_eq!(b.used_pages(), 0, "a failed reservation holds nothing");
        // Shrink cannot help when not even one data page fits.
        let _hold = b.reserve(64, 35, SizePolicy::Fail).unwrap();
        assert_eq!(b.used_pages(), 99);
        assert!(b.reserve(1, 1, SizePolicy::Shrink).is_err());
        // A header-only mapping still fits in the last page.
        assert_eq!(b.reserve(0, 1, SizePolicy::Shrink).unwrap().data_pages(), 0);
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_limit() {
        let limit = 1000;
        let b = Budget::new(limit, limits());
        // Pages the threads hold, counted independently of the budget: always
        // a subset of what the budget has granted, so it must stay <= limit.
        let held_total = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let b = Arc::clone(&b);
                let held_total = Arc::clone(&held_total);
                std::thread::spawn(move || {
                    let mut held = Vec::new();
                    let mut granted = 0usize;
                    for i in 0..5000 {
                        let pages = 1 << ((i + t) % 7);
                        if let Ok(r) = b.reserve(pages, 1, SizePolicy::Shrink) {
                            granted += r.pages();
                            let now = held_total.fetch_add(r.pages(), Ordering::SeqCst) + r.pages();
                            assert!(now <= limit, "{now} pages held > limit {limit}");
                            held.push(r);
                        }
                        assert!(b.used_pages() <= limit);
                        if i % 5 == 4 {
                            for r in held.drain(..) {
                                held_total.fetch_sub(r.pages(), Ordering::SeqCst);
                                drop(r);
                            }
                        }
                    }
                    for r in held.drain(..) {
                        held_total.fetch_sub(r.pages(), Ordering::SeqCst);
                    }
                    granted
                })
            })
            .collect();
        let granted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(b.used_pages(), 0, "every reservation was given back");
        assert!(granted > limit, "threads did contend for the budget");
    }
}
