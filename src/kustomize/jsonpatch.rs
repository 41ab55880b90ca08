//! RFC 6902 JSON patches with the semantics of the library kustomize uses
//! (evanphx/json-patch v4 with its default options): `replace` of a missing
//! object key sets it, negative array indexes count from the end, `remove`
//! of a missing path is an error.

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Op {
    pub op: String,
    pub path: String,
    pub from: Option<String>,
    pub value: Option<Value>,
}

/// Read operations from a parsed patch (a list of `{op, path, from, value}`).
pub fn parse_ops(v: &Value) -> Result<Vec<Op>, String> {
    let Value::Array(items) = v else {
        return Err("a JSON 6902 patch must be a list of operations".into());
    };
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let Value::Object(m) = it else {
            return Err(format!("operation {} is not a mapping", i));
        };
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let op = s("op").ok_or_else(|| format!("operation {} has no 'op'", i))?;
        if !matches!(
            op.as_str(),
            "add" | "remove" | "replace" | "move" | "copy" | "test"
        ) {
            return Err(format!("operation {}: unexpected op '{}'", i, op));
        }
        let path = s("path").ok_or_else(|| format!("operation {} ({}) has no 'path'", i, op))?;
        out.push(Op {
            op,
            path,
            from: s("from"),
            value: m.get("value").cloned(),
        });
    }
    Ok(out)
}

fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(vec![]);
    }
    // Like evanphx/json-patch: split on '/' and drop the first part, so a
    // path without the leading slash loses its first segment.
    Ok(path
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn index(tok: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if tok == "-" && allow_end {
        return Ok(len);
    }
    let i: i64 = tok
        .parse()
        .map_err(|_| format!("'{}' is not an array index", tok))?;
    let i = if i < 0 { i + len as i64 } else { i };
    let max = if allow_end {
        len as i64
    } else {
        len as i64 - 1
    };
    if i < 0 || i > max {
        return Err(format!("index {} is out of range", tok));
    }
    Ok(i as usize)
}

/// The container holding the last token of `toks`.
fn parent<'a>(doc: &'a mut Value, toks: &[String], path: &str) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in &toks[..toks.len().saturating_sub(1)] {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| format!("doc is missing path: {}", path))?,
            Value::Array(a) => {
                let i = index(t, a.len(), false)
                    .map_err(|_| format!("doc is missing path: {}", path))?;
                &mut a[i]
            }
            _ => return Err(format!("doc is missing path: {}", path)),
        };
    }
    Ok(cur)
}

fn get(doc: &Value, path: &str) -> Result<Value, String> {
    let mut cur = doc;
    for t in tokens(path)? {
        cur = match cur {
            Value::Object(m) => m
                .get(&t)
                .ok_or_else(|| format!("doc is missing path: {}", path))?,
            Value::Array(a) => {
                &a[index(&t, a.len(), false)
                    .map_err(|_| format!("doc is missing path: {}", path))?]
            }
            _ => return Err(format!("doc is missing path: {}", path)),
        };
    }
    Ok(cur.clone())
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let toks = tokens(path)?;
    let Some(last) = toks.last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, &toks, path)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(last, a.len(), true)
                .map_err(|e| format!("add operation on {}: {}", path, e))?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("doc is missing path: {}", path)),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, String> {
    let toks = tokens(path)?;
    let Some(last) = toks.last() else {
        return Err("cannot remove the whole document".into());
    };
    match parent(doc, &toks, path)? {
        Value::Object(m) => m
            .shift_remove(last)
            .ok_or_else(|| format!("unable to remove nonexistent key: {}", path)),
        Value::Array(a) => {
            let i = index(last, a.len(), false)
                .map_err(|e| format!("remove operation on {}: {}", path, e))?;
            Ok(a.remove(i))
        }
        _ => Err(format!("doc is missing path: {}", path)),
    }
}

fn replace(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let toks = tokens(path)?;
    let Some(last) = toks.last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, &toks, path)? {
        Value::Object(m) => {
            // v4 sets the key whether or not it was there.
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i =
                index(last, a.len(), false).map_err(|_| format!("doc is missing key: {}", path))?;
            a[i] = value;
            Ok(())
        }
        _ => Err(format!("doc is missing path: {}", path)),
    }
}

/// Apply operations in order; the document is changed only if all succeed.
pub fn apply(doc: &mut Value, ops: &[Op]) -> Result<(), String> {
    let mut work = doc.clone();
    for (i, op) in ops.iter().enumerate() {
        // A missing value is JSON null, as in evanphx/json-patch.
        let need_value =
            || -> Result<Value, String> { Ok(op.value.clone().unwrap_or(Value::Null)) };
        let need_from = || {
            op.from
                .clone()
                .ok_or_else(|| format!("operation {} ({}) has no 'from'", i, op.op))
        };
        let r = match op.op.as_str() {
            "add" => add(&mut work, &op.path, need_value()?),
            "remove" => remove(&mut work, &op.path).map(|_| ()),
            "replace" => replace(&mut work, &op.path, need_value()?),
            "move" => {
                let from = need_from()?;
                remove(&mut work, &from).and_then(|v| add(&mut work, &op.path, v))
            }
            "copy" => {
                let from = need_from()?;
                get(&work, &from).and_then(|v| add(&mut work, &op.path, v))
            }
            "test" => {
                let want = op.value.clone().unwrap_or(Value::Null);
                match get(&work, &op.path) {
                    Ok(v) if v == want => Ok(()),
                    Ok(_) => Err(format!("testing value {} failed", op.path)),
                    Err(e) => Err(e),
                }
            }
            other => Err(format!("unexpected op '{}'", other)),
        };
        r.map_err(|e| format!("operation {} ({} {}): {}", i, op.op, op.path, e))?;
    }
    *doc = work;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(doc: Value, ops: Value) -> Result<Value, String> {
        let mut d = doc;
        apply(&mut d, &parse_ops(&ops)?)?;
        Ok(d)
    }

    #[test]
    fn replace_sets_missing_object_key() {
        assert_eq!(
            run(
                json!({"a": {}}),
                json!([{"op": "replace", "path": "/a/b", "value": 1}])
            )
            .unwrap(),
            json!({"a": {"b": 1}})
        );
    }

    #[test]
    fn replace_needs_the_parent() {
        assert!(run(
            json!({}),
            json!([{"op": "replace", "path": "/a/b", "value": 1}])
        )
        .is_err());
    }

    #[test]
    fn remove_missing_is_an_error() {
        assert!(run(json!({"a": 1}), json!([{"op": "remove", "path": "/b"}])).is_err());
    }

    #[test]
    fn arrays_append_and_negative_index() {
        let d = json!({"l": [1, 2, 3]});
        assert_eq!(
            run(
                d.clone(),
                json!([{"op": "add", "path": "/l/-", "value": 4}])
            )
            .unwrap(),
            json!({"l": [1, 2, 3, 4]})
        );
        assert_eq!(
            run(d.clone(), json!([{"op": "remove", "path": "/l/-1"}])).unwrap(),
            json!({"l": [1, 2]})
        );
        assert_eq!(
            run(d, json!([{"op": "add", "path": "/l/0", "value": 0}])).unwrap(),
            json!({"l": [0, 1, 2, 3]})
        );
    }

    #[test]
    fn escaped_tokens_move_copy_test() {
        let d = json!({"a/b": 1, "c~d": 2});
        let out = run(
            d,
            json!([{"op": "copy", "from": "/a~1b", "path": "/x"}, {"op": "move", "from": "/c~0d", "path": "/y"}, {"op": "test", "path": "/y", "value": 2}]),
        )
        .unwrap();
        assert_eq!(out, json!({"a/b": 1, "x": 1, "y": 2}));
        assert!(run(
            json!({"a": 1}),
            json!([{"op": "test", "path": "/a", "value": 2}])
        )
        .is_err());
    }
}
