//! Thin wrappers over the perf system calls: perf_event_open(2), the
//! `PERF_EVENT_IOC_*` ioctls and read(2) into caller-provided buffers.
//!
//! Each wrapper turns the C convention (-1 and errno) into `io::Result` and
//! owns the returned descriptor as an `OwnedFd`. Nothing here allocates;
//! higher layers decide what an errno means for the user.

use perf_event_open_sys::bindings::perf_event_attr;
use perf_event_open_sys::{self as pes};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// `PERF_FLAG_FD_CLOEXEC`: every fd lwprof opens is close-on-exec, so a
/// profiled command never inherits our counters.
pub const FLAG_FD_CLOEXEC: u64 = perf_event_open_sys::bindings::PERF_FLAG_FD_CLOEXEC as u64;

/// Opens one event. `pid` -1 with a `cpu` >= 0 counts every task on that CPU;
/// `group` is the leader's fd for a group member.
pub fn perf_event_open(
    attr: &perf_event_attr,
    pid: i32,
    cpu: i32,
    group: Option<BorrowedFd<'_>>,
    flags: u64,
) -> io::Result<OwnedFd> {
    let mut attr = *attr;
    let group_fd = group.map_or(-1, |fd| fd.as_raw_fd());
    // SAFETY: `attr` is a fully initialised perf_event_attr whose `size` field
    // matches the struct we pass; the kernel only reads it (and may write the
    // supported size back on E2BIG, which is why we pass a private copy).
    let fd = unsafe {
        pes::perf_event_open(
            &mut attr,
            pid,
            cpu,
            group_fd,
            (flags | FLAG_FD_CLOEXEC) as libc::c_ulong,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us; nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `PERF_IOC_FLAG_GROUP`: apply an ioctl to the whole group of the leader.
const IOC_FLAG_GROUP: u32 = perf_event_open_sys::bindings::PERF_IOC_FLAG_GROUP;

/// Enables the event (and its group members when `group` is true).
pub fn enable(fd: BorrowedFd<'_>, group: bool) -> io::Result<()> {
    // SAFETY: plain ioctl on a perf fd we borrow; the argument is a flag word.
    check(unsafe { pes::ioctls::ENABLE(fd.as_raw_fd(), if group { IOC_FLAG_GROUP } else { 0 }) })
}

/// Disables the event (and its group members when `group` is true).
pub fn disable(fd: BorrowedFd<'_>, group: bool) -> io::Result<()> {
    // SAFETY: plain ioctl on a perf fd we borrow; the argument is a flag word.
    check(unsafe { pes::ioctls::DISABLE(fd.as_raw_fd(), if group { IOC_FLAG_GROUP } else { 0 }) })
}

/// Resets the count to zero (for the group when `group` is true).
pub fn reset(fd: BorrowedFd<'_>, group: bool) -> io::Result<()> {
    // SAFETY: plain ioctl on a perf fd we borrow; the argument is a flag word.
    check(unsafe { pes::ioctls::RESET(fd.as_raw_fd(), if group { IOC_FLAG_GROUP } else { 0 }) })
}

/// The kernel's unique id of this event (`PERF_EVENT_IOC_ID`).
pub fn event_id(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut id = 0u64;
    // SAFETY: the kernel writes one u64 through the pointer, which points at
    // a live local.
    check(unsafe { pes::ioctls::ID(fd.as_raw_fd(), &mut id) })?;
    Ok(id)
}

/// Redirects this event's records into the ring buffer of `target`
/// (`PERF_EVENT_IOC_SET_OUTPUT`). Both must be on the same CPU or task.
pub fn set_output(fd: BorrowedFd<'_>, target: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: both descriptors are live perf fds borrowed for the call.
    check(unsafe { pes::ioctls::SET_OUTPUT(fd.as_raw_fd(), target.as_raw_fd()) })
}

/// Pauses (`true`) or resumes writing into the event's ring buffer
/// (`PERF_EVENT_IOC_PAUSE_OUTPUT`).
pub fn pause_output(fd: BorrowedFd<'_>, pause: bool) -> io::Result<()> {
    // SAFETY: plain ioctl on a perf fd we borrow; the argument is 0 or 1.
    check(unsafe { pes::ioctls::PAUSE_OUTPUT(fd.as_raw_fd(), pause as u32) })
}

/// Sets a tracepoint filter expression (`PERF_EVENT_IOC_SET_FILTER`).
pub fn set_filter(fd: BorrowedFd<'_>, filter: &std::ffi::CStr) -> io::Result<()> {
    // SAFETY: the kernel copies the NUL-terminated string and does not keep
    // the pointer; it does not write through it despite the `*mut` type.
    check(unsafe { pes::ioctls::SET_FILTER(fd.as_raw_fd(), filter.as_ptr() as *mut _) })
}

/// Reads from a perf fd into `buf`, returning the number of bytes read.
/// The caller's buffer is typically on the stack: this never allocates.
pub fn read_into(fd: BorrowedFd<'_>, buf: &mut [u64]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid for writes of `size_of_val(buf)` bytes and
        // the kernel writes at most that many.
        let n = unsafe {
            libc::read(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                std::mem::size_of_val(buf),
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The bytes of a `perf_event_attr`, as they are written to perf.data files.
pub fn attr_bytes(attr: &perf_event_attr) -> [u8; std::mem::size_of::<perf_event_attr>()] {
    // SAFETY: perf_event_attr is a repr(C) plain-old-data struct made of
    // integers; bindgen pads it with explicit fields, so every byte is
    // initialised (we build every attr from `Default`, which zeroes it).
    unsafe { std::mem::transmute_copy(attr) }
}

/// prctl(PR_TASK_PERF_EVENTS_DISABLE): disables every event the calling
/// thread opened (the kernel walks `current->perf_event_list`, the events it
/// owns), whatever task they monitor. It does not touch events other
/// processes opened on this thread, despite what prctl(2) suggests.
pub fn task_events_disable() -> io::Result<()> {
    // SAFETY: prctl with an option that takes no pointer arguments.
    check(unsafe { libc::prctl(libc::PR_TASK_PERF_EVENTS_DISABLE, 0, 0, 0, 0) })
}

/// prctl(PR_TASK_PERF_EVENTS_ENABLE): enables every event the calling thread opened.
pub fn task_events_enable() -> io::Result<()> {
    // SAFETY: prctl with an option that takes no pointer arguments.
    check(unsafe { libc::prctl(libc::PR_TASK_PERF_EVENTS_ENABLE, 0, 0, 0, 0) })
}

/// The raw fd number, for logging and for `/proc/self/fdinfo`.
pub fn raw(fd: &impl AsRawFd) -> RawFd {
    fd.as_raw_fd()
}
