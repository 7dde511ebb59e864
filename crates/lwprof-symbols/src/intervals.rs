//! Address ranges where a later range overrides the earlier ones it
//! overlaps: the table behind perf maps (a later line wins) and jitdumps
//! (code reloaded or moved over older code wins).
//!
//! [`LatestWins`] is built once from ranges given in priority order (each
//! in O(log n) amortized: it cuts the older ranges it overlaps, so every
//! address belongs to at most one range), then answers lookups by binary
//! search. It stores an index per range, not the caller's data. Ranges are
//! inclusive (`first..=last`), so a range may end at `u64::MAX`.

use std::collections::BTreeMap;

/// Disjoint address ranges, each naming the entry that owns it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatestWins {
    /// `(first, last, entry)`, sorted by `first`, not overlapping.
    ranges: Vec<(u64, u64, usize)>,
}

impl LatestWins {
    /// Build from `(first, last, entry)` ranges in priority order: where
    /// two overlap, the later one owns the overlap. Ranges with
    /// `last < first` are ignored.
    pub fn build(ranges: impl IntoIterator<Item = (u64, u64, usize)>) -> Self {
        // first -> (last, entry); disjoint at all times.
        let mut map: BTreeMap<u64, (u64, usize)> = BTreeMap::new();
        for (first, last, entry) in ranges {
            if last < first {
                continue;
            }
            // A range that starts before `first` and reaches into it keeps
            // its head, and its tail past `last` if it has one.
            let before = map
                .range(..first)
                .next_back()
                .map(|(&s, &(l, e))| (s, l, e));
            if let Some((s, l, e)) = before.filter(|&(_, l, _)| l >= first) {
                map.insert(s, (first - 1, e));
                if l > last {
                    map.insert(last + 1, (l, e));
                }
            }
            // Ranges that start inside the new one lose that part.
            let inside: Vec<(u64, u64, usize)> = map
                .range(first..=last)
                .map(|(&s, &(l, e))| (s, l, e))
                .collect();
            for (s, l, e) in inside {
                map.remove(&s);
                if l > last {
                    map.insert(last + 1, (l, e));
                }
            }
            map.insert(first, (last, entry));
        }
        Self {
            ranges: map.into_iter().map(|(s, (l, e))| (s, l, e)).collect(),
        }
    }

    /// The entry whose range holds `address`.
    pub fn get(&self, address: u64) -> Option<usize> {
        let i = self
            .ranges
            .partition_point(|&(first, _, _)| first <= address);
        let &(_, last, entry) = self.ranges.get(i.checked_sub(1)?)?;
        (address <= last).then_some(entry)
    }

    /// The disjoint ranges, sorted by address.
    #[cfg(test)]
    fn ranges(&self) -> &[(u64, u64, usize)] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_ranges_cut_earlier_ones() {
        // 0: [10, 100], 1: [20, 30] inside it, 2: [90, 120] over its end,
        // 3: [0, 5] alone, 4: [25, 25] inside 1.
        let t = LatestWins::build([
            (10, 100, 0),
            (20, 30, 1),
            (90, 120, 2),
            (0, 5, 3),
            (25, 25, 4),
        ]);
        let at = |a| t.get(a);
        assert_eq!(at(0), Some(3));
        assert_eq!(at(6), None);
        assert_eq!(at(10), Some(0));
        assert_eq!(at(19), Some(0));
        assert_eq!(at(20), Some(1));
        assert_eq!(at(25), Some(4));
        assert_eq!(at(26), Some(1));
        assert_eq!(at(31), Some(0));
        assert_eq!(at(89), Some(0));
        assert_eq!(at(90), Some(2));
        assert_eq!(at(120), Some(2));
        assert_eq!(at(121), None);
        let r = t.ranges();
        assert!(r.windows(2).all(|w| w[0].1 < w[1].0), "disjoint: {r:?}");
    }

    #[test]
    fn a_later_big_range_hides_many_small_ones() {
        let mut ranges: Vec<(u64, u64, usize)> = (0..1000u64)
            .map(|i| (i * 16, i * 16 + 15, i as usize))
            .collect();
        ranges.push((0, 16_000, 1000));
        ranges.push((u64::MAX - 1, u64::MAX, 1001));
        let t = LatestWins::build(ranges);
        assert_eq!(t.ranges().len(), 2);
        assert_eq!(t.get(8000), Some(1000));
        assert_eq!(t.get(u64::MAX), Some(1001));
        assert_eq!(t.get(u64::MAX - 2), None);
        assert_eq!(LatestWins::build([(5, 4, 0)]).get(5), None);
    }
}
