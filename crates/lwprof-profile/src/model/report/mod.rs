//! The aggregate API that `lwprof report` reads: top entries by self and
//! total (children) weight, grouped by any of perf's sort keys; sample
//! filters with perf's scope/selection split; a caller/callee call-graph
//! tree with a percentage threshold.
//!
//! Results are plain data with names already resolved to strings, so a
//! printer needs nothing else. Printing is not done here.

mod callgraph;
mod filter;
mod top;

pub use callgraph::{CallGraphOptions, CallGraphOrder, CallNode, CallTree};
pub(crate) use filter::CompiledFilter;
pub use filter::SampleFilter;
pub use regex::Regex;
pub use top::percent;
pub use top::{
    default_parent, unresolved_name, Percentage, SortKey, TopOptions, TopOrder, TopReport, TopRow,
    DEFAULT_PARENT_PATTERN,
};
