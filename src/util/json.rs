//! Guards and helpers for JSON from outside (registry responses, bundles, lockfiles).

use serde_json::Value;

/// Rejects JSON nested deeper than `cap` (arrays and objects), before parsing it.
pub fn check_depth(bytes: &[u8], cap: usize) -> Result<(), String> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > cap {
                    return Err(format!("JSON nested deeper than the cap of {cap} levels"));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The JSON type of `v`, for error messages ("expected an object, found a string").
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_brackets_inside_strings() {
        assert!(check_depth(br#"{"a":"[[[[[[[[[["}"#, 2).is_ok());
        assert!(check_depth(br#"{"a":"\\"}"#, 1).is_ok());
        assert!(check_depth(b"[[[]]]", 2).is_err());
        assert!(check_depth(b"[[]]", 2).is_ok());
    }

    #[test]
    fn kind_names_every_type() {
        assert_eq!(kind(&serde_json::json!({})), "an object");
        assert_eq!(kind(&serde_json::json!("x")), "a string");
        assert_eq!(kind(&Value::Null), "null");
    }
}
