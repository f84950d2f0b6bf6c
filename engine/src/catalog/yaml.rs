//! The YAML forms of the catalog: table files (`catalog/*.yaml`) and profiles
//! (`catalog/profiles/<name>.yaml`). Unknown keys are errors, so typos do not pass silently.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::table::{ColumnDef, TableDef, TableOrigin, WatermarkDef};
use super::types::parse_sql_type;
use crate::error::{Result, SluiceError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TablesFile {
    #[serde(default)]
    tables: BTreeMap<String, TableYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableYaml {
    description: Option<String>,
    columns: Vec<ColumnYaml>,
    #[serde(default)]
    primary_key: Vec<String>,
    #[serde(default)]
    error_output: bool,
    /// `event_time - INTERVAL '5' SECOND`, as after `WATERMARK FOR event_time AS` in DDL.
    watermark: Option<String>,
    #[serde(rename = "with")]
    options: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    also_write: Vec<BTreeMap<String, serde_yaml_ng::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnYaml {
    name: String,
    #[serde(rename = "type")]
    sql_type: String,
    #[serde(default = "yes")]
    nullable: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileYaml {
    #[allow(dead_code)] // documentation for humans; parsed so the key is allowed
    description: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    tables: BTreeMap<String, ProfileTableYaml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileTableYaml {
    #[serde(rename = "with")]
    options: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    also_write: Vec<BTreeMap<String, serde_yaml_ng::Value>>,
}

/// Where a profile puts one table: its connector options and any further sinks.
pub struct TableTargets {
    pub options: BTreeMap<String, String>,
    pub also_write: Vec<BTreeMap<String, String>>,
}

/// What a profile changes: variable defaults and whole connector-option maps per table.
pub struct ProfileOverlay {
    pub variables: BTreeMap<String, String>,
    pub table_options: BTreeMap<String, TableTargets>,
}

fn option_maps(
    path: &Path,
    maps: Vec<BTreeMap<String, serde_yaml_ng::Value>>,
) -> Result<Vec<BTreeMap<String, String>>> {
    maps.into_iter()
        .map(|m| options_to_strings(path, m))
        .collect()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| SluiceError::io(format!("reading {}", path.display()), e))
}

fn yaml_error(path: &Path, e: serde_yaml_ng::Error) -> SluiceError {
    let at = e
        .location()
        .map(|l| format!(":{}:{}", l.line(), l.column()))
        .unwrap_or_default();
    SluiceError::Catalog(format!("{}{at}: {e}", path.display()))
}

fn scalar_to_string(path: &Path, key: &str, v: serde_yaml_ng::Value) -> Result<String> {
    use serde_yaml_ng::Value;
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Sequence(items) => items
            .into_iter()
            .map(|i| scalar_to_string(path, key, i))
            .collect::<Result<Vec<_>>>()
            .map(|v| v.join(",")),
        other => Err(SluiceError::Catalog(format!(
            "{}: option '{key}' must be a string, number, boolean or list, not {other:?}",
            path.display()
        ))),
    }
}

fn options_to_strings(
    path: &Path,
    options: BTreeMap<String, serde_yaml_ng::Value>,
) -> Result<BTreeMap<String, String>> {
    options
        .into_iter()
        .map(|(k, v)| Ok((k.clone(), scalar_to_string(path, &k, v)?)))
        .collect()
}

pub fn read_tables_file(path: &Path) -> Result<Vec<TableDef>> {
    let text = read(path)?;
    let file: TablesFile = serde_yaml_ng::from_str(&text).map_err(|e| yaml_error(path, e))?;
    let origin = TableOrigin::Yaml(path.display().to_string());
    file.tables
        .into_iter()
        .map(|(name, t)| {
            let columns = t
                .columns
                .into_iter()
                .map(|c| {
                    let data_type = parse_sql_type(&c.sql_type).map_err(|e| {
                        SluiceError::Catalog(format!(
                            "{}: table '{name}', column '{}': {e}",
                            path.display(),
                            c.name
                        ))
                    })?;
                    Ok(ColumnDef {
                        name: c.name.to_ascii_lowercase(),
                        data_type,
                        nullable: c.nullable,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let watermark = t.watermark.map(|expr| WatermarkDef {
                column: expr
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                expr,
            });
            Ok(TableDef {
                name: name.to_ascii_lowercase(),
                description: t.description,
                watermark,
                columns,
                primary_key: t
                    .primary_key
                    .iter()
                    .map(|k| k.to_ascii_lowercase())
                    .collect(),
                error_output: t.error_output,
                options: options_to_strings(path, t.options)?,
                also_write: option_maps(path, t.also_write)?,
                origin: origin.clone(),
            })
        })
        .collect()
}

pub fn read_profile_file(path: &Path) -> Result<ProfileOverlay> {
    let text = read(path)?;
    let file: ProfileYaml = serde_yaml_ng::from_str(&text).map_err(|e| yaml_error(path, e))?;
    let variables = options_to_strings(path, file.variables)?;
    let table_options = file
        .tables
        .into_iter()
        .map(|(name, t)| {
            Ok((
                name.to_ascii_lowercase(),
                TableTargets {
                    options: options_to_strings(path, t.options)?,
                    also_write: option_maps(path, t.also_write)?,
                },
            ))
        })
        .collect::<Result<_>>()?;
    Ok(ProfileOverlay {
        variables,
        table_options,
    })
}
