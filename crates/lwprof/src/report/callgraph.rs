//! perf's `-g` grammar for `lwprof report`:
//! `print_type,threshold[,print_limit],order,sort_key[,branch],value`, in
//! any order, as perf parses it: words are print types (graph, fractal,
//! flat, folded, none), orders (caller, callee), sort keys (function,
//! address, srcline), values (percent, period, count) or `branch`; the first
//! number is the threshold, the second the print limit. Anything else is an
//! error that names it.

use anyhow::{bail, Result};
use lwprof_output::{GraphKey, GraphMode, GraphValue};
use lwprof_profile::model::CallGraphOrder;

/// How `-g` asks for call graphs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallGraphSpec {
    /// Draw graphs at all (`none` turns them off).
    pub show: bool,
    /// How.
    pub mode: GraphMode,
    /// Drop branches under this percentage.
    pub threshold: f64,
    /// Most branches (or chains) printed under a node.
    pub print_limit: Option<usize>,
    /// Caller or callee; `None` is perf's default for the Children setting.
    pub order: Option<CallGraphOrder>,
    /// What tells nodes apart.
    pub key: GraphKey,
    /// What the numbers show.
    pub value: GraphValue,
    /// `branch` was asked for (needs branch stacks in the file).
    pub branch: bool,
}

impl Default for CallGraphSpec {
    fn default() -> Self {
        Self {
            show: true,
            mode: GraphMode::Graph,
            threshold: 0.5,
            print_limit: None,
            order: None,
            key: GraphKey::Function,
            value: GraphValue::Percent,
            branch: false,
        }
    }
}

/// Parses a `-g` argument.
pub fn parse(spec: &str) -> Result<CallGraphSpec> {
    let mut out = CallGraphSpec::default();
    let mut numbers = 0;
    for token in spec.split(',') {
        let word = token.trim();
        match word {
            "graph" => out.mode = GraphMode::Graph,
            "fractal" => out.mode = GraphMode::Fractal,
            "flat" => out.mode = GraphMode::Flat,
            "folded" => out.mode = GraphMode::Folded,
            "none" => out.show = false,
            "caller" => out.order = Some(CallGraphOrder::Caller),
            "callee" => out.order = Some(CallGraphOrder::Callee),
            "function" => out.key = GraphKey::Function,
            "address" => out.key = GraphKey::Address,
            "srcline" => out.key = GraphKey::Srcline,
            "percent" => out.value = GraphValue::Percent,
            "period" => out.value = GraphValue::Period,
            "count" => out.value = GraphValue::Count,
            "branch" => out.branch = true,
            "" => bail!("-g {spec}: an empty field; give e.g. -g graph,0.5,caller"),
            number if number.starts_with(|c: char| c.is_ascii_digit() || c == '.') => {
                numbers += 1;
                match numbers {
                    1 => {
                        out.threshold = number
                            .parse::<f64>()
                            .ok()
                            .filter(|t| (0.0..=100.0).contains(t))
                            .ok_or_else(|| {
                                anyhow::anyhow!(
                                    "-g {spec}: the threshold '{number}' must be a percentage from 0 to 100"
                                )
                            })?
                    }
                    2 => {
                        let n = number.parse::<u32>().map_err(|_| {
                            anyhow::anyhow!(
                                "-g {spec}: the print limit '{number}' must be a whole number"
                            )
                        })?;
                        out.print_limit = (n > 0).then_some(n as usize);
                    }
                    _ => bail!("-g {spec}: '{number}': at most two numbers (threshold, print limit)"),
                }
            }
            other => bail!(
                "-g {spec}: unknown '{other}'; use graph, fractal, flat, folded or none, caller or \
                 callee, function, address or srcline, percent, period or count, a threshold and \
                 a print limit (e.g. -g graph,0.5,caller)"
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_graph_order_and_bad_values_follow_perfs_grammar() {
        let g = parse("graph,0.5,callee").expect("valid");
        assert_eq!(g.order, Some(CallGraphOrder::Callee));
        assert_eq!(g.threshold, 0.5);
        let g = parse("fractal,2,10,caller,address,count").expect("valid");
        assert_eq!(
            (g.mode, g.threshold, g.print_limit, g.key, g.value),
            (
                GraphMode::Fractal,
                2.0,
                Some(10),
                GraphKey::Address,
                GraphValue::Count
            )
        );
        assert!(!parse("none").expect("valid").show);
        assert!(parse("graph,0.5,bogus").is_err());
        assert!(parse("graph,101").is_err());
        assert!(parse("graph,1,2,3").is_err());
        assert!(parse("graph,,caller").is_err());
    }
}
