//! The error type of `lwprof-events`.
//!
//! Every variant carries what a user needs to act: which event, which limit,
//! which sysctl. Messages are one line and say what would fix the problem.

use std::io;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong talking to the kernel's perf interface.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// perf_event_open was refused for lack of privilege.
    #[error("{event}: permission denied ({errno}); {advice}")]
    Permission {
        /// The event name.
        event: String,
        /// EACCES or EPERM.
        errno: &'static str,
        /// What the paranoid level allows and how to change it.
        advice: String,
    },
    /// The event does not exist on this machine (e.g. no hardware PMU).
    #[error("{event}: not supported: {reason}")]
    NotSupported {
        /// The event name.
        event: String,
        /// Why, in one phrase.
        reason: String,
        /// The errno of the refusal, when the kernel refused.
        #[source]
        source: Option<io::Error>,
    },
    /// The target process or thread does not exist.
    #[error("no such process or thread: {pid} (it may have exited; check `ps -p {pid}`)")]
    NoSuchProcess {
        /// The pid or tid.
        pid: i32,
    },
    /// The kernel rejected the attribute.
    #[error("{event}: the kernel rejected the event ({source}){hint}")]
    Invalid {
        /// The event name.
        event: String,
        /// The errno.
        source: io::Error,
        /// An extra hint, starting with "; " when present.
        hint: String,
    },
    /// A bad event specification, or a sysfs/tracefs problem resolving it.
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),
    /// A ring buffer does not fit the locked-memory budget (see
    /// [`crate::budget`]); the message names both limits and how to raise them.
    #[error(transparent)]
    Budget(#[from] crate::budget::BudgetError),
    /// The API was used in a way it does not allow: a caller's mistake (an
    /// empty group, a ring size that is not a power of two, a command
    /// started twice, a snapshot of a forward ring), not a refusal by the
    /// kernel. The message says what was asked and what is allowed.
    #[error("{0}")]
    Misuse(String),
    /// The program of a command to measure is not in `$PATH` (or not
    /// executable).
    #[error("{program}: command not found (check the name or your $PATH)")]
    CommandNotFound {
        /// The program as given.
        program: String,
    },
    /// A read(2) of a counter returned fewer bytes than its read format
    /// promises.
    #[error("{what}: short read from the kernel ({got} of {want} bytes)")]
    ShortRead {
        /// What was read (the event name and the read).
        what: String,
        /// Bytes the kernel returned.
        got: usize,
        /// Bytes the read format needs.
        want: usize,
    },
    /// Building or installing the seccomp filter failed.
    #[error("seccomp: {what}: {source}")]
    Seccomp {
        /// What we were doing.
        what: String,
        /// seccompiler's error.
        source: seccompiler::Error,
    },
    /// A thread this crate started panicked (the self-profiler's reader).
    #[error("the {thread} thread panicked")]
    Panicked {
        /// Which thread.
        thread: &'static str,
    },
    /// Any other system-call failure, with what we were doing.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with a description of what we were doing.
    pub fn io(what: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// A [`Error::Misuse`] with this message.
    pub fn misuse(what: impl Into<String>) -> Self {
        Error::Misuse(what.into())
    }
}
