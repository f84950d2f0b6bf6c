//! Column types as written in catalog YAML and `CREATE TABLE` (Flink SQL names), mapped to Arrow.

use datafusion::arrow::datatypes::{DataType, TimeUnit};

/// The Arrow type for a SQL type name such as `STRING`, `BIGINT`, `TIMESTAMP(3)`,
/// `TIMESTAMP_LTZ(3)` or `DECIMAL(10, 2)`. The error lists what is accepted.
pub fn parse_sql_type(text: &str) -> Result<DataType, String> {
    let norm = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let (base, args) = match norm.find('(') {
        Some(open) => {
            let close = norm
                .rfind(')')
                .filter(|&close| close > open)
                .ok_or_else(|| format!("unclosed '(' in type '{text}'"))?;
            let args: Vec<&str> = norm[open + 1..close].split(',').map(str::trim).collect();
            let rest = norm[close + 1..].trim();
            let base = format!(
                "{}{}",
                norm[..open].trim(),
                if rest.is_empty() {
                    String::new()
                } else {
                    format!(" {rest}")
                }
            );
            (base, args)
        }
        None => (norm.clone(), vec![]),
    };
    let timestamp_unit = |args: &[&str]| -> Result<TimeUnit, String> {
        match args.first().map(|p| p.parse::<u8>()) {
            None => Ok(TimeUnit::Microsecond),
            Some(Ok(0)) => Ok(TimeUnit::Second),
            Some(Ok(1..=3)) => Ok(TimeUnit::Millisecond),
            Some(Ok(4..=6)) => Ok(TimeUnit::Microsecond),
            Some(Ok(7..=9)) => Ok(TimeUnit::Nanosecond),
            _ => Err(format!("bad timestamp precision in '{text}': use 0..9")),
        }
    };
    let utc = || Some("UTC".into());
    Ok(match base.as_str() {
        "STRING" | "VARCHAR" | "CHAR" | "TEXT" => DataType::Utf8,
        "BOOLEAN" | "BOOL" => DataType::Boolean,
        "TINYINT" => DataType::Int8,
        "SMALLINT" => DataType::Int16,
        "INT" | "INTEGER" => DataType::Int32,
        "BIGINT" => DataType::Int64,
        "FLOAT" | "REAL" => DataType::Float32,
        "DOUBLE" | "DOUBLE PRECISION" => DataType::Float64,
        "DATE" => DataType::Date32,
        "BYTES" | "VARBINARY" | "BINARY" => DataType::Binary,
        "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => {
            DataType::Timestamp(timestamp_unit(&args)?, None)
        }
        "TIMESTAMP_LTZ" | "TIMESTAMP WITH LOCAL TIME ZONE" | "TIMESTAMP WITH TIME ZONE" => {
            DataType::Timestamp(timestamp_unit(&args)?, utc())
        }
        "DECIMAL" | "NUMERIC" => {
            let p: u8 = args.first().and_then(|p| p.parse().ok()).unwrap_or(38);
            let s: i8 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            if p == 0 || p > 38 || s < 0 || s as u8 > p {
                return Err(format!("bad DECIMAL precision/scale in '{text}'"));
            }
            DataType::Decimal128(p, s)
        }
        _ => {
            return Err(format!(
                "unknown type '{text}': use STRING, BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, \
                 DOUBLE, DECIMAL(p,s), DATE, TIMESTAMP(p), TIMESTAMP_LTZ(p) or BYTES"
            ));
        }
    })
}

/// The SQL name we print for an Arrow type (`sluice catalog describe`).
pub fn sql_type_name(dt: &DataType) -> String {
    let precision = |u: &TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    };
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Date32 => "DATE".into(),
        DataType::Binary | DataType::LargeBinary => "BYTES".into(),
        DataType::Timestamp(u, None) => format!("TIMESTAMP({})", precision(u)),
        DataType::Timestamp(u, Some(_)) => format!("TIMESTAMP_LTZ({})", precision(u)),
        DataType::Decimal128(p, s) => format!("DECIMAL({p}, {s})"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flink_type_names() {
        assert_eq!(parse_sql_type("string").unwrap(), DataType::Utf8);
        assert_eq!(parse_sql_type("VARCHAR(20)").unwrap(), DataType::Utf8);
        assert_eq!(parse_sql_type("BIGINT").unwrap(), DataType::Int64);
        assert_eq!(
            parse_sql_type("TIMESTAMP(3)").unwrap(),
            DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        assert_eq!(
            parse_sql_type("TIMESTAMP_LTZ(3)").unwrap(),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        assert_eq!(
            parse_sql_type("timestamp(3)  with local time zone").unwrap(),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        assert_eq!(
            parse_sql_type("DECIMAL(10, 2)").unwrap(),
            DataType::Decimal128(10, 2)
        );
        assert!(parse_sql_type("x)(").is_err());
        let err = parse_sql_type("STRNG").unwrap_err();
        assert!(err.contains("unknown type 'STRNG'"), "{err}");
    }

    #[test]
    fn names_round_trip() {
        for t in [
            "STRING",
            "BIGINT",
            "INT",
            "DOUBLE",
            "TIMESTAMP_LTZ(3)",
            "TIMESTAMP(3)",
            "DATE",
        ] {
            assert_eq!(sql_type_name(&parse_sql_type(t).unwrap()), t);
        }
    }
}
