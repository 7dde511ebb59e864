//! events: count a group.
//!
//! Opens `{task-clock,page-faults,context-switches}` (or the events given as
//! the first argument, all in one group) on this thread, does some work (16
//! MiB of fresh pages written, ten 1 ms sleeps), and prints each count with
//! the group's enabled and running times. The members are scheduled together
//! and read with one read(2).
//!
//! ```text
//! cargo run -p lwprof-events --example count_group [-- '{cpu-clock,minor-faults}']
//! ```

use lwprof_events::counter::{CountOptions, Group};
use lwprof_events::parse_events_system;
use std::process::ExitCode;
use std::time::Duration;

/// Writes `bytes` of fresh memory (each page faults once) and sleeps ten
/// times (each sleep is a context switch).
fn work(bytes: usize) -> usize {
    let pages = vec![1u8; bytes];
    let sum = std::hint::black_box(&pages).iter().step_by(4096).count();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(1));
    }
    sum
}

fn main() -> ExitCode {
    let spec = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "{task-clock,page-faults,context-switches}".into());
    let events: Vec<_> = match parse_events_system(&spec) {
        Ok(groups) => groups.iter().flat_map(|g| g.configs()).collect(),
        Err(e) => {
            eprintln!("count_group: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = CountOptions {
        inherit: false,
        ..CountOptions::default()
    };
    let counted = Group::open(&events, 0, -1, &opts).and_then(|group| {
        group.enable()?;
        let pages = work(16 << 20);
        group.disable()?;
        Ok((group.read()?, pages))
    });
    let (counts, pages) = match counted {
        Ok(c) => c,
        Err(e) => {
            eprintln!("count_group: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("group {spec} on this thread, around {pages} pages written and 10 sleeps:");
    for (event, value) in events.iter().zip(&counts.values) {
        if event.name.ends_with("-clock") {
            println!("{:>16.3} msec  {}", *value as f64 / 1e6, event.name);
        } else {
            println!("{value:>16}       {}", event.name);
        }
    }
    println!(
        "enabled {:.3} ms, running {:.3} ms",
        counts.time_enabled as f64 / 1e6,
        counts.time_running as f64 / 1e6
    );
    ExitCode::SUCCESS
}
