//! Flight-recorder reading of an overwrite ring (`write_backward`): pause
//! the output, walk back from `data_head`, hand the newest records out
//! oldest first, resume on drop.
//!
//! This module does not read forward rings ([`super::batch`]).
use super::Ring;
use crate::error::{Error, Result};
use crate::raw::RawData;
impl Ring {
    /// Flight-recorder read of an overwrite ring: pauses output, walks the
    /// records from `data_head` (newest first in backward mode) until the
    /// buffer is covered, an unwritten (zero) header, or a record the kernel
    /// has partly overwritten, and returns them oldest first. With
    /// `only_new`, stops at the head of the previous snapshot so no record is
    /// returned twice. Output resumes when the [`Snapshot`] is dropped.
    pub fn snapshot(&mut self, only_new: bool) -> Result<Snapshot<'_>> {
        if !self.overwrite {
            return Err(Error::misuse(
                "snapshot of a forward ring; map it with RingOptions::overwrite and attr.write_backward",
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
