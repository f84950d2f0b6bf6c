//! Typed access to a table's connector options, shared by every connector: key by key
//! ([`Options`]) or as a whole into a serde struct ([`Options::decode`]). Unknown options are
//! errors (with a "did you mean"), as in Flink.

mod decode;

use std::collections::BTreeMap;
use std::str::FromStr;

use datafusion::common::utils::datafusion_strsim::levenshtein;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, SluiceError};
use crate::units::parse_duration;
use decode::OptionsDeserializer;

/// A duration option in the one grammar (`250ms`, `10 s`, `5m`, `1 min`, ...), for
/// `#[serde(deserialize_with = "duration")]`.
pub fn duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<std::time::Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// [`duration`] for an optional field (`Option<Duration>` with `#[serde(default)]`).
pub fn some_duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<std::time::Duration>, D::Error> {
    duration(d).map(Some)
}

/// Refuses a key of `map` that is not `connector` or one of `known`, suggesting the nearest.
fn check_keys(map: &BTreeMap<String, String>, known: &[&str]) -> std::result::Result<(), String> {
    let connector = map.get("connector").map(String::as_str).unwrap_or_default();
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
        return Err(format!(
            "unknown option '{key}' for connector '{connector}'{suggestion}; valid options: {}",
            known.join(", ")
        ));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Options {
    table: String,
    connector: String,
    map: BTreeMap<String, String>,
}

impl Options {
    /// Checks that every key is one of `known` (plus `connector`).
    pub fn new(table: &str, map: BTreeMap<String, String>, known: &[&str]) -> Result<Self> {
        check_keys(&map, known).map_err(|m| SluiceError::connector(table, m))?;
        let connector = map.get("connector").cloned().unwrap_or_default();
        Ok(Options {
            table: table.to_string(),
            connector,
            map,
        })
    }

    /// The options of table `table` as the struct `T`: every field an option (its serde
    /// name, e.g. `#[serde(rename = "retry.max_elapsed")]`), parsed from its text; keys that
    /// are not fields are refused as [`Options::new`] does. Give `T` `#[serde(default)]`
    /// for optional options.
    pub fn decode<T: DeserializeOwned>(table: &str, map: &BTreeMap<String, String>) -> Result<T> {
        T::deserialize(OptionsDeserializer(map)).map_err(|e| SluiceError::connector(table, e.0))
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

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Shape {
        Lines,
        Events,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(default)]
    struct Example {
        format: Shape,
        rows: Option<u64>,
        share: f64,
        follow: bool,
        partition_by: Vec<String>,
        #[serde(rename = "retry.max_elapsed")]
        max_elapsed: Option<String>,
        #[serde(deserialize_with = "duration")]
        linger: std::time::Duration,
    }

    impl Default for Example {
        fn default() -> Self {
            Example {
                format: Shape::Lines,
                rows: None,
                share: 0.5,
                follow: false,
                partition_by: vec![],
                max_elapsed: None,
                linger: std::time::Duration::from_millis(50),
            }
        }
    }

    #[test]
    fn options_decode_into_a_struct_parsing_each_text() {
        let map = opts(&[
            ("connector", "generator"),
            ("format", "EVENTS"),
            ("rows", " 12 "),
            ("follow", "True"),
            ("partition_by", "day, hour"),
            ("retry.max_elapsed", "5m"),
            ("linger", "1 min"),
        ]);
        let e: Example = Options::decode("t", &map).unwrap();
        assert_eq!(
            e,
            Example {
                format: Shape::Events,
                rows: Some(12),
                share: 0.5,
                follow: true,
                partition_by: vec!["day".into(), "hour".into()],
                max_elapsed: Some("5m".into()),
                linger: std::time::Duration::from_secs(60),
            }
        );
        let bad = |k: &str, v: &str| {
            Options::decode::<Example>("t", &opts(&[("connector", "g"), (k, v)]))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            bad("rows", "many"),
            "table 't': option 'rows' = 'many' is not a whole number of at least 0"
        );
        assert_eq!(
            bad("format", "csv"),
            "table 't': option 'format' = 'csv' is not one of: lines, events"
        );
        let linger = bad("linger", "soon");
        assert!(
            linger.starts_with("table 't': option 'linger': "),
            "{linger}"
        );
        let unknown = bad("fromat", "csv");
        assert!(
            unknown.contains("unknown option 'fromat' for connector 'g'"),
            "{unknown}"
        );
        assert!(unknown.contains("did you mean 'format'"), "{unknown}");
        assert!(unknown.contains("retry.max_elapsed"), "{unknown}");
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
