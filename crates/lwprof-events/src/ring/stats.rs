//! What a ring's reader saw go by: records, bytes and samples, and above all
//! what the kernel reports lost (LOST per event id, LOST_SAMPLES, THROTTLE).
//!
//! This module only counts; it reads no ring and parses nothing beyond the
//! header and the two counter words of LOST / LOST_SAMPLES.
use crate::raw::RawData;
use lwprof_records::abi::record_type;
use lwprof_records::record::RecordHeader;
/// What the reader saw go by, and above all what the kernel reports lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RingStats {
    /// Records read (every type, LOST included).
    pub records: u64,
    /// Bytes of those records.
    pub bytes: u64,
    /// Samples (`PERF_RECORD_SAMPLE`) read.
    pub samples: u64,
    /// Sum of the `lost` fields of every `PERF_RECORD_LOST`: records the
    /// kernel dropped because the ring was full (or paused).
    pub lost: u64,
    /// The same, per event id, in order of first appearance.
    pub lost_by_id: Vec<(u64, u64)>,
    /// `PERF_RECORD_LOST` records seen.
    pub lost_records: u64,
    /// Sum of `PERF_RECORD_LOST_SAMPLES.lost` (samples the PMU or the AUX
    /// path dropped before they reached the ring).
    pub lost_samples: u64,
    /// `PERF_RECORD_THROTTLE` records: sampling was stopped for exceeding
    /// `kernel.perf_event_max_sample_rate`; samples missing meanwhile are
    /// not in `lost`.
    pub throttles: u64,
    /// `PERF_RECORD_UNTHROTTLE` records.
    pub unthrottles: u64,
    /// Bytes skipped because a record header was malformed (size < 8 or past
    /// `data_head`); non-zero means a kernel or crafting bug.
    pub corrupt_bytes: u64,
}

impl RingStats {
    /// Lost records reported for one event id.
    pub fn lost_for(&self, id: u64) -> u64 {
        self.lost_by_id
            .iter()
            .find(|(i, _)| *i == id)
            .map_or(0, |(_, n)| *n)
    }

    /// Adds another ring's counts (e.g. every CPU of one session).
    pub fn accumulate(&mut self, other: &RingStats) {
        self.records += other.records;
        self.bytes += other.bytes;
        self.samples += other.samples;
        self.lost += other.lost;
        self.lost_records += other.lost_records;
        self.lost_samples += other.lost_samples;
        self.throttles += other.throttles;
        self.unthrottles += other.unthrottles;
        self.corrupt_bytes += other.corrupt_bytes;
        for &(id, n) in &other.lost_by_id {
            self.add_lost(id, n);
        }
    }

    fn add_lost(&mut self, id: u64, n: u64) {
        match self.lost_by_id.iter_mut().find(|(i, _)| *i == id) {
            Some(slot) => slot.1 += n,
            None => self.lost_by_id.push((id, n)),
        }
    }

    #[inline]
    /// Counts one record that went by; `words` are its u64s at offsets 8 and
    /// 16 (see [`counter_words`]).
    pub(super) fn note(&mut self, header: &RecordHeader, words: [u64; 2]) {
        self.records += 1;
        self.bytes += header.size as u64;
        match header.record_type {
            record_type::SAMPLE => self.samples += 1,
            record_type::LOST => {
                // struct { header; u64 id; u64 lost; sample_id }
                self.lost_records += 1;
                self.lost += words[1];
                self.add_lost(words[0], words[1]);
            }
            // struct { header; u64 lost; sample_id }
            record_type::LOST_SAMPLES => self.lost_samples += words[0],
            record_type::THROTTLE => self.throttles += 1,
            record_type::UNTHROTTLE => self.unthrottles += 1,
            _ => {}
        }
    }
}

/// The u64s at offsets 8 and 16 of a LOST / LOST_SAMPLES record (zeros for
/// other types, or when the record is too short).
pub(super) fn counter_words(header: &RecordHeader, data: &RawData<'_>) -> [u64; 2] {
    match header.record_type {
        record_type::LOST => [
            data.read_u64(8).unwrap_or(0),
            data.read_u64(16).unwrap_or(0),
        ],
        record_type::LOST_SAMPLES => [data.read_u64(8).unwrap_or(0), 0],
        _ => [0, 0],
    }
}
