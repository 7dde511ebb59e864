//! Symbol demangling: Rust (legacy `_ZN...17h<hash>E` and v0 `_R...`) with
//! `rustc-demangle`, C++ (Itanium `_Z...`) with `cpp_demangle`.
//!
//! Rust is tried first: a legacy Rust name is also a valid C++ name, but the
//! C++ demangler would keep the hash as a path component. Names that are
//! neither (C functions) come back unchanged. A PLT stub's name
//! (`_ZdlPv@plt`) is demangled with its suffix kept (`operator delete(void*)@plt`).

use std::borrow::Cow;

/// How to demangle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DemangleOptions {
    /// Keep the Rust hash suffix (`::h0123456789abcdef`) and v0 crate
    /// disambiguators (`core[6cdcc5c448ae7c26]`).
    pub keep_rust_hash: bool,
    /// Return names unchanged.
    pub disabled: bool,
}

/// Demangle a symbol name; unknown schemes come back unchanged.
pub fn demangle(name: &str, opts: DemangleOptions) -> Cow<'_, str> {
    if opts.disabled {
        return Cow::Borrowed(name);
    }
    // A synthesized PLT symbol: the stem is demangled, as perf does.
    if let Some(stem) = name.strip_suffix("@plt") {
        return match demangle(stem, opts) {
            Cow::Owned(d) => Cow::Owned(format!("{d}@plt")),
            Cow::Borrowed(_) => Cow::Borrowed(name),
        };
    }
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return Cow::Owned(if opts.keep_rust_hash {
            format!("{d}")
        } else {
            format!("{d:#}")
        });
    }
    if name.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(name) {
            if let Ok(d) = sym.demangle() {
                return Cow::Owned(d);
            }
        }
    }
    Cow::Borrowed(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: DemangleOptions = DemangleOptions {
        keep_rust_hash: false,
        disabled: false,
    };

    #[test]
    fn rust_legacy_drops_the_hash_by_default() {
        let legacy = "_ZN4core3fmt5write17h0123456789abcdefE";
        assert_eq!(demangle(legacy, OPTS), "core::fmt::write");
        let keep = DemangleOptions {
            keep_rust_hash: true,
            ..OPTS
        };
        assert_eq!(
            demangle(legacy, keep),
            "core::fmt::write::h0123456789abcdef"
        );
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE.llvm.42", OPTS),
            "core::fmt::write"
        );
    }

    #[test]
    fn rust_v0_drops_disambiguators_by_default() {
        let v0 = "_RNvNtCs9ltgdHTiPiY_4core3ptr13drop_in_place";
        assert_eq!(demangle(v0, OPTS), "core::ptr::drop_in_place");
        let keep = DemangleOptions {
            keep_rust_hash: true,
            ..OPTS
        };
        assert!(demangle(v0, keep).starts_with("core["));
    }

    #[test]
    fn cpp_and_plain_c() {
        assert_eq!(demangle("_Z3addii", OPTS), "add(int, int)");
        assert_eq!(demangle("_ZN3foo3barEv", OPTS), "foo::bar()");
        assert_eq!(demangle("main", OPTS), "main");
        assert_eq!(demangle("_Znot_valid!", OPTS), "_Znot_valid!");
        let off = DemangleOptions {
            disabled: true,
            ..OPTS
        };
        assert_eq!(demangle("_Z3addii", off), "_Z3addii");
    }

    #[test]
    fn plt_stub_names_keep_their_suffix() {
        assert_eq!(demangle("_ZdlPv@plt", OPTS), "operator delete(void*)@plt");
        assert_eq!(demangle("memcpy@plt", OPTS), "memcpy@plt");
        assert_eq!(
            demangle("_ZN4core3fmt5write17h0123456789abcdefE@plt", OPTS),
            "core::fmt::write@plt"
        );
    }
}
