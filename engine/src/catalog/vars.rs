//! `${name}` / `${name:-default}` interpolation for catalog options and job files.
//!
//! A variable is looked up, in order: `--set name=value`, the environment variable
//! `SLUICE_<NAME>`, the environment variable `<name>` itself (so `${MYSQL_URL}` reads
//! `MYSQL_URL`), then the active profile's `variables:`. Defaults may themselves
//! contain variables (`${raw_path:-${warehouse}/raw/*.log}`).

use std::collections::BTreeMap;

use crate::error::{Result, SluiceError};

#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// `--set` values: they win over everything else.
    overrides: BTreeMap<String, String>,
    /// Profile defaults (themselves interpolated on lookup).
    profile: BTreeMap<String, String>,
    /// Read the process environment? Off in tests that must not depend on it.
    use_env: bool,
}

/// Guards against `${a:-${a}}`-style cycles.
const MAX_DEPTH: usize = 16;

impl Vars {
    pub fn new(overrides: BTreeMap<String, String>) -> Self {
        Vars {
            overrides,
            profile: BTreeMap::new(),
            use_env: true,
        }
    }

    /// Just these `--set` values, without the environment (for tests).
    #[cfg(test)]
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        let sets = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Vars::new(sets.collect()).without_env()
    }

    pub fn without_env(mut self) -> Self {
        self.use_env = false;
        self
    }

    pub fn set_profile_defaults(&mut self, defaults: BTreeMap<String, String>) {
        self.profile = defaults;
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.overrides.insert(name.into(), value.into());
    }

    /// Parses `name=value` as given to `--set`.
    pub fn parse_assignment(s: &str) -> Result<(String, String)> {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(SluiceError::Variable(format!(
                "'{s}' is not an assignment: write --set name=value"
            ))),
        }
    }

    /// The value of a variable, interpolated; `None` when it is not set anywhere.
    pub fn lookup(&self, name: &str) -> Result<Option<String>> {
        self.lookup_at(name, 0)
    }

    fn lookup_at(&self, name: &str, depth: usize) -> Result<Option<String>> {
        if let Some(v) = self.overrides.get(name) {
            return Ok(Some(v.clone()));
        }
        if self.use_env {
            let prefixed = format!("SLUICE_{}", name.to_ascii_uppercase());
            if let Ok(v) = std::env::var(&prefixed) {
                return Ok(Some(v));
            }
            if let Ok(v) = std::env::var(name) {
                return Ok(Some(v));
            }
        }
        match self.profile.get(name) {
            Some(v) => self.expand_at(v, depth + 1).map(Some),
            None => Ok(None),
        }
    }

    /// Replaces every `${...}` in `text`. `$$` is a literal `$`.
    pub fn expand(&self, text: &str) -> Result<String> {
        self.expand_at(text, 0)
    }

    fn expand_at(&self, text: &str, depth: usize) -> Result<String> {
        if depth > MAX_DEPTH {
            return Err(SluiceError::Variable(format!(
                "variables nest too deeply (a cycle?) while expanding '{text}'"
            )));
        }
        if !text.contains('$') {
            return Ok(text.to_string());
        }
        let mut out = String::with_capacity(text.len());
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'$') {
                out.push('$');
                i += 2;
            } else if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
                let end = matching_brace(text, i + 2)
                    .ok_or_else(|| SluiceError::Variable(format!("unclosed '${{' in '{text}'")))?;
                out.push_str(&self.expand_reference(&text[i + 2..end], depth)?);
                i = end + 1;
            } else {
                // Copy one whole UTF-8 character.
                let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + ch_len]);
                i += ch_len;
            }
        }
        Ok(out)
    }

    /// Expands `${..}` in SQL text but not inside `--` and `/* */` comments, so a comment may
    /// mention a variable that is not set.
    pub fn expand_sql(&self, sql: &str) -> Result<String> {
        let mut out = String::with_capacity(sql.len());
        let mut code_start = 0;
        let mut i = 0;
        let bytes = sql.as_bytes();
        let mut in_string = false;
        while i < bytes.len() {
            let comment_end = match (bytes[i], bytes.get(i + 1)) {
                (b'\'', _) => {
                    in_string = !in_string;
                    None
                }
                (b'-', Some(b'-')) if !in_string => {
                    Some(sql[i..].find('\n').map_or(sql.len(), |n| i + n))
                }
                (b'/', Some(b'*')) if !in_string => {
                    Some(sql[i + 2..].find("*/").map_or(sql.len(), |n| i + 2 + n + 2))
                }
                _ => None,
            };
            match comment_end {
                Some(end) => {
                    out.push_str(&self.expand(&sql[code_start..i])?);
                    out.push_str(&sql[i..end]);
                    code_start = end;
                    i = end;
                }
                None => i += 1,
            }
        }
        out.push_str(&self.expand(&sql[code_start..])?);
        Ok(out)
    }

    fn expand_reference(&self, inner: &str, depth: usize) -> Result<String> {
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n.trim(), Some(d)),
            None => (inner.trim(), None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(SluiceError::Variable(format!(
                "'${{{inner}}}' is not a variable reference: names are letters, digits and '_'"
            )));
        }
        match (self.lookup_at(name, depth)?, default) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => self.expand_at(d, depth + 1),
            (None, None) => Err(SluiceError::Variable(format!(
                "${{{name}}} is not set: pass --set {name}=<value> or set SLUICE_{}",
                name.to_ascii_uppercase()
            ))),
        }
    }
}

/// Index of the `}` closing a `${` whose body starts at `from`, honouring nested `${..}`.
fn matching_brace(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 1;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars::of(pairs)
    }

    #[test]
    fn expands_plain_default_and_nested() {
        let mut v = vars(&[("warehouse", "/tmp/w")]);
        v.set_profile_defaults([("db".to_string(), "${warehouse}/db".to_string())].into());
        assert_eq!(v.expand("${warehouse}/x").unwrap(), "/tmp/w/x");
        assert_eq!(
            v.expand("${raw:-${warehouse}/raw/*.log}").unwrap(),
            "/tmp/w/raw/*.log"
        );
        assert_eq!(v.expand("${db}").unwrap(), "/tmp/w/db");
        assert_eq!(v.expand("cost $$5 ${x:-}").unwrap(), "cost $5 ");
        assert_eq!(v.expand("北京 ${warehouse}").unwrap(), "北京 /tmp/w");
    }

    #[test]
    fn overrides_win_over_profile() {
        let mut v = vars(&[("a", "set")]);
        v.set_profile_defaults([("a".to_string(), "profile".to_string())].into());
        assert_eq!(v.expand("${a}").unwrap(), "set");
    }

    #[test]
    fn missing_variable_names_the_fix() {
        let err = vars(&[]).expand("${raw_path}").unwrap_err().to_string();
        assert!(err.contains("--set raw_path="), "{err}");
        assert!(err.contains("SLUICE_RAW_PATH"), "{err}");
    }

    #[test]
    fn rejects_bad_references_and_cycles() {
        assert!(vars(&[]).expand("${unclosed").is_err());
        assert!(vars(&[]).expand("${a b}").is_err());
        let mut v = vars(&[]);
        v.set_profile_defaults([("a".to_string(), "${a}".to_string())].into());
        assert!(v.expand("${a}").unwrap_err().to_string().contains("cycle"));
    }

    #[test]
    fn sql_comments_are_left_alone() {
        let v = vars(&[("wh", "/w")]);
        let sql = "-- uses ${unset}\nSELECT '${wh}/x' /* ${nope} */ FROM t -- ${also_unset}\n";
        assert_eq!(
            v.expand_sql(sql).unwrap(),
            "-- uses ${unset}\nSELECT '/w/x' /* ${nope} */ FROM t -- ${also_unset}\n"
        );
        assert!(v.expand_sql("SELECT '${unset}'").is_err());
        assert_eq!(
            v.expand_sql("SELECT '--' || '${wh}'").unwrap(),
            "SELECT '--' || '/w'"
        );
    }

    #[test]
    fn parses_assignments() {
        assert_eq!(
            Vars::parse_assignment("k=v=w").unwrap(),
            ("k".to_string(), "v=w".to_string())
        );
        assert!(Vars::parse_assignment("novalue").is_err());
    }
}
