//! The time-ordered merge of a session's rings: records copied out of each
//! ring into a reorder window, let out round by round once no ring can still
//! hold an older one (perf's `FINISHED_ROUND`), or early when the window is
//! full (see the [`super`] docs).
//!
//! This module does not wait on the rings or open events: the session does.
use super::SamplingSession;
use crate::error::Result;
use crate::raw::RawData;
use crate::record::{Endianness, ParseError, RawRecord, Record, RecordHeader, RecordParseInfo};
use std::cmp::Reverse;
use std::sync::atomic::Ordering;
#[cfg(feature = "tokio")]
use std::time::Duration;
/// How the time-ordered merge went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderStats {
    /// Records copied out for merging.
    pub buffered: u64,
    /// Records let out before their round was safe, because the window was full.
    pub forced: u64,
    /// Records that arrived older than one already emitted (emitted anyway):
    /// non-zero only when the window was forced or a write was held up for
    /// longer than a round.
    pub late: u64,
    /// Records whose id or time could not be read (emitted with the time of
    /// the previous record of their ring).
    pub unparsed: u64,
    /// Most records held at once.
    pub peak_buffered: usize,
}

/// One record copied out of a ring, for the time-ordered merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The record's time (perf clock, ns).
    pub time: u64,
    /// The index of the event that wrote it in [`SamplingSession::events`],
    /// when its id is known.
    pub event: Option<usize>,
    /// The CPU whose ring it came from.
    pub cpu: i32,
    info: RecordParseInfo,
    bytes: Vec<u8>,
}

impl SessionRecord {
    /// The record's bytes, header included.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The record's header.
    pub fn header(&self) -> Option<RecordHeader> {
        RecordHeader::parse(RawData::Single(&self.bytes), Endianness::NATIVE)
    }

    /// The record, parsed with the layout of its event.
    pub fn parse(&self) -> std::result::Result<Record<'_>, ParseError> {
        crate::record::parse_record(RawData::Single(&self.bytes), &self.info)
    }

    /// The layout used by [`SessionRecord::parse`].
    pub fn parse_info(&self) -> &RecordParseInfo {
        &self.info
    }
}

/// Orders records by (time, arrival).
#[derive(Debug)]
pub(super) struct Pending {
    key: (u64, u64),
    record: SessionRecord,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.key.cmp(&o.key)
    }
}

impl SamplingSession {
    /// One round: reads every ring, copying records into the reorder window,
    /// then moves every record that is now safe (see the module docs) to
    /// `out`, oldest first. Returns how many were appended.
    pub fn read_ordered(&mut self, out: &mut Vec<SessionRecord>) -> usize {
        self.round();
        let before = out.len();
        self.release(Some(self.prev_round_max), |r| out.push(r));
        self.prev_round_max = self.round_max;
        out.len() - before
    }

    /// Reads the rings once more and moves every buffered record to `out`,
    /// oldest first (at the end of a session).
    pub fn flush_ordered(&mut self, out: &mut Vec<SessionRecord>) -> usize {
        self.round();
        let before = out.len();
        out.extend(self.ready.drain(..));
        self.release(None, |r| out.push(r));
        out.len() - before
    }

    fn round(&mut self) {
        for ri in 0..self.rings.len() {
            let slot = &mut self.rings[ri];
            let cpu = slot.cpu;
            let mut last_time = slot.last_time;
            let mut batch = slot.ring.read();
            for data in batch.records() {
                let parsed = RawRecord::from_data(data, Endianness::NATIVE)
                    .ok()
                    .and_then(|raw| {
                        let event = raw
                            .id(&self.id_position)
                            .and_then(|id| lookup(&self.ids, id));
                        let info =
                            event.map_or(self.events[0].parse_info, |e| self.events[e].parse_info);
                        let time = raw.parse(&info).ok().and_then(|r| r.time())?;
                        Some((event, info, time))
                    });
                let (event, info, time) = match parsed {
                    Some(p) => p,
                    None => {
                        self.order.unparsed += 1;
                        (None, self.events[0].parse_info, last_time)
                    }
                };
                last_time = time;
                let mut bytes = vec![0u8; data.len()];
                data.copy_to(&mut bytes);
                self.round_max = self.round_max.max(time);
                self.order.buffered += 1;
                self.seq += 1;
                self.heap.push(Reverse(Pending {
                    key: (time, self.seq),
                    record: SessionRecord {
                        time,
                        event,
                        cpu,
                        info,
                        bytes,
                    },
                }));
                self.order.peak_buffered = self.order.peak_buffered.max(self.heap.len());
                if self.heap.len() > self.opts.max_buffered {
                    if let Some(Reverse(p)) = self.heap.pop() {
                        self.order.forced += 1;
                        note_emitted(&mut self.order, &mut self.last_emitted, p.record.time);
                        self.ready.push_back(p.record);
                    }
                }
            }
            drop(batch);
            self.rings[ri].last_time = last_time;
        }
    }

    /// Emits forced records, then heap records up to `horizon` (all when None).
    fn release(&mut self, horizon: Option<u64>, mut push: impl FnMut(SessionRecord)) {
        while let Some(r) = self.ready.pop_front() {
            push(r);
        }
        while let Some(Reverse(top)) = self.heap.peek() {
            if horizon.is_some_and(|h| top.key.0 > h) {
                break;
            }
            let Some(Reverse(p)) = self.heap.pop() else {
                break;
            };
            note_emitted(&mut self.order, &mut self.last_emitted, p.record.time);
            push(p.record);
        }
    }

    /// Ends the session now: disables the events, reads the rings one last
    /// time and moves every buffered record to `out`.
    pub fn finish(&mut self, out: &mut Vec<SessionRecord>) -> Result<usize> {
        self.disable()?;
        let n = self.flush_ordered(out);
        self.finished = true;
        Ok(n)
    }

    /// The next record in time order, waiting for the rings as needed
    /// ([`super::SessionOptions::poll_interval`] at a time). `None` once the
    /// session is finished (every task gone, or [`super::StopHandle::stop`]) and
    /// every record has been returned.
    pub fn next_ordered(&mut self) -> Result<Option<SessionRecord>> {
        let mut out = Vec::new();
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Ok(Some(r));
            }
            if self.finished {
                return Ok(None);
            }
            // Relaxed: see StopHandle::stop.
            let gone = if self.stop.load(Ordering::Relaxed) {
                self.disable()?;
                true
            } else {
                self.wait(Some(self.opts.poll_interval))?.finished
            };
            if gone {
                self.flush_ordered(&mut out);
                self.finished = true;
            } else {
                self.read_ordered(&mut out);
            }
            self.ready.extend(out.drain(..));
        }
    }

    /// An iterator over [`SamplingSession::next_ordered`].
    pub fn ordered(&mut self) -> OrderedRecords<'_> {
        OrderedRecords { session: self }
    }

    /// Records taken out of the window and not yet returned.
    #[cfg(feature = "tokio")]
    pub(crate) fn pop_ready(&mut self) -> Option<SessionRecord> {
        self.ready.pop_front()
    }

    /// One non-blocking step for the async stream: look at the poller,
    /// read a round (or flush when the target is gone or stopped).
    #[cfg(feature = "tokio")]
    pub(crate) fn step(&mut self) -> Result<()> {
        let mut out = Vec::new();
        // Relaxed: see StopHandle::stop.
        let gone = if self.stop.load(Ordering::Relaxed) {
            self.disable()?;
            true
        } else {
            self.wait(Some(Duration::ZERO))?.finished
        };
        if gone {
            self.flush_ordered(&mut out);
            self.finished = true;
        } else {
            self.read_ordered(&mut out);
        }
        self.ready.extend(out);
        Ok(())
    }
}

/// Counts a record emitted older than one before it.
fn note_emitted(order: &mut OrderStats, last_emitted: &mut u64, time: u64) {
    if time < *last_emitted {
        order.late += 1;
    } else {
        *last_emitted = time;
    }
}

fn lookup(ids: &[(u64, usize)], id: u64) -> Option<usize> {
    ids.binary_search_by_key(&id, |&(i, _)| i)
        .ok()
        .map(|at| ids[at].1)
}

/// Records of a session in time order; see [`SamplingSession::next_ordered`].
#[derive(Debug)]
pub struct OrderedRecords<'s> {
    session: &'s mut SamplingSession,
}

impl Iterator for OrderedRecords<'_> {
    type Item = Result<SessionRecord>;

    fn next(&mut self) -> Option<Result<SessionRecord>> {
        self.session.next_ordered().transpose()
    }
}
