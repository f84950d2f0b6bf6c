//! The SQL text the MySQL connector sends: quoting, `CREATE TABLE`, and the upsert.

use datafusion::arrow::datatypes::{DataType, Schema};

pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The MySQL column type for an Arrow type. Key columns need a bounded length.
fn column_type(dt: &DataType, in_key: bool) -> Result<String, String> {
    Ok(match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if in_key => {
            "VARCHAR(255)".into()
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "TEXT".into(),
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => "INT".into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
            "BIGINT UNSIGNED".into()
        }
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Date32 => "DATE".into(),
        DataType::Timestamp(_, _) => "DATETIME(3)".into(),
        DataType::Binary | DataType::LargeBinary => "BLOB".into(),
        other => return Err(format!("no MySQL column type for {other}")),
    })
}

pub fn create_table_sql(
    table: &str,
    schema: &Schema,
    primary_key: &[String],
) -> Result<String, String> {
    let mut cols = Vec::with_capacity(schema.fields().len() + 1);
    for f in schema.fields() {
        let in_key = primary_key.iter().any(|k| k == f.name());
        let null = if in_key || !f.is_nullable() {
            " NOT NULL"
        } else {
            " NULL"
        };
        cols.push(format!(
            "{} {}{null}",
            quote_ident(f.name()),
            column_type(f.data_type(), in_key)?
        ));
    }
    if !primary_key.is_empty() {
        let keys: Vec<String> = primary_key.iter().map(|k| quote_ident(k)).collect();
        cols.push(format!("PRIMARY KEY ({})", keys.join(", ")));
    }
    Ok(format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        quote_ident(table),
        cols.join(",\n  ")
    ))
}

/// `INSERT … VALUES (?, …), … ON DUPLICATE KEY UPDATE …` for `rows` rows. Without a primary
/// key there is nothing to upsert on and rows are appended.
pub fn upsert_sql(table: &str, schema: &Schema, primary_key: &[String], rows: usize) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| quote_ident(f.name()))
        .collect();
    let one_row = format!("({})", vec!["?"; names.len()].join(", "));
    let values = vec![one_row; rows].join(", ");
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES {values}",
        quote_ident(table),
        names.join(", ")
    );
    if primary_key.is_empty() {
        return sql;
    }
    let updates: Vec<String> = schema
        .fields()
        .iter()
        .filter(|f| !primary_key.iter().any(|k| k == f.name()))
        .map(|f| {
            let c = quote_ident(f.name());
            format!("{c} = VALUES({c})")
        })
        .collect();
    if updates.is_empty() {
        // Every column is in the key: a duplicate is the same row; keep it as it is.
        let k = quote_ident(&primary_key[0]);
        sql.push_str(&format!(" ON DUPLICATE KEY UPDATE {k} = {k}"));
    } else {
        sql.push_str(&format!(" ON DUPLICATE KEY UPDATE {}", updates.join(", ")));
    }
    sql
}

/// `DELETE FROM t WHERE a = ? AND b = ?` over the partition columns (indices into `schema`).
pub fn delete_partition_sql(table: &str, schema: &Schema, partition_cols: &[usize]) -> String {
    let conditions: Vec<String> = partition_cols
        .iter()
        .map(|&i| format!("{} = ?", quote_ident(schema.field(i).name())))
        .collect();
    format!(
        "DELETE FROM {} WHERE {}",
        quote_ident(table),
        conditions.join(" AND ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("day", DataType::Utf8, false),
            Field::new("cms_id", DataType::Int64, false),
            Field::new("times", DataType::Int64, true),
        ])
    }

    #[test]
    fn creates_with_bounded_keys() {
        let sql = create_table_sql("t`x", &schema(), &["day".into(), "cms_id".into()]).unwrap();
        assert!(sql.contains("`t``x`"), "{sql}");
        assert!(sql.contains("`day` VARCHAR(255) NOT NULL"), "{sql}");
        assert!(sql.contains("`times` BIGINT NULL"), "{sql}");
        assert!(sql.contains("PRIMARY KEY (`day`, `cms_id`)"), "{sql}");
    }

    #[test]
    fn upserts_non_key_columns() {
        let sql = upsert_sql("t", &schema(), &["day".into(), "cms_id".into()], 2);
        assert_eq!(
            sql,
            "INSERT INTO `t` (`day`, `cms_id`, `times`) VALUES (?, ?, ?), (?, ?, ?) \
             ON DUPLICATE KEY UPDATE `times` = VALUES(`times`)"
        );
        assert_eq!(
            delete_partition_sql("t", &schema(), &[0]),
            "DELETE FROM `t` WHERE `day` = ?"
        );
        let all_key = upsert_sql(
            "t",
            &schema(),
            &["day".into(), "cms_id".into(), "times".into()],
            1,
        );
        assert!(
            all_key.ends_with("ON DUPLICATE KEY UPDATE `day` = `day`"),
            "{all_key}"
        );
    }
}
