//! An async stream of session records (feature `tokio`).
//!
//! [`RecordStream`] owns a [`SamplingSession`] and registers (a duplicate
//! of) its epoll fd with Tokio's reactor through `AsyncFd`: the epoll fd is
//! readable while any ring has crossed its wakeup threshold or any event fd
//! has hung up. On each readiness, and at least every
//! [`crate::session::SessionOptions::poll_interval`] (so records below the
//! wakeup threshold still come out), the stream reads one round of the rings
//! and yields the records that the time-ordered merge releases. It ends when
//! the session finishes (every task gone, or [`StopHandle::stop`]).
//!
//! Test it with `cargo test -p lwprof-events --features tokio`.

use crate::error::{Error, Result};
use crate::session::{SamplingSession, SessionRecord, StopHandle};
use std::future::Future;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// A [`futures_core::Stream`] of a session's records in time order.
#[derive(Debug)]
pub struct RecordStream {
    session: SamplingSession,
    poller: AsyncFd<OwnedFd>,
    tick: Pin<Box<tokio::time::Sleep>>,
}

impl RecordStream {
    /// Wraps `session`. Must be called inside a Tokio runtime with I/O and
    /// time enabled (Tokio panics otherwise).
    pub(crate) fn new(session: SamplingSession) -> Result<RecordStream> {
        let fd = session
            .poller_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::io("duplicating the session's epoll fd", e))?;
        // SAFETY: `fd` is an OwnedFd we just duplicated: it is open, owned by
        // the AsyncFd alone until it is dropped, and always returns the same
        // descriptor from as_raw_fd.
        let poller =
            unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.map_err(|e| {
                Error::io(
                    "registering the session's epoll fd with Tokio",
                    std::io::Error::from(e),
                )
            })?;
        let tick = Box::pin(tokio::time::sleep(session.poll_interval()));
        Ok(RecordStream {
            session,
            poller,
            tick,
        })
    }

    /// The session (its events, stats and lost counts).
    pub fn session(&self) -> &SamplingSession {
        &self.session
    }

    /// A handle that ends the stream (within one poll interval).
    pub fn stop_handle(&self) -> StopHandle {
        self.session.stop_handle()
    }

    /// The session back.
    pub fn into_inner(self) -> SamplingSession {
        self.session
    }
}

impl futures_core::Stream for RecordStream {
    type Item = Result<SessionRecord>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(r) = this.session.pop_ready() {
                return Poll::Ready(Some(Ok(r)));
            }
            if this.session.is_finished() {
                return Poll::Ready(None);
            }
            let mut woke = false;
            match this.poller.poll_read_ready(cx) {
                Poll::Ready(Ok(mut guard)) => {
                    // The step below empties epoll's ready list.
                    guard.clear_ready();
                    woke = true;
                }
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(Some(Err(Error::io(
                        "waiting on the session's epoll fd",
                        e,
                    ))))
                }
                Poll::Pending => {}
            }
            if this.tick.as_mut().poll(cx).is_ready() {
                let next = tokio::time::Instant::now() + this.session.poll_interval();
                this.tick.as_mut().reset(next);
                woke = true;
            }
            if !woke {
                return Poll::Pending;
            }
            if let Err(e) = this.session.step() {
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}
