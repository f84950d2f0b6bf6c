//! Exposes the catalog to DataFusion as its default schema. Connector tables are built
//! lazily, on first use, so a query that never names the MySQL tables needs no MySQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result};

use crate::catalog::Catalog;
use crate::connectors::{self, ConnectorEnv};
use crate::job::JobEnv;
use crate::sync::lock;

#[derive(Debug)]
pub struct SluiceSchemaProvider {
    catalog: Arc<RwLock<Catalog>>,
    env: ConnectorEnv,
    /// Connector tables built so far (one instance per run, so metrics add up).
    built: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
    /// Tables DataFusion registers itself: views, and the engine's shared (fan-out) relations.
    registered: Mutex<HashMap<String, Arc<dyn TableProvider>>>,
}

impl SluiceSchemaProvider {
    pub fn new(catalog: Arc<RwLock<Catalog>>, job: &JobEnv) -> Self {
        SluiceSchemaProvider {
            catalog,
            env: ConnectorEnv::of(job),
            built: Mutex::default(),
            registered: Mutex::default(),
        }
    }

    fn catalog(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        // A poisoned lock only means another thread panicked while holding it; the data is plain.
        self.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    /// A table registered at run time (a view or a shared relation), not a catalog table.
    pub fn registered(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        lock(&self.registered).get(name).cloned()
    }

    pub fn deregister_view(&self, name: &str) {
        lock(&self.registered).remove(name);
    }

    /// Replaces whatever `name` resolves to (used to put a shared relation in a view's place).
    pub fn replace_table(&self, name: &str, table: Arc<dyn TableProvider>) {
        lock(&self.registered).insert(name.to_string(), table);
    }
}

#[async_trait]
impl SchemaProvider for SluiceSchemaProvider {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.catalog().table_names();
        names.extend(lock(&self.registered).keys().cloned());
        names.sort();
        names.dedup();
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if let Some(t) = lock(&self.registered).get(name) {
            return Ok(Some(Arc::clone(t)));
        }
        if let Some(t) = lock(&self.built).get(name) {
            return Ok(Some(Arc::clone(t)));
        }
        let provider = {
            let catalog = self.catalog();
            let Some(def) = catalog.table(name) else {
                return Ok(None);
            };
            connectors::build_catalog_table(def, &catalog.vars, &self.env)?
        };
        lock(&self.built).insert(name.to_string(), Arc::clone(&provider));
        Ok(Some(provider))
    }

    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        if self.catalog().table(&name).is_some() {
            return Err(DataFusionError::Plan(format!(
                "'{name}' is already a catalog table; choose another name for the view"
            )));
        }
        Ok(lock(&self.registered).insert(name, table))
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(lock(&self.registered).remove(name))
    }

    fn table_exist(&self, name: &str) -> bool {
        lock(&self.registered).contains_key(name) || self.catalog().table(name).is_some()
    }
}
