//! Output order: kustomize's legacy sort (the default), or input order
//! (`sortOptions.order: fifo`). The comparator is documented in `builtins.rs`.

use std::cmp::Ordering;

use super::builtins::{ORDER_FIRST, ORDER_LAST};
use super::resource::{Gvk, Resource};
use super::types::SortOptions;

/// What the comparator reads of one object, worked out once per object
/// rather than once per comparison.
struct Key {
    gvk: Gvk,
    rank: i64,
    gvk_string: String,
    ns_name: String,
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

    fn key(&self, r: &Resource) -> Key {
        let gvk = r.gvk();
        let ns = if r.namespace().is_empty() {
            "~X"
        } else {
            r.namespace()
        };
        let name = if r.name().is_empty() { "~N" } else { r.name() };
        Key {
            rank: self.rank(&gvk.kind),
            gvk_string: gvk.to_string(),
            gvk,
            ns_name: format!("{}|{}", ns, name),
        }
    }
}

fn cmp(a: &Key, b: &Key) -> Ordering {
    let (ga, gb) = (&a.gvk, &b.gvk);
    if ga != gb {
        if a.rank != b.rank {
            return a.rank.cmp(&b.rank);
        }
        if ga.kind == "Namespace"
            && gb.kind == "Namespace"
            && (ga.group.is_empty() || gb.group.is_empty())
        {
            return b.gvk_string.cmp(&a.gvk_string);
        }
        return a.gvk_string.cmp(&b.gvk_string);
    }
    a.ns_name.cmp(&b.ns_name)
}

/// Sort in place as `kubectl kustomize` orders its output.
pub fn sort(items: &mut Vec<Resource>, opts: Option<&SortOptions>) {
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
    let mut keyed: Vec<(Key, Resource)> = items.drain(..).map(|r| (ranks.key(&r), r)).collect();
    keyed.sort_by(|a, b| cmp(&a.0, &b.0));
    items.extend(keyed.into_iter().map(|(_, r)| r));
}
