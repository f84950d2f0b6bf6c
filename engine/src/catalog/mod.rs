//! The catalog: every table a job or query can name, from `catalog/*.yaml`, the active
//! profile (`catalog/profiles/<name>.yaml`) and `CREATE TABLE` statements in job files.

mod table;
pub mod types;
pub mod vars;
mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use table::{ColumnDef, TableDef, TableOrigin, WatermarkDef};
pub use vars::Vars;

use crate::error::{Result, SluiceError};

pub const DEFAULT_PROFILE: &str = "local";

#[derive(Debug, Clone)]
pub struct Catalog {
    tables: BTreeMap<String, TableDef>,
    pub vars: Vars,
    pub profile: String,
    pub dir: PathBuf,
}

impl Catalog {
    /// An empty catalog (tests, or jobs that declare all their tables in DDL).
    pub fn empty(vars: Vars) -> Self {
        Catalog {
            tables: BTreeMap::new(),
            vars,
            profile: DEFAULT_PROFILE.into(),
            dir: PathBuf::new(),
        }
    }

    /// Loads every `*.yaml` in `dir`, then applies `dir/profiles/<profile>.yaml`.
    pub fn load(dir: &Path, profile: &str, mut vars: Vars) -> Result<Self> {
        let mut tables = BTreeMap::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| {
                SluiceError::io(
                    format!(
                        "reading catalog directory {} (set --catalog or SLUICE_CATALOG)",
                        dir.display()
                    ),
                    e,
                )
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            })
            .collect();
        files.sort();
        for file in &files {
            for def in yaml::read_tables_file(file)? {
                if let Some(prev) = tables.get(&def.name) {
                    let prev: &TableDef = prev;
                    return Err(SluiceError::Catalog(format!(
                        "table '{}' is declared twice: in {} and in {}",
                        def.name, prev.origin, def.origin
                    )));
                }
                tables.insert(def.name.clone(), def);
            }
        }
        let profile_file = dir.join("profiles").join(format!("{profile}.yaml"));
        if !profile_file.exists() {
            let known = list_profiles(dir);
            return Err(SluiceError::Catalog(format!(
                "profile '{profile}' not found ({} is missing); known profiles: {}",
                profile_file.display(),
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            )));
        }
        let overlay = yaml::read_profile_file(&profile_file)?;
        vars.set_profile_defaults(overlay.variables);
        for (name, targets) in overlay.table_options {
            let def = tables.get_mut(&name).ok_or_else(|| {
                SluiceError::Catalog(format!(
                    "{}: profile overrides table '{name}', which no catalog file declares",
                    profile_file.display()
                ))
            })?;
            def.options = targets.options;
            def.also_write = targets.also_write;
            def.origin = TableOrigin::Yaml(profile_file.display().to_string());
        }
        for def in tables.values() {
            def.validate()?;
        }
        Ok(Catalog {
            tables,
            vars,
            profile: profile.to_string(),
            dir: dir.to_path_buf(),
        })
    }

    /// A table by name: exactly as written (quoted names keep their case), else lowercased.
    pub fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables
            .get(name)
            .or_else(|| self.tables.get(&name.to_ascii_lowercase()))
    }

    pub fn tables(&self) -> impl Iterator<Item = &TableDef> {
        self.tables.values()
    }

    pub fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    /// Adds a table declared by `CREATE TABLE`. Redeclaring a catalog table is an error
    /// unless `if_not_exists`, in which case the catalog's declaration stays.
    pub fn add_table(&mut self, def: TableDef, if_not_exists: bool) -> Result<()> {
        def.validate()?;
        if let Some(prev) = self.tables.get(&def.name) {
            if if_not_exists {
                return Ok(());
            }
            return Err(SluiceError::Catalog(format!(
                "table '{}' declared at {} already exists (declared at {}): rename it, or write CREATE TABLE IF NOT EXISTS",
                def.name, def.origin, prev.origin
            )));
        }
        self.tables.insert(def.name.clone(), def);
        Ok(())
    }
}

fn list_profiles(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("profiles"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let p = e.path();
                    (p.extension().and_then(|x| x.to_str()) == Some("yaml"))
                        .then(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                        .flatten()
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
