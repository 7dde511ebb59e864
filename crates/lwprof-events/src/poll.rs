//! Waiting on many rings at once: epoll over perf fds.
//!
//! The kernel marks a perf fd readable when its ring crosses the wakeup
//! threshold set on the attribute ([`crate::sampling::Wakeup`]:
//! `wakeup_events` samples or `wakeup_watermark` bytes), and reports
//! `POLLHUP` once the monitored task has exited and the event can produce
//! nothing more. A [`Poller`] is one epoll instance over any number of such
//! fds, each registered with a caller-chosen token.
//!
//! Note: a perf fd without a mapped ring polls as `POLLHUP` at once; map the
//! ring before registering it. Readiness is level-triggered but the kernel
//! clears it on each poll, so one wakeup is reported once: drain the ring
//! fully after each report.
//!
//! This module does not read rings; async integration is left to a feature.

use crate::error::{Error, Result};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// What happened on one registered fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The token given to [`Poller::add`].
    pub token: u64,
    /// The ring crossed its wakeup threshold (`EPOLLIN`).
    pub readable: bool,
    /// The event is finished: its task exited (`EPOLLHUP`). Drain the ring
    /// one last time, then remove it.
    pub hangup: bool,
    /// `EPOLLERR`: e.g. a pinned event that could not be scheduled.
    pub error: bool,
}

/// An epoll instance over perf fds.
#[derive(Debug)]
pub struct Poller {
    epfd: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Poller {
    /// A new, empty poller.
    pub fn new() -> Result<Poller> {
        // SAFETY: epoll_create1 takes a flag word and returns a new fd or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(Error::io("epoll_create1", std::io::Error::last_os_error()));
        }
        Ok(Poller {
            // SAFETY: a descriptor the kernel just returned, owned by nobody else.
            epfd: unsafe { OwnedFd::from_raw_fd(fd) },
            events: Vec::with_capacity(64),
        })
    }

    fn ctl(&self, op: libc::c_int, fd: BorrowedFd<'_>, token: u64) -> Result<()> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) as u32,
            u64: token,
        };
        // SAFETY: both fds are live; the kernel copies `ev` during the call.
        let rc = unsafe { libc::epoll_ctl(self.epfd.as_raw_fd(), op, fd.as_raw_fd(), &mut ev) };
        if rc < 0 {
            return Err(Error::io(
                format!("epoll_ctl on fd {}", fd.as_raw_fd()),
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// Registers `fd` (a perf fd whose ring is mapped, e.g. [`crate::ring::Ring::fd`])
    /// under `token`. The fd must stay open while registered.
    pub fn add(&self, fd: BorrowedFd<'_>, token: u64) -> Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token)
    }

    /// Unregisters `fd`.
    pub fn remove(&self, fd: BorrowedFd<'_>) -> Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0)
    }

    /// Waits until at least one fd is ready or `timeout` passes (`None`:
    /// forever; zero: just look), appends what happened to `out` and returns
    /// how many entries were appended. An interrupting signal returns 0.
    pub fn wait(&mut self, timeout: Option<Duration>, out: &mut Vec<Readiness>) -> Result<usize> {
        let ms = match timeout {
            None => -1,
            Some(d) => i32::try_from(d.as_millis()).unwrap_or(i32::MAX),
        };
        let cap = self.events.capacity().max(1);
        // SAFETY: the kernel writes at most `cap` events into the vector's
        // spare capacity; we then set the length to what it reports.
        let n = unsafe {
            libc::epoll_wait(
                self.epfd.as_raw_fd(),
                self.events.as_mut_ptr(),
                cap as libc::c_int,
                ms,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(Error::io("epoll_wait", e));
        }
        // SAFETY: the first n entries were initialised by epoll_wait (n <= cap).
        unsafe { self.events.set_len(n as usize) };
        for ev in &self.events {
            let bits = ev.events as libc::c_int;
            out.push(Readiness {
                token: ev.u64,
                readable: bits & libc::EPOLLIN != 0,
                hangup: bits & libc::EPOLLHUP != 0,
                error: bits & libc::EPOLLERR != 0,
            });
        }
        self.events.clear();
        Ok(n as usize)
    }
}

impl AsFd for Poller {
    /// The epoll fd itself: readable while any registered fd is ready, so a
    /// poller can be nested in another event loop (e.g. Tokio's `AsyncFd`).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epfd.as_fd()
    }
}
