//! Symbolizes an address in a binary: its function, inline frames and
//! source lines, innermost first.
//!
//! ```text
//! cargo run -p lwprof-symbols --example symbolize -- /usr/bin/ls 0x4b20
//! ```
//!
//! The address is as linked (what `nm` prints); `@OFFSET` instead gives a
//! file offset, as a perf.data mapping records it.

use lwprof_symbols::{DemangleOptions, DsoSymbols};
use std::process::ExitCode;

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [binary, address] = &args[..] else {
        eprintln!("usage: symbolize BINARY ADDRESS|@FILE_OFFSET");
        return ExitCode::from(2);
    };
    let (by_offset, number) = match address.strip_prefix('@') {
        Some(rest) => (true, rest),
        None => (false, address.as_str()),
    };
    let Some(value) = parse_u64(number) else {
        eprintln!("{address}: not a number (write 0x4b20, 19232 or @0x4b20)");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(binary) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{binary}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut dso = match DsoSymbols::parse(&bytes) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{binary}: not a usable ELF file ({e})");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = dso.load_dwarf(&bytes) {
        eprintln!("{binary}: no DWARF ({e}); symbols only");
    }
    let opts = DemangleOptions::default();
    let frames = if by_offset {
        dso.resolve_file_offset(value, opts)
    } else {
        dso.resolve_address(value, opts)
    };
    if frames.is_empty() {
        println!("{address}: no symbol");
    }
    for f in &frames {
        let at = match (&f.file, f.line) {
            (Some(file), Some(line)) => format!(" at {file}:{line}"),
            (Some(file), None) => format!(" at {file}"),
            _ => String::new(),
        };
        let off = f
            .symbol_offset
            .map_or(String::new(), |o| format!("+{o:#x}"));
        let inl = if f.inlined { " (inlined)" } else { "" };
        println!("{}{off}{at}{inl}", f.function);
    }
    ExitCode::SUCCESS
}
