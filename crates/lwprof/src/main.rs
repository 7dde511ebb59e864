#![doc = include_str!("../README.md")]
//!
//! The lwprof command line: the CLI definition plus glue.
//!
//! Each subcommand lives in its own file (`list.rs`, `stat.rs`, ...), and
//! turns its clap arguments into a plain config struct once; the libraries
//! never see clap. Errors print as one line, `lwprof: error: ...`, and exit
//! non-zero; a broken pipe exits quietly.

mod args;
mod list;
mod record;
mod report;
mod script;
mod stat;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// lwprof: count and profile Linux programs with perf_event_open(2).
#[derive(Parser, Debug)]
#[command(name = "lwprof", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the events usable on this machine.
    List(list::ListArgs),
    /// Count events while a command runs (or on a process, thread or CPUs).
    Stat(stat::StatArgs),
    /// Sample a command, a process or every CPU into a perf.data file.
    Record(record::RecordArgs),
    /// Show where the time went in a perf.data file (lwprof's or perf's).
    Report(report::ReportArgs),
    /// Print every sample of a perf.data file as `perf script` does.
    Script(script::ScriptArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let result = match cli.command {
        Command::List(args) => list::run(args.into_config()),
        Command::Stat(args) => args.into_config().and_then(stat::run),
        Command::Record(args) => args.into_plan().and_then(record::run),
        Command::Report(args) => args.into_config().and_then(report::run),
        Command::Script(args) => args.into_config().and_then(script::run),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("lwprof: error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

/// clap's help and version go to stdout with exit 0; a usage error is one
/// line on stderr, naming what was wrong and where help is, with exit 2.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(e.exit_code() as u8);
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("bad arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let sub = std::env::args()
        .nth(1)
        .filter(|a| ["list", "stat", "record", "report", "script"].contains(&a.as_str()));
    let help = match sub {
        Some(s) => format!("lwprof {s} --help"),
        None => "lwprof --help".to_string(),
    };
    eprintln!("lwprof: error: {first}; see `{help}`");
    ExitCode::from(2)
}

/// The error and its causes on one line, without repeating a cause that the
/// message already contains.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out.replace('\n', " ")
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
