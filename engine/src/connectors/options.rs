//! A table's connector options as a typed serde struct ([`Options::decode`]), shared by
//! every connector. Unknown options are errors (with a "did you mean"), as in Flink.

mod decode;

use std::collections::BTreeMap;

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

/// [`duration`] for an optional field (`Option<Duration>` with `#[serde(default)]`); an
/// empty value is no value (a catalog may leave it to a variable that is not set).
pub fn some_duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<std::time::Duration>, D::Error> {
    let text = String::deserialize(d)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_duration(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// Refuses a key of `map` that is not `connector` or one of `known`, suggesting the nearest:
/// the key and the message.
fn check_keys(
    map: &BTreeMap<String, String>,
    known: &[&str],
) -> std::result::Result<(), (String, String)> {
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
        return Err((
            key.clone(),
            format!(
                "unknown option '{key}' for connector '{connector}'{suggestion}; valid options: {}",
                known.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Where connectors decode their options.
pub struct Options;

impl Options {
    /// The options of table `table` as the struct `T`: every field an option (its serde
    /// name, e.g. `#[serde(rename = "retry.max_elapsed")]`), parsed from its text; a key
    /// that is not a field is refused, naming the nearest. Give `T` `#[serde(default)]` for
    /// optional options.
    pub fn decode<T: DeserializeOwned>(table: &str, map: &BTreeMap<String, String>) -> Result<T> {
        T::deserialize(OptionsDeserializer(map)).map_err(|e| match e.option {
            Some(option) => SluiceError::bad_option(table, option, e.message),
            None => SluiceError::connector(table, e.message),
        })
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

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct PathAndFormat {
        path: String,
        format: String,
    }

    #[test]
    fn unknown_option_suggests_the_near_one() {
        let err = Options::decode::<PathAndFormat>(
            "t",
            &opts(&[("connector", "file"), ("fromat", "csv")]),
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

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Format {
        Csv,
        #[default]
        Json,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(default)]
    struct Typed {
        n: u64,
        m: u64,
        f: Format,
        p: Vec<String>,
        #[serde(deserialize_with = "some_duration")]
        every: Option<std::time::Duration>,
    }

    impl Default for Typed {
        fn default() -> Self {
            Typed {
                n: 0,
                m: 7,
                f: Format::Json,
                p: vec![],
                every: None,
            }
        }
    }

    #[test]
    fn typed_access() {
        let o: Typed = Options::decode(
            "t",
            &opts(&[
                ("n", "12"),
                ("f", "CSV"),
                ("p", "day, Hour"),
                ("every", " "),
            ]),
        )
        .unwrap();
        assert_eq!(
            o,
            Typed {
                n: 12,
                m: 7,
                f: Format::Csv,
                p: vec!["day".into(), "Hour".into()],
                every: None,
            }
        );
        let o: Typed = Options::decode("t", &opts(&[("every", "10 s")])).unwrap();
        assert_eq!(o.every, Some(std::time::Duration::from_secs(10)));
    }
}
