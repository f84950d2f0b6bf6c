//! Typed access to a table's connector options, shared by every connector.
//! Unknown options are errors (with a "did you mean"), as in Flink.

use std::collections::BTreeMap;
use std::str::FromStr;

use datafusion::common::utils::datafusion_strsim::levenshtein;

use crate::error::{Result, SluiceError};

#[derive(Debug, Clone)]
pub struct Options {
    table: String,
    connector: String,
    map: BTreeMap<String, String>,
}

impl Options {
    /// Checks that every key is one of `known` (plus `connector`).
    pub fn new(table: &str, map: BTreeMap<String, String>, known: &[&str]) -> Result<Self> {
        let connector = map.get("connector").cloned().unwrap_or_default();
        for key in map.keys() {
            if key == "connector" || known.contains(&key.as_str()) {
                continue;
            }
            let suggestion = known
                .iter()
                .map(|k| (levenshtein(k, key), *k))
                .min()
                .filter(|(d, _)| *d <= 2)
                .map(|(_, k)| format!(" (did you mean '{k}'?)"))
                .unwrap_or_default();
            return Err(SluiceError::connector(
                table,
                format!(
                    "unknown option '{key}' for connector '{connector}'{suggestion}; valid options: {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(Options {
            table: table.to_string(),
            connector,
            map,
        })
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    pub fn required(&self, key: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| {
            SluiceError::connector(
                &self.table,
                format!("connector '{}' needs the option '{key}'", self.connector),
            )
        })
    }

    pub fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                SluiceError::connector(
                    &self.table,
                    format!(
                        "option '{key}' = '{v}' is not a valid {}",
                        std::any::type_name::<T>()
                    ),
                )
            }),
        }
    }

    /// One of a fixed set of values.
    pub fn choice<'a>(&self, key: &str, allowed: &[&'a str], default: &'a str) -> Result<&'a str> {
        let v = self.get(key).unwrap_or(default);
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v))
            .copied()
            .ok_or_else(|| {
                SluiceError::connector(
                    &self.table,
                    format!(
                        "option '{key}' = '{v}' is not one of: {}",
                        allowed.join(", ")
                    ),
                )
            })
    }

    /// A comma-separated list (`partition_by: day` or `[day, hour]` in YAML).
    pub fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unknown_option_suggests_the_near_one() {
        let err = Options::new(
            "t",
            opts(&[("connector", "file"), ("fromat", "csv")]),
            &["path", "format"],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown option 'fromat'"), "{err}");
        assert!(err.contains("did you mean 'format'"), "{err}");
    }

    #[test]
    fn typed_access() {
        let o = Options::new(
            "t",
            opts(&[("n", "12"), ("f", "CSV"), ("p", "day, Hour")]),
            &["n", "f", "p"],
        )
        .unwrap();
        assert_eq!(o.parse_or("n", 0usize).unwrap(), 12);
        assert_eq!(o.parse_or("m", 7usize).unwrap(), 7);
        assert_eq!(o.choice("f", &["csv", "json"], "json").unwrap(), "csv");
        assert_eq!(o.list("p"), vec!["day", "hour"]);
        assert!(
            o.required("x")
                .unwrap_err()
                .to_string()
                .contains("needs the option 'x'")
        );
    }
}
