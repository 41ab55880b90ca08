//! kfp-aws: render, validate and apply Kubeflow Pipelines on AWS.
//!
//! The library holds the kustomize engine ([`kustomize`]) that every command
//! of the binary builds on.
pub mod apply;
pub mod kubeclient;
pub mod kustomize;
pub mod params;
pub mod pipelines;
pub mod render;
pub mod validate;

/// A value for a message, cut to `max` bytes (on a character boundary) with
/// the full length noted, so that a huge input never makes a huge error line.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// A message with every quoted span (between `'` or `"`) longer than `max`
/// bytes cut with [`truncate`]: the values a message echoes stay short.
pub fn shorten_quoted(msg: &str, max: usize) -> String {
    if msg.len() <= max {
        return msg.to_string();
    }
    let mut out = String::with_capacity(msg.len().min(4 * max));
    let mut rest = msg;
    while let Some(i) = rest.find(['\'', '"']) {
        let q = rest.as_bytes()[i] as char;
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        match rest.find(q) {
            Some(j) => {
                out.push_str(&truncate(&rest[..j], max));
                out.push(q);
                rest = &rest[j + 1..];
            }
            None => {
                out.push_str(&truncate(rest, max));
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(10_000);
        let msg = format!("parameter s3Bucket '{}' is not valid", long);
        let short = super::shorten_quoted(&msg, 100);
        assert!(short.len() < 200, "{}", short.len());
        assert!(short.starts_with("parameter s3Bucket 'xxx"));
        assert!(short.ends_with("(10000 bytes)' is not valid"));
        assert_eq!(super::shorten_quoted("a 'b' c", 100), "a 'b' c");
        assert_eq!(super::truncate("héllo", 2), "h… (6 bytes)");
    }
}
