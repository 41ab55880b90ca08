//! Lookups in the engine's value type, `serde_json::Value`, shared by every
//! layer of the engine (it imports nothing of the engine).

use serde_json::{Map, Value};

/// Mappings up to this many keys are searched by comparing keys in order:
/// for the few short keys of a Kubernetes object that is cheaper than
/// hashing the key (serde_json's map hashes with SipHash).
const SCAN_UP_TO: usize = 8;

/// `m.get(key)`, without hashing when the mapping is small.
#[inline]
pub fn field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if m.len() <= SCAN_UP_TO {
        m.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        m.get(key)
    }
}

/// `m.get_mut(key)`, without hashing when the mapping is small.
#[inline]
pub fn field_mut<'a>(m: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    if m.len() <= SCAN_UP_TO {
        m.iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    } else {
        m.get_mut(key)
    }
}
