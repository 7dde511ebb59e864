//! Record bytes that may straddle the end of a ring buffer.
//!
//! A record read in place from a ring can wrap past the end of the mapping:
//! its bytes are then two slices. [`RawData`] makes that a type rather than a
//! copy, so parsers read across the seam and callers copy only when they ask
//! for contiguous bytes.

/// Bytes of one record (or part of one): one slice, or two when it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawData<'a> {
    /// Contiguous bytes.
    Single(&'a [u8]),
    /// Bytes that wrap: the first part runs to the end of the ring, the
    /// second starts at its beginning.
    Split(&'a [u8], &'a [u8]),
}

impl<'a> RawData<'a> {
    /// Normalises an empty first half away.
    pub fn new(first: &'a [u8], second: &'a [u8]) -> Self {
        if second.is_empty() {
            RawData::Single(first)
        } else if first.is_empty() {
            RawData::Single(second)
        } else {
            RawData::Split(first, second)
        }
    }

    /// Total length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            RawData::Single(a) => a.len(),
            RawData::Split(a, b) => a.len() + b.len(),
        }
    }

    /// True when there are no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes from `start` to `start + len`, or `None` when out of range.
    #[inline]
    pub fn slice(&self, start: usize, len: usize) -> Option<RawData<'a>> {
        let end = start.checked_add(len)?;
        match *self {
            RawData::Single(a) => a.get(start..end).map(RawData::Single),
            RawData::Split(a, b) => {
                if end <= a.len() {
                    Some(RawData::Single(&a[start..end]))
                } else if start >= a.len() {
                    b.get(start - a.len()..end - a.len()).map(RawData::Single)
                } else {
                    let second = b.get(..end - a.len())?;
                    Some(RawData::Split(&a[start..], second))
                }
            }
        }
    }

    /// Copies `N` bytes at `offset` into an array, or `None` when out of range.
    #[inline]
    pub fn read_array<const N: usize>(&self, offset: usize) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        match *self {
            RawData::Single(a) => out.copy_from_slice(a.get(offset..offset.checked_add(N)?)?),
            RawData::Split(..) => self.slice(offset, N)?.copy_to(&mut out),
        }
        Some(out)
    }

    /// The native-endian u64 at `offset`.
    #[inline]
    pub fn read_u64(&self, offset: usize) -> Option<u64> {
        self.read_array::<8>(offset).map(u64::from_ne_bytes)
    }

    /// The native-endian u32 at `offset`.
    #[inline]
    pub fn read_u32(&self, offset: usize) -> Option<u32> {
        self.read_array::<4>(offset).map(u32::from_ne_bytes)
    }

    /// Copies every byte into `out`, which must be exactly `len()` long.
    pub fn copy_to(&self, out: &mut [u8]) {
        match *self {
            RawData::Single(a) => out.copy_from_slice(a),
            RawData::Split(a, b) => {
                out[..a.len()].copy_from_slice(a);
                out[a.len()..].copy_from_slice(b);
            }
        }
    }

    /// Contiguous bytes: borrowed when they already are, copied otherwise.
    pub fn as_contiguous(&self) -> std::borrow::Cow<'a, [u8]> {
        match *self {
            RawData::Single(a) => std::borrow::Cow::Borrowed(a),
            RawData::Split(a, b) => {
                let mut v = Vec::with_capacity(a.len() + b.len());
                v.extend_from_slice(a);
                v.extend_from_slice(b);
                std::borrow::Cow::Owned(v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_reads_cross_the_seam() {
        let bytes: Vec<u8> = (0u8..16).collect();
        let (a, b) = bytes.split_at(5);
        let raw = RawData::new(a, b);
        assert_eq!(raw.len(), 16);
        let whole = RawData::Single(&bytes);
        for off in 0..=8 {
            assert_eq!(raw.read_u64(off), whole.read_u64(off), "offset {off}");
        }
        assert_eq!(raw.read_u64(9), None);
        assert_eq!(
            raw.slice(3, 4).unwrap().as_contiguous().as_ref(),
            &bytes[3..7]
        );
        assert_eq!(raw.slice(6, 4).unwrap(), RawData::Single(&bytes[6..10]));
        assert_eq!(raw.as_contiguous().as_ref(), &bytes[..]);
    }
}
