//! Name-reference fix-up: when an object was renamed (prefix, suffix, hash,
//! namespace), every field that referred to it by its old name follows. One
//! table drives it (the `nameReference` section of the transformer config);
//! the selection rules are kustomize's, documented in `builtins.rs`.

use serde_json::{Map, Value};

use super::fieldspec::{walk, Create, TransformerConfig};
use super::reslist::ResList;
use super::resource::{Gvk, ResId, DEFAULT_NAMESPACE};

/// What the fix-up needs to know about every object (names do not change
/// while it runs, only reference fields do).
struct Snap {
    cur: ResId,
    prev: Vec<ResId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    meta_ns: String,
    /// For a RoleBinding: namespaces of its ServiceAccount subjects.
    sa_namespaces: Vec<String>,
    cluster_scoped: bool,
    /// `cur.effective_namespace()`.
    eff_ns: String,
}

fn same_ending(a: &[String], b: &[String]) -> bool {
    if a.is_empty() || b.is_empty() {
        return a.is_empty() && b.is_empty();
    }
    let n = a.len().min(b.len());
    a[a.len() - n..] == b[b.len() - n..]
}

fn effective_ns(ns: &str) -> &str {
    if ns.is_empty() {
        DEFAULT_NAMESPACE
    } else {
        ns
    }
}

pub fn fix(list: &mut ResList, cfg: &TransformerConfig) -> Result<(), String> {
    let snaps: Vec<Snap> = list
        .items
        .iter()
        .map(|r| {
            let cur = r.cur_id();
            Snap {
                cluster_scoped: cur.gvk.is_cluster_scoped(),
                eff_ns: cur.effective_namespace().to_string(),
                cur,
                prev: r.prev_ids.clone(),
                prefixes: r.prefixes.clone(),
                suffixes: r.suffixes.clone(),
                meta_ns: r.namespace().to_string(),
                sa_namespaces: sa_subject_namespaces(&r.obj),
            }
        })
        .collect();
    // Objects each referrer could refer to, worked out when first needed.
    let pools: Vec<std::cell::OnceCell<Vec<usize>>> = (0..snaps.len())
        .map(|_| std::cell::OnceCell::new())
        .collect();
    for backref in &cfg.name_reference {
        let target = backref.gvk();
        for spec in &backref.field_specs {
            let path = spec.path_parts();
            let is_role_ref = spec.path.ends_with("roleRef/name");
            for ri in 0..list.items.len() {
                let s = &snaps[ri];
                let org_gvk = &s.prev.first().unwrap_or(&s.cur).gvk;
                if !spec.matches(org_gvk) {
                    continue;
                }
                let pool = &pools[ri];
                let role_ref = if is_role_ref {
                    let o = &list.items[ri].obj;
                    match (
                        o.pointer("/roleRef/apiGroup").and_then(Value::as_str),
                        o.pointer("/roleRef/kind").and_then(Value::as_str),
                    ) {
                        (Some(g), Some(k)) => Some(Gvk {
                            group: g.to_string(),
                            version: String::new(),
                            kind: k.to_string(),
                        }),
                        _ => None,
                    }
                } else {
                    None
                };
                let ctx = Ctx {
                    snaps: &snaps,
                    referrer: ri,
                    target: &target,
                    role_ref,
                };
                let mut obj = std::mem::take(&mut list.items[ri].obj);
                let res = walk(&mut obj, path, Create::No, &mut |n| {
                    // The pool is only worth computing when the referrer has the field.
                    if n.is_null() {
                        return Ok(());
                    }
                    let pool = pool.get_or_init(|| candidate_pool(&snaps, ri));
                    ctx.set(n, pool)
                });
                list.items[ri].obj = obj;
                res.map_err(|e| {
                    format!(
                        "updating name reference '{}' in {} '{}': {}",
                        spec.path, snaps[ri].cur.gvk.kind, snaps[ri].cur.name, e
                    )
                })?;
            }
        }
    }
    Ok(())
}

fn sa_subject_namespaces(obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if obj.get("kind").and_then(Value::as_str) != Some("RoleBinding") {
        return out;
    }
    if let Some(Value::Array(subjects)) = obj.get("subjects") {
        for s in subjects {
            if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount") {
                if let Some(ns) = s.get("namespace").and_then(Value::as_str) {
                    out.push(ns.to_string());
                }
            }
        }
    }
    out
}

/// Objects the referrer could refer to (kustomize's
/// SubsetThatCouldBeReferencedByResource).
fn candidate_pool(snaps: &[Snap], ri: usize) -> Vec<usize> {
    let r = &snaps[ri];
    if r.cluster_scoped {
        return (0..snaps.len()).collect();
    }
    (0..snaps.len())
        .filter(|&i| {
            let x = &snaps[i];
            x.cluster_scoped || x.eff_ns == r.eff_ns || r.sa_namespaces.contains(&x.meta_ns)
        })
        .collect()
}

struct Ctx<'a> {
    snaps: &'a [Snap],
    referrer: usize,
    target: &'a Gvk,
    role_ref: Option<Gvk>,
}

impl<'a> Ctx<'a> {
    fn set(&self, n: &mut Value, pool: &[usize]) -> Result<(), String> {
        match n {
            Value::Null => Ok(()),
            Value::String(_) => self.set_scalar(n, pool),
            Value::Object(m) => self.set_map(m, pool),
            Value::Array(items) => {
                for it in items.iter_mut() {
                    match it {
                        Value::String(_) => self.set_scalar(it, pool)?,
                        Value::Object(m) => self.set_map(m, pool)?,
                        Value::Null => {}
                        _ => return Err("expected a name or a mapping in the list".into()),
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn set_scalar(&self, n: &mut Value, pool: &[usize]) -> Result<(), String> {
        let Some(old) = n.as_str().map(str::to_string) else {
            return Ok(());
        };
        if let Some(i) = self.select(&old, pool, false)? {
            let new = &self.snaps[i].cur.name;
            if *new != old {
                *n = Value::String(new.clone());
            }
        }
        Ok(())
    }

    fn set_map(&self, m: &mut Map<String, Value>, pool: &[usize]) -> Result<(), String> {
        let Some(old) = m.get("name").and_then(Value::as_str).map(str::to_string) else {
            return Err("path config error; no 'name' field in node".into());
        };
        let narrowed: Vec<usize>;
        let pool = match m.get("namespace").and_then(Value::as_str) {
            Some(ns) => {
                let want = effective_ns(ns);
                let by_org: Vec<usize> = pool
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let s = &self.snaps[i];
                        let org = s.prev.first().unwrap_or(&s.cur);
                        !s.cluster_scoped && effective_ns(&org.namespace) == want
                    })
                    .collect();
                narrowed = if by_org.is_empty() {
                    pool.iter()
                        .copied()
                        .filter(|&i| {
                            let s = &self.snaps[i];
                            !s.cluster_scoped && s.eff_ns == want
                        })
                        .collect()
                } else {
                    by_org
                };
                &narrowed[..]
            }
            None => pool,
        };
        if let Some(i) = self.select(&old, pool, true)? {
            let s = &self.snaps[i];
            if s.cur.name == old && s.meta_ns.is_empty() {
                return Ok(());
            }
            m.insert("name".into(), Value::String(s.cur.name.clone()));
            if !s.meta_ns.is_empty() {
                m.insert("namespace".into(), Value::String(s.meta_ns.clone()));
            }
        }
        Ok(())
    }

    /// kustomize's selectReferral.
    fn select(&self, old: &str, pool: &[usize], with_ns: bool) -> Result<Option<usize>, String> {
        let r = &self.snaps[self.referrer];
        let mut c: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&i| {
                let s = &self.snaps[i];
                s.prev.iter().any(|p| p.name == old)
                    && s.prev.iter().any(|p| p.gvk.is_selected_by(self.target))
            })
            .collect();
        if let Some(rr) = &self.role_ref {
            c.retain(|&i| self.snaps[i].prev.iter().any(|p| p.gvk.is_selected_by(rr)));
        }
        if !r.cluster_scoped {
            c.retain(|&i| {
                let s = &self.snaps[i];
                s.cluster_scoped || s.cur.gvk.kind == "ServiceAccount" || s.eff_ns == r.eff_ns
            });
        }
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        let loose = |i: &usize| {
            let s = &self.snaps[*i];
            (s.prefixes.is_empty()
                || r.prefixes.is_empty()
                || same_ending(&s.prefixes, &r.prefixes))
                && (s.suffixes.is_empty()
                    || r.suffixes.is_empty()
                    || same_ending(&s.suffixes, &r.suffixes))
        };
        c.retain(loose);
        if c.len() > 1 {
            c.retain(|&i| {
                let s = &self.snaps[i];
                same_ending(&s.prefixes, &r.prefixes) && same_ending(&s.suffixes, &r.suffixes)
            });
        }
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ => {
                let first = &self.snaps[c[0]].cur;
                let identical = c.iter().all(|&i| {
                    let s = &self.snaps[i].cur;
                    s.name == first.name && (!with_ns || s.namespace == first.namespace)
                });
                if identical {
                    Ok(Some(c[0]))
                } else {
                    let ids: Vec<String> =
                        c.iter().map(|&i| self.snaps[i].cur.to_string()).collect();
                    Err(format!(
                        "found multiple possible referrals for '{}': {}",
                        old,
                        ids.join(", ")
                    ))
                }
            }
        }
    }
}
