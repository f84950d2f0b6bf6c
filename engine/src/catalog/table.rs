//! A table as the catalog knows it: columns, keys and the connector options that say where it lives.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::vars::Vars;
use crate::error::{Result, SluiceError};

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
}

/// Where a table was declared; error messages point there.
#[derive(Debug, Clone, PartialEq)]
pub enum TableOrigin {
    Yaml(String),
    Ddl { file: String, line: u64 },
}

impl std::fmt::Display for TableOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableOrigin::Yaml(path) => write!(f, "{path}"),
            TableOrigin::Ddl { file, line } => write!(f, "{file}:{line}"),
        }
    }
}

/// `WATERMARK FOR column AS expr`: event time and how far behind it the watermark trails.
/// The expression stays SQL text for the streaming runtime; batch runs do not need it.
#[derive(Debug, Clone, PartialEq)]
pub struct WatermarkDef {
    pub column: String,
    pub expr: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub name: String,
    pub description: Option<String>,
    pub columns: Vec<ColumnDef>,
    pub primary_key: Vec<String>,
    pub watermark: Option<WatermarkDef>,
    /// Rows written here are rejects: the run summary counts them as rejected.
    pub error_output: bool,
    /// Connector options exactly as declared (`${..}` not yet expanded), including `connector`.
    pub options: BTreeMap<String, String>,
    /// More places every row written to the table also goes (e.g. Redis and MySQL for one
    /// board table); each a connector-option map like `options`. Reads use `options`.
    pub also_write: Vec<BTreeMap<String, String>>,
    pub origin: TableOrigin,
}

impl TableDef {
    /// A table declared in code (tests, tools): nullable `columns`, and `options` besides
    /// `connector`.
    pub fn of_connector(
        name: &str,
        connector: &str,
        columns: &[(&str, DataType)],
        options: &[(&str, &str)],
    ) -> TableDef {
        let mut options: BTreeMap<String, String> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        options.insert("connector".into(), connector.into());
        TableDef {
            name: name.into(),
            description: None,
            columns: columns
                .iter()
                .map(|(name, data_type)| ColumnDef {
                    name: name.to_string(),
                    data_type: data_type.clone(),
                    nullable: true,
                })
                .collect(),
            primary_key: vec![],
            watermark: None,
            error_output: false,
            options,
            also_write: Vec::new(),
            origin: TableOrigin::Yaml("code".into()),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, c.data_type.clone(), c.nullable))
                .collect::<Vec<_>>(),
        ))
    }

    pub fn connector(&self) -> &str {
        self.options
            .get("connector")
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Connector options with variables expanded.
    pub fn resolved_options(&self, vars: &Vars) -> Result<BTreeMap<String, String>> {
        self.resolve(&self.options, vars)
    }

    /// The table as each of its `also_write` targets, with their options expanded.
    pub fn also_write_targets(
        &self,
        vars: &Vars,
    ) -> Result<Vec<(TableDef, BTreeMap<String, String>)>> {
        self.also_write
            .iter()
            .map(|options| {
                let def = TableDef {
                    options: options.clone(),
                    also_write: Vec::new(),
                    ..self.clone()
                };
                let resolved = self.resolve(options, vars)?;
                Ok((def, resolved))
            })
            .collect()
    }

    fn resolve(
        &self,
        options: &BTreeMap<String, String>,
        vars: &Vars,
    ) -> Result<BTreeMap<String, String>> {
        options
            .iter()
            .map(|(k, v)| {
                let value = vars.expand(v).map_err(|e| {
                    SluiceError::Catalog(format!(
                        "table '{}' (declared at {}), option '{k}': {e}",
                        self.name, self.origin
                    ))
                })?;
                Ok((k.clone(), value))
            })
            .collect()
    }

    /// Checks what every table must satisfy, whatever its connector.
    pub fn validate(&self) -> Result<()> {
        let fail = |msg: String| {
            Err(SluiceError::Catalog(format!(
                "table '{}' (declared at {}): {msg}",
                self.name, self.origin
            )))
        };
        if self.columns.is_empty() {
            return fail("it has no columns".into());
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.columns {
            if !seen.insert(c.name.as_str()) {
                return fail(format!("column '{}' is declared twice", c.name));
            }
        }
        for k in &self.primary_key {
            if self.column(k).is_none() {
                return fail(format!(
                    "primary key column '{k}' is not a column of the table"
                ));
            }
        }
        if let Some(w) = &self.watermark
            && self.column(&w.column).is_none()
        {
            return fail(format!("WATERMARK FOR '{}': no such column", w.column));
        }
        if self.connector().is_empty() {
            return fail("it has no 'connector' option (e.g. connector: file)".into());
        }
        if self
            .also_write
            .iter()
            .any(|o| o.get("connector").is_none_or(String::is_empty))
        {
            return fail("an 'also_write' entry has no 'connector' option".into());
        }
        Ok(())
    }
}
