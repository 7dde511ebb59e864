//! Digit grouping as the user's locale writes it (`LC_ALL`, `LC_NUMERIC`,
//! `LANG`), for `perf stat`'s "big numbers": perf prints counts with printf's
//! `%'` flag, which groups digits with the locale's thousands separator, so
//! `20071` in the C locale and `20,071` in `en_US.UTF-8`.
//!
//! [`NumericGrouping::from_environment`] asks the C library once, through a
//! private locale object, so the process's own locale is never changed.
//! [`NumericGrouping::group`] is pure. This module does not format floats or
//! know about any output layout.

use std::ffi::CStr;

/// A locale's thousands separator and group sizes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NumericGrouping {
    /// The separator, e.g. `,`; empty in the C locale.
    pub separator: String,
    /// Group sizes from the right, as in `localeconv()`'s `grouping`: the
    /// last one repeats; a 0 or 127 ends grouping.
    pub sizes: Vec<u8>,
}

/// glibc's `GROUPING` item of `nl_langinfo`: `_NL_ITEM(LC_NUMERIC, 2)`, the
/// item after `THOUSEP` (the libc crate does not export it).
const GROUPING: libc::nl_item = libc::THOUSEP + 1;

impl NumericGrouping {
    /// No grouping (the C and POSIX locales).
    pub fn none() -> Self {
        NumericGrouping::default()
    }

    /// Groups of three with `separator` (`en_US`-like).
    pub fn thousands(separator: &str) -> Self {
        NumericGrouping {
            separator: separator.to_string(),
            sizes: vec![3],
        }
    }

    /// The grouping of the locale the environment names for numbers, or none
    /// when that locale is C, POSIX or not installed.
    pub fn from_environment() -> Self {
        // The empty name means "the one the environment names".
        Self::of_locale(c"")
    }

    /// The grouping of the named locale (`c"en_US.UTF-8"`), or none when it
    /// is not installed.
    pub fn of_locale(name: &CStr) -> Self {
        // SAFETY: newlocale reads the NUL-terminated name and returns a new
        // locale object or null; a zero base means "start from the C locale".
        let loc = unsafe {
            libc::newlocale(
                libc::LC_NUMERIC_MASK,
                name.as_ptr(),
                std::ptr::null_mut::<libc::c_void>() as libc::locale_t,
            )
        };
        if loc.is_null() {
            return NumericGrouping::none();
        }
        let item = |item: libc::nl_item| -> Vec<u8> {
            // SAFETY: `loc` is a live locale object; nl_langinfo_l returns a
            // NUL-terminated string owned by it (never null in glibc), which
            // is copied before the locale is freed below.
            unsafe {
                let p = libc::nl_langinfo_l(item, loc);
                if p.is_null() {
                    Vec::new()
                } else {
                    CStr::from_ptr(p).to_bytes().to_vec()
                }
            }
        };
        let separator = String::from_utf8_lossy(&item(libc::THOUSEP)).into_owned();
        let sizes = item(GROUPING);
        // SAFETY: `loc` came from newlocale above and is not used afterwards.
        unsafe { libc::freelocale(loc) };
        NumericGrouping { separator, sizes }
    }

    /// Whether this grouping changes anything.
    pub fn is_none(&self) -> bool {
        self.separator.is_empty() || self.sizes.first().is_none_or(|&g| g == 0 || g == 127)
    }

    /// Groups the digits of a number written with ASCII digits, an optional
    /// leading `-` and an optional fraction after `.`; only the integer part
    /// is grouped (`1234567.25` -> `1,234,567.25`).
    pub fn group(&self, number: &str) -> String {
        if self.is_none() {
            return number.to_string();
        }
        let (sign, rest) = match number.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", number),
        };
        let (int, frac) = match rest.find('.') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if !int.bytes().all(|b| b.is_ascii_digit()) {
            return number.to_string();
        }
        // Cut points from the right.
        let mut cuts = Vec::new();
        let mut pos = int.len();
        let mut sizes = self.sizes.iter().copied();
        let mut size = sizes.next().unwrap_or(0);
        while size != 0 && size != 127 && pos > size as usize {
            pos -= size as usize;
            cuts.push(pos);
            if let Some(next) = sizes.next() {
                size = next;
            }
        }
        let mut out = String::with_capacity(number.len() + cuts.len() * self.separator.len());
        out.push_str(sign);
        let mut start = 0;
        for &cut in cuts.iter().rev() {
            out.push_str(&int[start..cut]);
            out.push_str(&self.separator);
            start = cut;
        }
        out.push_str(&int[start..]);
        out.push_str(frac);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_group_the_integer_part_only() {
        let g = NumericGrouping::thousands(",");
        assert_eq!(g.group("0"), "0");
        assert_eq!(g.group("999"), "999");
        assert_eq!(g.group("1000"), "1,000");
        assert_eq!(g.group("20049"), "20,049");
        assert_eq!(g.group("1234567"), "1,234,567");
        assert_eq!(g.group("1234.56"), "1,234.56");
        assert_eq!(g.group("-1234"), "-1,234");
        assert_eq!(g.group("<not counted>"), "<not counted>");
    }

    #[test]
    fn the_c_locale_does_not_group() {
        assert!(NumericGrouping::none().is_none());
        assert_eq!(NumericGrouping::none().group("1234567"), "1234567");
    }

    #[test]
    fn later_group_sizes_repeat_as_in_localeconv() {
        // en_IN: 3 then 2s.
        let g = NumericGrouping {
            separator: ",".into(),
            sizes: vec![3, 2],
        };
        assert_eq!(g.group("123456789"), "12,34,56,789");
        // A 127 (CHAR_MAX) stops grouping.
        let g = NumericGrouping {
            separator: ".".into(),
            sizes: vec![3, 127],
        };
        assert_eq!(g.group("123456789"), "123456.789");
    }

    #[test]
    fn the_c_library_says_c_and_posix_do_not_group() {
        assert!(NumericGrouping::of_locale(c"C").is_none());
        assert!(NumericGrouping::of_locale(c"POSIX").is_none());
        assert!(NumericGrouping::of_locale(c"no_SUCH.locale").is_none());
    }
}
