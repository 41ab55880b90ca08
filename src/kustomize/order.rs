//! Output order: kustomize's legacy sort (the default), or input order
//! (`sortOptions.order: fifo`). The comparator is documented in `builtins.rs`.

use std::cmp::Ordering;

use super::builtins::{ORDER_FIRST, ORDER_LAST};
use super::resource::{Gvk, Resource};
use super::types::SortOptions;

fn gvk_string(g: &Gvk) -> String {
    g.to_string()
}

struct Ranks<'a> {
    first: Vec<&'a str>,
    last: Vec<&'a str>,
}

impl<'a> Ranks<'a> {
    fn rank(&self, kind: &str) -> i64 {
        // kustomize fills one table from orderFirst, then orderLast: a kind
        // in both takes its orderLast rank.
        if let Some(i) = self.last.iter().rposition(|k| *k == kind) {
            return 1 + i as i64;
        }
        if let Some(i) = self.first.iter().rposition(|k| *k == kind) {
            return -(self.first.len() as i64) + i as i64;
        }
        0
    }

    fn cmp(&self, a: &Resource, b: &Resource) -> Ordering {
        let (ga, gb) = (a.gvk(), b.gvk());
        if ga != gb {
            let (ra, rb) = (self.rank(&ga.kind), self.rank(&gb.kind));
            if ra != rb {
                return ra.cmp(&rb);
            }
            let (sa, sb) = (gvk_string(&ga), gvk_string(&gb));
            if ga.kind == "Namespace"
                && gb.kind == "Namespace"
                && (ga.group.is_empty() || gb.group.is_empty())
            {
                return sb.cmp(&sa);
            }
            return sa.cmp(&sb);
        }
        let key = |r: &Resource| {
            let ns = if r.namespace().is_empty() {
                "~X"
            } else {
                r.namespace()
            };
            let name = if r.name().is_empty() { "~N" } else { r.name() };
            format!("{}|{}", ns, name)
        };
        key(a).cmp(&key(b))
    }
}

/// Sort in place as `kubectl kustomize` orders its output.
pub fn sort(items: &mut [Resource], opts: Option<&SortOptions>) {
    let (first, last): (Vec<&str>, Vec<&str>) = match opts {
        Some(o) if o.order == "fifo" => return,
        Some(o) => match &o.legacy_sort_options {
            Some(l) => (
                l.order_first.iter().map(String::as_str).collect(),
                l.order_last.iter().map(String::as_str).collect(),
            ),
            None => (ORDER_FIRST.to_vec(), ORDER_LAST.to_vec()),
        },
        None => (ORDER_FIRST.to_vec(), ORDER_LAST.to_vec()),
    };
    let ranks = Ranks { first, last };
    items.sort_by(|a, b| ranks.cmp(a, b));
}
