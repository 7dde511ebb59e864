//! Prints a perf.data file's header, its events and how many records of
//! each type it holds:
//!
//! ```text
//! cargo run -p lwprof-perfdata --example perfdata_info -- perf.data
//! ```

use lwprof_perfdata::{feature_name, PerfDataFile};
use lwprof_records::abi::record_type;
use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: perfdata_info FILE");
        return ExitCode::from(2);
    };
    let file = match PerfDataFile::open(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let h = file.header();
    println!(
        "data: {} bytes at {:#x}; features: {}",
        h.data.1,
        h.data.0,
        h.feature_bits()
            .map(feature_name)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let f = file.features();
    if let (Some(host), Some(release)) = (&f.hostname, &f.os_release) {
        println!("host: {host}, Linux {release}");
    }
    for (i, e) in file.attrs().iter().enumerate() {
        let a = e.attr();
        println!(
            "event {i}: {} (type {}, config {:#x}, sample_type {:#x}, {} ids)",
            e.name,
            a.type_,
            a.config,
            a.sample_type,
            e.ids.len()
        );
    }
    let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
    let walk = file.for_each_record(|r| *counts.entry(r.type_).or_default() += 1);
    for (t, n) in &counts {
        let name = record_type::name(*t).unwrap_or("unknown");
        println!("{n:>10}  {name} ({t})");
    }
    println!("{:>10}  records in all", walk.records);
    match walk.error {
        Some(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}
