//! Time order for a perf.data stream in bounded memory, as perf's
//! ordered-events queue gives it.
//!
//! `perf record` (and lwprof's recorder) drain every ring, then write a
//! `PERF_RECORD_FINISHED_ROUND`. A record written after round N-1 is never
//! older than the newest record seen when round N-1 ended, so at each round
//! the queue hands out, in time order, every record up to the newest time
//! of the round before, and keeps the rest. Memory is bounded by a round,
//! not by the file. A stream without rounds (or with one round larger than
//! the budget) is sorted in windows: when the queue holds more than its
//! budget of record bytes, the older half is handed out, as perf does.
//! Records that then arrive older than one already handed out are counted.
//!
//! It deliberately does not parse records: it keeps bytes, a time and an
//! event index, and hands them to a callback.

/// The record bytes the queue holds before it hands out its older half.
pub const DEFAULT_BUDGET: usize = 64 << 20;

/// One queued record (24 bytes: sorting moves these, not the records).
#[derive(Debug, Clone, Copy)]
struct Entry {
    time: u64,
    start: usize,
    /// A record is at most 64 KiB.
    len: u32,
    /// The event index, [`NO_ATTR`] for none.
    attr_index: u32,
}

const NO_ATTR: u32 = u32::MAX;

impl Entry {
    fn attr_index(&self) -> Option<usize> {
        (self.attr_index != NO_ATTR).then_some(self.attr_index as usize)
    }
}

/// Records queued until their time order is known.
#[derive(Debug)]
pub struct OrderedQueue {
    entries: Vec<Entry>,
    bytes: Vec<u8>,
    spare: Vec<u8>,
    last_time: u64,
    max_time: u64,
    next_flush: Option<u64>,
    last_out: Option<u64>,
    budget: usize,
    rounds: u64,
    budget_flushes: u64,
    out_of_order: u64,
}

/// What ordering the stream took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderStats {
    /// FINISHED_ROUND records seen.
    pub rounds: u64,
    /// Times the queue went over its budget and handed out its older half.
    pub budget_flushes: u64,
    /// Records that arrived older than a record already handed out (they
    /// are handed out late, as perf does).
    pub out_of_order: u64,
    /// The budget, in bytes.
    pub budget: usize,
}

impl OrderedQueue {
    /// A queue that holds at most about `budget` bytes of records.
    pub fn new(budget: usize) -> Self {
        OrderedQueue {
            entries: Vec::new(),
            bytes: Vec::new(),
            spare: Vec::new(),
            last_time: 0,
            max_time: 0,
            next_flush: None,
            last_out: None,
            budget: budget.max(1),
            rounds: 0,
            budget_flushes: 0,
            out_of_order: 0,
        }
    }

    /// Queues one record; a record without a time keeps its place after the
    /// record before it.
    pub fn push(
        &mut self,
        time: Option<u64>,
        attr_index: Option<usize>,
        bytes: &[u8],
        out: &mut impl FnMut(u64, Option<usize>, &[u8]),
    ) {
        let time = time.unwrap_or(self.last_time);
        self.last_time = time;
        self.max_time = self.max_time.max(time);
        self.entries.push(Entry {
            time,
            start: self.bytes.len(),
            len: bytes.len().try_into().unwrap_or(u32::MAX),
            attr_index: attr_index
                .and_then(|i| u32::try_from(i).ok())
                .unwrap_or(NO_ATTR),
        });
        self.bytes.extend_from_slice(bytes);
        if self.bytes.len() > self.budget {
            self.budget_flushes += 1;
            self.sort();
            let half = self.entries.len() / 2;
            let limit = self.entries[half.saturating_sub(1)].time;
            self.flush_upto(Some(limit), out);
        }
    }

    /// A FINISHED_ROUND: hands out every record up to the newest time seen
    /// at the round before.
    pub fn finished_round(&mut self, out: &mut impl FnMut(u64, Option<usize>, &[u8])) {
        self.rounds += 1;
        if let Some(limit) = self.next_flush {
            self.sort();
            self.flush_upto(Some(limit), out);
        }
        self.next_flush = Some(self.max_time);
    }

    /// The end of the stream: hands out everything left.
    pub fn finish(mut self, out: &mut impl FnMut(u64, Option<usize>, &[u8])) -> OrderStats {
        self.sort();
        self.flush_upto(None, out);
        OrderStats {
            rounds: self.rounds,
            budget_flushes: self.budget_flushes,
            out_of_order: self.out_of_order,
            budget: self.budget,
        }
    }

    /// Orders by time, equal times in arrival order. A stable sort: the
    /// queue is a sorted rest plus one round of per-CPU runs, which a
    /// run-detecting merge sort orders in near-linear time.
    fn sort(&mut self) {
        self.entries.sort_by_key(|e| e.time);
    }

    /// Hands out the (sorted) entries with time <= `limit` (all of them
    /// without a limit) and keeps the rest, compacted.
    fn flush_upto(&mut self, limit: Option<u64>, out: &mut impl FnMut(u64, Option<usize>, &[u8])) {
        let n = match limit {
            Some(l) => self.entries.partition_point(|e| e.time <= l),
            None => self.entries.len(),
        };
        for e in &self.entries[..n] {
            if self.last_out.is_some_and(|t| e.time < t) {
                self.out_of_order += 1;
            } else {
                self.last_out = Some(e.time);
            }
            out(
                e.time,
                e.attr_index(),
                &self.bytes[e.start..][..e.len as usize],
            );
        }
        self.entries.drain(..n);
        self.spare.clear();
        for e in &mut self.entries {
            let start = self.spare.len();
            self.spare
                .extend_from_slice(&self.bytes[e.start..][..e.len as usize]);
            e.start = start;
        }
        std::mem::swap(&mut self.bytes, &mut self.spare);
        // Keep the arena from holding a spike's worth of memory forever.
        if self.spare.capacity() > 2 * self.budget {
            self.spare = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(queue: &mut OrderedQueue, input: &[Option<u64>], out: &mut Vec<u64>) {
        for (i, &t) in input.iter().enumerate() {
            match t {
                Some(t) => queue.push(Some(t), None, &[i as u8], &mut |t, _, _| out.push(t)),
                None => queue.finished_round(&mut |t, _, _| out.push(t)),
            }
        }
    }

    #[test]
    fn rounds_hand_out_in_time_order_and_keep_only_a_round() {
        let mut q = OrderedQueue::new(DEFAULT_BUDGET);
        let mut out = Vec::new();
        // Two "rings" drained in turn; a round marker after each pass.
        let input = [
            Some(10),
            Some(30),
            Some(20),
            None,
            Some(40),
            Some(25),
            None,
            Some(50),
            None,
        ];
        run(&mut q, &input, &mut out);
        // At the second round everything up to 30 (the first round's
        // newest) is out; 40 waits.
        assert_eq!(out, [10, 20, 25, 30, 40]);
        let stats = q.finish(&mut |t, _, _| out.push(t));
        assert_eq!(out, [10, 20, 25, 30, 40, 50]);
        assert_eq!(stats.rounds, 3);
        assert_eq!(stats.out_of_order, 0);
    }

    #[test]
    fn a_stream_without_rounds_is_sorted_in_bounded_windows() {
        // Each record is 1 byte; a budget of 4 bytes.
        let mut q = OrderedQueue::new(4);
        let mut out = Vec::new();
        let input: Vec<Option<u64>> = [5, 3, 1, 4, 2, 0, 9, 8, 7, 6].map(Some).to_vec();
        run(&mut q, &input, &mut out);
        assert!(q.entries.len() <= 4, "{} queued", q.entries.len());
        let stats = q.finish(&mut |t, _, _| out.push(t));
        // 1 and 2 were out when 0 arrived: it comes late, and is counted.
        assert_eq!(out, [1, 2, 0, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(stats.budget_flushes, 3);
        assert_eq!(stats.out_of_order, 1);
    }

    #[test]
    fn records_without_time_keep_their_place() {
        let mut q = OrderedQueue::new(DEFAULT_BUDGET);
        let mut seen = Vec::new();
        q.push(Some(7), None, b"a", &mut |_, _, b| seen.push(b[0]));
        q.push(None, None, b"b", &mut |_, _, b| seen.push(b[0]));
        q.push(Some(3), None, b"c", &mut |_, _, b| seen.push(b[0]));
        q.finish(&mut |_, _, b| seen.push(b[0]));
        assert_eq!(seen, b"cab");
    }
}
