//! Where the event id and the timestamp sit in a record, derived from the
//! attributes' `sample_type` and `sample_id_all`. Pure: works on record bytes
//! (contiguous or wrapped), does no I/O.

use super::attr::EventAttr;
use lwprof_records::abi::record_type::{SAMPLE as RECORD_SAMPLE, USER_TYPE_START};
use lwprof_records::{Endianness, RawData};
use std::collections::HashMap;

const S_IP: u64 = 1 << 0;
const S_TID: u64 = 1 << 1;
const S_TIME: u64 = 1 << 2;
const S_ADDR: u64 = 1 << 3;
const S_ID: u64 = 1 << 6;
const S_CPU: u64 = 1 << 7;
const S_STREAM_ID: u64 = 1 << 9;
const S_IDENTIFIER: u64 = 1 << 16;

fn n(st: u64, bit: u64) -> usize {
    usize::from(st & bit != 0) * 8
}

/// Positions of the id within records of one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IdPos {
    /// Offset from the record start in a SAMPLE.
    sample: Option<usize>,
    /// Offset back from the record end in other kernel records.
    other_from_end: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct TimePos {
    sample: Option<usize>,
    other_from_end: Option<usize>,
}

fn id_pos(a: &EventAttr) -> IdPos {
    let st = a.attr().sample_type;
    let sample = if st & S_IDENTIFIER != 0 {
        Some(8)
    } else if st & S_ID != 0 {
        Some(8 + n(st, S_IP) + n(st, S_TID) + n(st, S_TIME) + n(st, S_ADDR))
    } else {
        None
    };
    let other_from_end = if a.attr().sample_id_all() == 0 {
        None
    } else if st & S_IDENTIFIER != 0 {
        Some(8)
    } else if st & S_ID != 0 {
        Some(8 + n(st, S_STREAM_ID) + n(st, S_CPU))
    } else {
        None
    };
    IdPos {
        sample,
        other_from_end,
    }
}

fn time_pos(a: &EventAttr) -> TimePos {
    let st = a.attr().sample_type;
    if st & S_TIME == 0 {
        return TimePos {
            sample: None,
            other_from_end: None,
        };
    }
    let sample = Some(8 + n(st, S_IDENTIFIER) + n(st, S_IP) + n(st, S_TID));
    let other_from_end = (a.attr().sample_id_all() != 0)
        .then(|| 8 + n(st, S_ID) + n(st, S_STREAM_ID) + n(st, S_CPU) + n(st, S_IDENTIFIER));
    TimePos {
        sample,
        other_from_end,
    }
}

/// Maps records to the attribute they belong to, and reads their time.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttrResolver {
    ids: HashMap<u64, usize>,
    /// `None` when there are several attributes whose ids sit in different
    /// places (perf refuses such files too).
    id_pos: Option<IdPos>,
    times: Vec<TimePos>,
    /// The byte order of the records.
    endianness: Endianness,
}

impl AttrResolver {
    pub(crate) fn new(attrs: &[EventAttr]) -> Self {
        let mut ids = HashMap::new();
        for (i, a) in attrs.iter().enumerate() {
            for &id in &a.ids {
                ids.insert(id, i);
            }
        }
        let first = attrs.first().map(id_pos);
        let id_pos = first.filter(|p| attrs.iter().all(|a| id_pos(a) == *p));
        AttrResolver {
            ids,
            id_pos,
            times: attrs.iter().map(time_pos).collect(),
            endianness: Endianness::NATIVE,
        }
    }

    /// The same, for records in byte order `e`.
    pub(crate) fn with_endianness(mut self, e: Endianness) -> Self {
        self.endianness = e;
        self
    }

    /// The byte order of the records.
    pub(crate) fn endianness(&self) -> Endianness {
        self.endianness
    }

    fn u64_at(&self, data: RawData<'_>, off: usize) -> Option<u64> {
        data.read_array::<8>(off).map(|b| self.endianness.u64(b))
    }

    /// The attribute index of a record, `None` for user records and where the
    /// id is absent or unknown. With one attribute every kernel record is its.
    pub(crate) fn attr_index(&self, type_: u32, data: RawData<'_>) -> Option<usize> {
        if type_ >= USER_TYPE_START || self.times.is_empty() {
            return None;
        }
        if self.times.len() == 1 {
            return Some(0);
        }
        let pos = self.id_pos?;
        let id = if type_ == RECORD_SAMPLE {
            self.u64_at(data, pos.sample?)?
        } else {
            self.u64_at(data, data.len().checked_sub(pos.other_from_end?)?)?
        };
        self.ids.get(&id).copied()
    }

    /// The record's timestamp when its attribute puts one in it.
    pub(crate) fn time(&self, type_: u32, data: RawData<'_>, attr_index: usize) -> Option<u64> {
        if type_ >= USER_TYPE_START {
            return None;
        }
        let pos = self.times.get(attr_index)?;
        if type_ == RECORD_SAMPLE {
            self.u64_at(data, pos.sample?)
        } else {
            // Records before sample_id_all are too short; reject tails that
            // would overlap the 8-byte header.
            let back = pos.other_from_end?;
            let off = data.len().checked_sub(back).filter(|&o| o >= 8)?;
            self.u64_at(data, off)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(sample_type: u64, id_all: bool, ids: &[u64]) -> EventAttr {
        let attr = perf_event_open_sys::bindings::perf_event_attr {
            sample_type,
            ..Default::default()
        };
        let mut attr = attr;
        attr.set_sample_id_all(id_all as u64);
        EventAttr::from_bytes(&lwprof_events::sys::attr_bytes(&attr), "e", ids.to_vec())
    }

    fn record(type_: u32, words: &[u64]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&type_.to_ne_bytes());
        v.extend_from_slice(&0u16.to_ne_bytes());
        v.extend_from_slice(&((8 + words.len() * 8) as u16).to_ne_bytes());
        for w in words {
            v.extend_from_slice(&w.to_ne_bytes());
        }
        v
    }

    #[test]
    fn ids_and_times_are_found_in_samples_and_other_records() {
        // IP|TID|TIME|ID|CPU|PERIOD
        let st = S_IP | S_TID | S_TIME | S_ID | S_CPU | (1 << 8);
        let r = AttrResolver::new(&[ev(st, true, &[10, 11]), ev(st, true, &[20])]);
        // sample: ip, tid, time, id, cpu, period
        let s = record(9, &[0x1000, 5, 777, 20, 1, 100]);
        assert_eq!(r.attr_index(9, RawData::Single(&s)), Some(1));
        assert_eq!(r.time(9, RawData::Single(&s), 1), Some(777));
        // a COMM-like record: payload, then sample_id: tid, time, id, cpu
        let c = record(3, &[1, 2, 5, 888, 11, 0]);
        assert_eq!(r.attr_index(3, RawData::Single(&c)), Some(0));
        assert_eq!(r.time(3, RawData::Single(&c), 0), Some(888));
        // split across the ring's end gives the same answer
        let (a, b) = s.split_at(13);
        assert_eq!(r.attr_index(9, RawData::new(a, b)), Some(1));
        // unknown id, user record
        let u = record(9, &[0, 0, 0, 99, 0, 0]);
        assert_eq!(r.attr_index(9, RawData::Single(&u)), None);
        assert_eq!(r.attr_index(68, RawData::Single(&record(68, &[]))), None);
    }

    #[test]
    fn identifier_is_first_in_samples_and_last_elsewhere() {
        let st = S_IDENTIFIER | S_IP | S_TIME;
        let r = AttrResolver::new(&[ev(st, true, &[1]), ev(st, true, &[2])]);
        let s = record(9, &[2, 0x1000, 555]);
        assert_eq!(r.attr_index(9, RawData::Single(&s)), Some(1));
        assert_eq!(r.time(9, RawData::Single(&s), 1), Some(555));
        let m = record(1, &[7, 7, 666, 1]);
        assert_eq!(r.attr_index(1, RawData::Single(&m)), Some(0));
        assert_eq!(r.time(1, RawData::Single(&m), 0), Some(666));
    }

    #[test]
    fn mismatched_id_positions_give_no_index() {
        let r = AttrResolver::new(&[ev(S_IDENTIFIER, true, &[1]), ev(S_ID | S_IP, true, &[2])]);
        assert_eq!(
            r.attr_index(9, RawData::Single(&record(9, &[1, 0, 2]))),
            None
        );
    }
}
