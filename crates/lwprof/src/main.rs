//! The lwprof command line: the CLI definition plus glue.
fn main() {}
