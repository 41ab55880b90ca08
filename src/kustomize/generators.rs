//! ConfigMap and Secret generators, and the content hash kustomize appends to
//! their names.

use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::resource::{Behavior, Resource};
use super::types::{GeneratorArgs, GeneratorOptions};

/// Reads the files a generator names, relative to its kustomization.
pub trait SourceLoader {
    fn load(&self, path: &str) -> Result<Vec<u8>, String>;
}

/// Key/value pairs in kustomize's order: env files, literals, files.
fn pairs(args: &GeneratorArgs, ldr: &dyn SourceLoader) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut envs: Vec<&String> = args.envs.iter().collect();
    if !args.env.is_empty() {
        envs.push(&args.env);
    }
    for env in envs {
        let content = ldr.load(env)?;
        for (i, line) in content.split(|b| *b == b'\n').enumerate() {
            let line = std::str::from_utf8(line)
                .map_err(|_| format!("env file '{}' line {} is not UTF-8", env, i + 1))?;
            let line = if i == 0 {
                line.trim_start_matches('\u{feff}')
            } else {
                line
            };
            let line = line.strip_suffix('\r').unwrap_or(line);
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = match line.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (line.to_string(), std::env::var(line).unwrap_or_default()),
            };
            out.push((key, value.into_bytes()));
        }
    }
    for lit in &args.literals {
        if lit.starts_with('=') || !lit.contains('=') {
            let key = lit.split('=').next().unwrap_or("");
            return Err(format!(
                "invalid literal source '{}', expected key=value",
                key
            ));
        }
        let (k, v) = lit.split_once('=').unwrap_or((lit, ""));
        out.push((k.to_string(), remove_quotes(v).as_bytes().to_vec()));
    }
    for f in &args.files {
        let (key, path) = match f.split_once('=') {
            Some((k, p)) => {
                if k.is_empty() {
                    return Err(format!("key name for file path '{}' missing", p));
                }
                if p.is_empty() {
                    return Err(format!("file path for key name '{}' missing", k));
                }
                (k.to_string(), p.to_string())
            }
            None => {
                let base = f.rsplit('/').next().unwrap_or(f).to_string();
                (base, f.clone())
            }
        };
        let content = ldr.load(&path)?;
        out.push((key, content));
    }
    Ok(out)
}

/// Base64 as kustomize writes Secret data: lines of 70 characters, each
/// ending in a newline, once the text is 70 characters or longer.
pub fn encode_base64_lines(v: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = base64::engine::general_purpose::STANDARD.encode(v);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    for chunk in enc.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b[b.len() - 1] {
        return s;
    }
    if b[0] == b'"' || b[0] == b'\'' {
        return &s[1..s.len() - 1];
    }
    s
}

/// Build one ConfigMap (`secret == false`) or Secret from its generator args.
pub fn generate(
    args: &GeneratorArgs,
    secret: bool,
    global: Option<&GeneratorOptions>,
    ldr: &dyn SourceLoader,
    origin: &str,
) -> Result<Resource, String> {
    let kind = if secret { "Secret" } else { "ConfigMap" };
    if args.name.is_empty() {
        return Err(format!("a {} generator needs a name", kind));
    }
    let kv = pairs(args, ldr).map_err(|e| format!("{} '{}': {}", kind, args.name, e))?;
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in kv {
        if data.contains_key(&k) || binary.contains_key(&k) {
            return Err(format!(
                "{} '{}' illegally repeats the key '{}'",
                kind, args.name, k
            ));
        }
        if secret {
            data.insert(k, Value::String(encode_base64_lines(&v)));
        } else {
            match String::from_utf8(v) {
                Ok(s) => {
                    data.insert(k, Value::String(s));
                }
                Err(e) => {
                    binary.insert(
                        k,
                        Value::String(
                            base64::engine::general_purpose::STANDARD.encode(e.as_bytes()),
                        ),
                    );
                }
            }
        }
    }
    let opts = GeneratorOptions::merged(args.options.as_ref(), global);
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(args.name.clone()));
    if !args.namespace.is_empty() {
        metadata.insert("namespace".into(), Value::String(args.namespace.clone()));
    }
    if !opts.labels.is_empty() {
        metadata.insert("labels".into(), json!(opts.labels));
    }
    if !opts.annotations.is_empty() {
        metadata.insert("annotations".into(), json!(opts.annotations));
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!("v1"));
    obj.insert("kind".into(), json!(kind));
    obj.insert("metadata".into(), Value::Object(metadata));
    // kustomize always gives a Secret a `data` map; a ConfigMap only when
    // there is something in it.
    if secret || !data.is_empty() {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    if secret {
        let t = if args.kind_type.is_empty() {
            "Opaque"
        } else {
            &args.kind_type
        };
        obj.insert("type".into(), json!(t));
    }
    if opts.immutable {
        obj.insert("immutable".into(), json!(true));
    }
    let mut r = Resource::new(Value::Object(obj), origin);
    r.behavior = match args.behavior.as_str() {
        "" | "create" => Behavior::Create,
        "merge" => Behavior::Merge,
        "replace" => Behavior::Replace,
        other => {
            return Err(format!(
                "{} '{}': unknown behavior '{}' (use create, merge or replace)",
                kind, args.name, other
            ))
        }
    };
    r.needs_hash = !opts.disable_name_suffix_hash.unwrap_or(false);
    Ok(r)
}

/// Go's `json.Marshal` of a value: sorted keys, `<>&` and U+2028/9 escaped.
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_str(k, out);
                out.push(':');
                go_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::String(s) => go_json_str(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn go_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn string_map(v: Option<&Value>) -> Value {
    let mut m = Map::new();
    match v {
        None | Some(Value::Null) => return json!(""),
        Some(Value::String(s)) => return json!(s),
        Some(Value::Object(_)) => {}
        Some(other) => return json!(other.to_string()),
    }
    // The map goes through JSON as Go decodes it: values keep their types,
    // and numbers are float64.
    if let Some(Value::Object(o)) = v {
        for (k, x) in o {
            m.insert(k.clone(), as_go_json_value(x));
        }
    }
    Value::Object(m)
}

fn as_go_json_value(v: &Value) -> Value {
    match v {
        Value::Number(n) => {
            let mut x = v.clone();
            super::scalar::json_float_roundtrip(&mut x);
            match n.as_f64() {
                // A float64 with no fraction is written as an integer.
                Some(f) if !(n.is_i64() || n.is_u64()) && f.fract() == 0.0 && f.abs() < 1e15 => {
                    Value::Number((f as i64).into())
                }
                _ => x,
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(as_go_json_value).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), as_go_json_value(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// kustomize's name hash of a ConfigMap or Secret (api/hasher).
pub fn hash(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut m = Map::new();
    m.insert("kind".into(), json!(kind));
    m.insert("name".into(), json!(""));
    m.insert("data".into(), string_map(obj.get("data")));
    if kind == "Secret" {
        m.insert(
            "type".into(),
            json!(obj.get("type").and_then(Value::as_str).unwrap_or("")),
        );
        if obj.get("stringData").map(Value::is_object).unwrap_or(false) {
            m.insert("stringData".into(), string_map(obj.get("stringData")));
        }
    } else if obj.get("binaryData").map(Value::is_object).unwrap_or(false) {
        m.insert("binaryData".into(), string_map(obj.get("binaryData")));
    }
    let mut text = String::new();
    go_json(&Value::Object(m), &mut text);
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest
        .iter()
        .take(5)
        .map(|b| format!("{:02x}", b))
        .collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_of_known_configmap() {
        // kustomize's own expectation for a ConfigMap with data {"one": ""}... and
        // an empty one, checked against kubectl kustomize.
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}});
        let h = hash(&cm);
        assert_eq!(h.len(), 10);
        assert!(h.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn go_json_escapes_html() {
        let mut s = String::new();
        go_json(&json!({"b": "<&>", "a": 1}), &mut s);
        assert_eq!(s, "{\"a\":1,\"b\":\"\\u003c\\u0026\\u003e\"}");
    }

    #[test]
    fn literal_quotes_removed_only_when_balanced() {
        assert_eq!(remove_quotes("\"x\""), "x");
        assert_eq!(remove_quotes("'x"), "'x");
    }
}
