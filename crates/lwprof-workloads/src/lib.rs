//! Workloads with known behaviour for lwprof's tests, examples and benchmarks.
//! Each binary in `src/bin` does one thing whose cost is known in advance.
