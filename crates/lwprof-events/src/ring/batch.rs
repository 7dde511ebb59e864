//! Forward reading: libperf's `read_init` ([`Ring::read`]), `read_event`
//! ([`ReadBatch::next_record`], [`ReadBatch::records`]), `consume`
//! ([`ReadBatch::consume`]) and `read_done` (dropping the batch).
//!
//! This module does not read overwrite rings ([`super::snapshot`]) or the AUX
//! area ([`super::aux`]).
use super::Ring;
use crate::raw::RawData;
impl Ring {
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
