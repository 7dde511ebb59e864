//! The clocks of a recording: the CLOCK_DATA feature (`perf record -k`:
//! which clock the timestamps use, and one instant read on both that clock
//! and the wall clock) and the TIME_CONV record (how TSC values convert to
//! perf time). Decoding only; converting timestamps for display is the
//! report's job.

use super::feature;
use super::features::Features;
use lwprof_records::abi::record_type::TIME_CONV;

/// CLOCK_DATA: the event clock and a reference instant on it and on the
/// wall clock, from which sample times convert to wall-clock times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockData {
    /// Format version (perf writes 1).
    pub version: u32,
    /// The `clockid_t` of the event clock (`attr.clockid`).
    pub clockid: u32,
    /// The reference instant as wall-clock (CLOCK_REALTIME) nanoseconds.
    pub tod_ns: u64,
    /// The same instant on the event clock, in nanoseconds.
    pub clockid_ns: u64,
}

impl ClockData {
    /// Decodes a CLOCK_DATA section (24 bytes, native order); `None` when it
    /// is too short.
    pub fn parse(b: &[u8]) -> Option<ClockData> {
        Some(ClockData {
            version: u32::from_ne_bytes(b.get(0..4)?.try_into().ok()?),
            clockid: u32::from_ne_bytes(b.get(4..8)?.try_into().ok()?),
            tod_ns: u64::from_ne_bytes(b.get(8..16)?.try_into().ok()?),
            clockid_ns: u64::from_ne_bytes(b.get(16..24)?.try_into().ok()?),
        })
    }

    /// perf's name of the clock (`perf report --header-only`), e.g.
    /// "monotonic"; `None` for ids it has no name for.
    pub fn clock_name(&self) -> Option<&'static str> {
        Some(match self.clockid {
            0 => "realtime",
            1 => "monotonic",
            4 => "monotonic_raw",
            7 => "boottime",
            11 => "tai",
            _ => return None,
        })
    }

    /// The wall-clock time in ns of an event-clock time `t` in ns.
    pub fn to_wall_ns(&self, t: u64) -> u64 {
        let offset = i128::from(self.tod_ns) - i128::from(self.clockid_ns);
        (i128::from(t) + offset).clamp(0, i128::from(u64::MAX)) as u64
    }
}

impl Features {
    /// The CLOCK_DATA feature, kept as its bytes in [`Features::other`];
    /// `None` when the file has none, `Some(None)` when it is malformed.
    pub fn clock_data(&self) -> Option<Option<ClockData>> {
        self.other
            .get(&feature::CLOCK_DATA)
            .map(|b| ClockData::parse(b))
    }
}

/// PERF_RECORD_TIME_CONV: the parameters that convert TSC values to perf
/// time (`perf_event_mmap_page`'s time_shift, time_mult, time_zero ...).
/// Records from before Linux 5.11 stop after `time_zero`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeConv {
    /// `time_shift`.
    pub time_shift: u64,
    /// `time_mult`.
    pub time_mult: u64,
    /// `time_zero`.
    pub time_zero: u64,
    /// `time_cycles` (0 in the short form).
    pub time_cycles: u64,
    /// `time_mask` (0 in the short form).
    pub time_mask: u64,
    /// `cap_user_time_zero`.
    pub cap_user_time_zero: bool,
    /// `cap_user_time_short`.
    pub cap_user_time_short: bool,
}

impl TimeConv {
    /// Decodes a whole TIME_CONV record (header included, native order);
    /// `None` for another record type or one too short for its fields.
    pub fn parse(record: &[u8]) -> Option<TimeConv> {
        let u64_at = |off: usize| {
            record
                .get(off..off + 8)
                .map(|b| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])))
        };
        let type_ = u32::from_ne_bytes(record.get(0..4)?.try_into().ok()?);
        if type_ != TIME_CONV {
            return None;
        }
        // header, five u64, two flag bytes and padding: 56 bytes.
        let long = record.len() >= 56;
        Some(TimeConv {
            time_shift: u64_at(8)?,
            time_mult: u64_at(16)?,
            time_zero: u64_at(24)?,
            time_cycles: if long { u64_at(32)? } else { 0 },
            time_mask: if long { u64_at(40)? } else { 0 },
            cap_user_time_zero: long && record[48] != 0,
            cap_user_time_short: long && record[49] != 0,
        })
    }

    /// perf time in ns of a TSC value, as the kernel's
    /// `perf_event_mmap_page` documentation gives it.
    pub fn tsc_to_perf_time(&self, cyc: u64) -> u64 {
        let shift = self.time_shift.min(63);
        let cyc = if self.cap_user_time_short {
            self.time_cycles
                .wrapping_add(cyc.wrapping_sub(self.time_cycles) & self.time_mask)
        } else {
            cyc
        };
        let quot = cyc >> shift;
        let rem = cyc & ((1u64 << shift) - 1);
        self.time_zero
            .wrapping_add(quot.wrapping_mul(self.time_mult))
            .wrapping_add(rem.wrapping_mul(self.time_mult) >> shift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time_conv(words: &[u64], caps: [u8; 2]) -> Vec<u8> {
        let long = words.len() == 5;
        let size = 8 + words.len() * 8 + if long { 8 } else { 0 };
        let mut r = Vec::new();
        r.extend_from_slice(&TIME_CONV.to_ne_bytes());
        r.extend_from_slice(&0u16.to_ne_bytes());
        r.extend_from_slice(&(size as u16).to_ne_bytes());
        for w in words {
            r.extend_from_slice(&w.to_ne_bytes());
        }
        if long {
            r.extend_from_slice(&[caps[0], caps[1], 0, 0, 0, 0, 0, 0]);
        }
        r
    }

    #[test]
    fn time_conv_long_and_short_forms_decode() {
        let long = TimeConv::parse(&time_conv(&[10, 3, 1000, 77, 0xffff], [1, 1])).unwrap();
        assert_eq!(
            (long.time_shift, long.time_mult, long.time_zero),
            (10, 3, 1000)
        );
        assert_eq!((long.time_cycles, long.time_mask), (77, 0xffff));
        assert!(long.cap_user_time_zero && long.cap_user_time_short);
        let short = TimeConv::parse(&time_conv(&[10, 3, 1000], [0, 0])).unwrap();
        assert_eq!((short.time_cycles, short.cap_user_time_short), (0, false));
        // 2048 cycles at mult 3 >> shift 10: 6 ns after time_zero.
        assert_eq!(short.tsc_to_perf_time(2048), 1006);
        assert!(TimeConv::parse(&time_conv(&[1], [0, 0])).is_none());
        let mut other = time_conv(&[10, 3, 1000], [0, 0]);
        other[0] = 9;
        assert!(TimeConv::parse(&other).is_none());
    }
}
