//! `sluice catalog list | describe <table>`

use std::io::Write;

use super::{CatalogAction, Cli};
use crate::catalog::types::sql_type_name;

/// Hides the password in URL-like option values (`mysql://user:secret@host`).
fn mask_secrets(value: &str) -> String {
    if let (Some(scheme_end), Some(at)) = (value.find("://"), value.rfind('@'))
        && at > scheme_end + 3
    {
        let auth = &value[scheme_end + 3..at];
        if let Some((user, _)) = auth.split_once(':') {
            return format!("{}{user}:***{}", &value[..scheme_end + 3], &value[at..]);
        }
    }
    value.to_string()
}

pub fn catalog(cli: &Cli, action: &CatalogAction) -> anyhow::Result<i32> {
    let catalog = cli.load_catalog()?;
    let mut out = std::io::stdout().lock();
    match action {
        CatalogAction::List => {
            writeln!(
                out,
                "{:<34} {:<10} {:<8} description",
                "table", "connector", "columns"
            )?;
            for t in catalog.tables() {
                writeln!(
                    out,
                    "{:<34} {:<10} {:<8} {}",
                    t.name,
                    t.connector(),
                    t.columns.len(),
                    t.description.as_deref().unwrap_or("")
                )?;
            }
        }
        CatalogAction::Describe { table } => {
            let Some(t) = catalog.table(table) else {
                anyhow::bail!(
                    "no table '{table}' in profile '{}'; known tables: {}",
                    catalog.profile,
                    catalog.table_names().join(", ")
                );
            };
            writeln!(out, "table {}  (declared at {})", t.name, t.origin)?;
            if let Some(d) = &t.description {
                writeln!(out, "  {d}")?;
            }
            writeln!(out, "columns:")?;
            for c in &t.columns {
                let key = if t.primary_key.contains(&c.name) {
                    "  PRIMARY KEY"
                } else {
                    ""
                };
                let null = if c.nullable { "" } else { " NOT NULL" };
                writeln!(
                    out,
                    "  {:<24} {}{null}{key}",
                    c.name,
                    sql_type_name(&c.data_type)
                )?;
            }
            if let Some(w) = &t.watermark {
                writeln!(out, "watermark: WATERMARK FOR {} AS {}", w.column, w.expr)?;
            }
            if t.error_output {
                writeln!(out, "error output: rows written here count as rejected")?;
            }
            writeln!(out, "with ({} profile):", catalog.profile)?;
            for (k, v) in &t.options {
                let shown = match catalog.vars.expand(v) {
                    Ok(resolved) if resolved != *v => {
                        format!("{}   # {v}", mask_secrets(&resolved))
                    }
                    Ok(resolved) => mask_secrets(&resolved),
                    Err(e) => format!("{v}   # {e}"),
                };
                writeln!(out, "  {k} = {shown}")?;
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_passwords() {
        assert_eq!(
            super::mask_secrets("mysql://root:pw@h:3306/db"),
            "mysql://root:***@h:3306/db"
        );
        assert_eq!(
            super::mask_secrets("mysql://root@h/db"),
            "mysql://root@h/db"
        );
        assert_eq!(super::mask_secrets("plain"), "plain");
        assert_eq!(super::mask_secrets("a@b://c"), "a@b://c");
    }
}
