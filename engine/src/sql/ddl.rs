//! Flink-style `CREATE TABLE` for job files:
//!
//! ```sql
//! CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name (
//!   col TYPE [NOT NULL] [COMMENT '...'], ...,
//!   [PRIMARY KEY (a, b) [NOT ENFORCED],]
//!   [WATERMARK FOR ts AS ts - INTERVAL '5' SECOND]
//! ) [COMMENT '...'] [PARTITIONED BY (col, ...)] WITH ('connector' = 'file', 'path' = '...', ...)
//! ```
//! sqlparser's CREATE TABLE knows neither WATERMARK nor Flink's quoted option keys, so this
//! small parser works on sqlparser's tokens (which keep file locations for error messages).

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use super::script::{Statement, tokens};
use crate::catalog::types::parse_sql_type;
use crate::catalog::{ColumnDef, TableDef, TableOrigin, WatermarkDef};
use crate::error::{Located, Location};

#[derive(Debug, Clone)]
pub struct CreateTable {
    pub def: TableDef,
    pub if_not_exists: bool,
}

struct Cursor<'a> {
    toks: &'a [TokenWithSpan],
    pos: usize,
    end: Location,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.pos).map(|t| &t.token)
    }

    fn location(&self) -> Location {
        self.toks
            .get(self.pos)
            .map(|t| Location {
                line: t.span.start.line,
                column: t.span.start.column,
            })
            .unwrap_or(self.end)
    }

    fn error<T>(&self, message: impl Into<String>, hint: Option<&str>) -> Result<T, Located> {
        Err(Located {
            location: self.location(),
            message: message.into(),
            hint: hint.map(str::to_string),
        })
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.peek();
        self.pos += 1;
        t
    }

    fn is_keyword(&self, k: Keyword) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.keyword == k && w.quote_style.is_none())
    }

    /// For words sqlparser has no keyword for (WATERMARK).
    fn eat_word(&mut self, word: &str) -> bool {
        let yes = matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word));
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn eat_keyword(&mut self, k: Keyword) -> bool {
        let yes = self.is_keyword(k);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_keyword(&mut self, k: Keyword) -> Result<(), Located> {
        if self.eat_keyword(k) {
            Ok(())
        } else {
            self.error(format!("expected {k:?}, found {}", self.describe()), None)
        }
    }

    fn eat(&mut self, t: &Token) -> bool {
        let yes = self.peek() == Some(t);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect(&mut self, t: &Token) -> Result<(), Located> {
        if self.eat(t) {
            Ok(())
        } else {
            self.error(format!("expected '{t}', found {}", self.describe()), None)
        }
    }

    fn describe(&self) -> String {
        match self.peek() {
            Some(t) => format!("'{t}'"),
            None => "the end of the statement".into(),
        }
    }

    fn identifier(&mut self, what: &str) -> Result<String, Located> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let name = if w.quote_style.is_some() {
                    w.value.clone()
                } else {
                    w.value.to_ascii_lowercase()
                };
                self.pos += 1;
                Ok(name)
            }
            _ => self.error(format!("expected {what}, found {}", self.describe()), None),
        }
    }

    fn identifier_list(&mut self, what: &str) -> Result<Vec<String>, Located> {
        self.expect(&Token::LParen)?;
        let mut out = vec![self.identifier(what)?];
        while self.eat(&Token::Comma) {
            out.push(self.identifier(what)?);
        }
        self.expect(&Token::RParen)?;
        Ok(out)
    }

    /// Tokens up to (not including) a `,` or `)` at nesting depth 0, as SQL text.
    fn raw_until_comma_or_close(&mut self) -> String {
        let mut depth = 0usize;
        let mut parts = Vec::new();
        while let Some(t) = self.peek() {
            match t {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => break,
                _ => {}
            }
            parts.push(t.to_string());
            self.pos += 1;
        }
        parts.join(" ")
    }

    fn string_literal(&mut self) -> Option<String> {
        match self.peek() {
            Some(Token::SingleQuotedString(s)) => {
                let s = s.clone();
                self.pos += 1;
                Some(s)
            }
            _ => None,
        }
    }
}

pub fn parse_create_table(stmt: &Statement, file: &str) -> Result<CreateTable, Located> {
    let toks = tokens(&stmt.padded).map_err(|(location, message)| Located {
        location,
        message,
        hint: None,
    })?;
    let end = toks
        .last()
        .map(|t| Location {
            line: t.span.end.line,
            column: t.span.end.column,
        })
        .unwrap_or(stmt.start);
    let mut c = Cursor {
        toks: &toks,
        pos: 0,
        end,
    };
    let (name, if_not_exists) = c.table_name()?;
    let elements = c.table_elements()?;
    let (description, options) = c.table_clauses()?;
    if c.peek().is_some() {
        return c.error(
            format!("unexpected {} after the table definition", c.describe()),
            Some("the order is: (columns) [COMMENT '..'] [PARTITIONED BY (..)] WITH (..)"),
        );
    }
    let refuse = |message: String, hint: Option<&str>| Located {
        location: stmt.start,
        message,
        hint: hint.map(str::to_string),
    };
    if !options.contains_key("connector") {
        return Err(refuse(
            format!("table '{name}' has no 'connector' option"),
            Some("add WITH ('connector' = 'file', 'path' = '...', 'format' = '...')"),
        ));
    }
    let Elements {
        columns,
        primary_key,
        watermark,
    } = elements;
    if let Some(w) = &watermark
        && !columns.iter().any(|col: &ColumnDef| col.name == w.column)
    {
        return Err(refuse(
            format!("WATERMARK FOR '{}': no such column", w.column),
            None,
        ));
    }
    Ok(CreateTable {
        def: TableDef {
            name,
            description,
            columns,
            primary_key,
            watermark,
            error_output: false,
            options,
            also_write: Vec::new(),
            origin: TableOrigin::Ddl {
                file: file.to_string(),
                line: stmt.start.line,
            },
        },
        if_not_exists,
    })
}

/// What stands between a CREATE TABLE's parentheses.
#[derive(Default)]
struct Elements {
    columns: Vec<ColumnDef>,
    primary_key: Vec<String>,
    watermark: Option<WatermarkDef>,
}

impl Cursor<'_> {
    /// `CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name`: the name and the IF NOT EXISTS.
    fn table_name(&mut self) -> Result<(String, bool), Located> {
        self.expect_keyword(Keyword::CREATE)?;
        self.eat_keyword(Keyword::TEMPORARY);
        self.expect_keyword(Keyword::TABLE)?;
        let if_not_exists = if self.eat_keyword(Keyword::IF) {
            self.expect_keyword(Keyword::NOT)?;
            self.expect_keyword(Keyword::EXISTS)?;
            true
        } else {
            false
        };
        let name = self.identifier("a table name")?;
        if self.eat(&Token::Period) {
            return self.error(
                "qualified table names are not supported",
                Some("write the bare table name"),
            );
        }
        Ok((name, if_not_exists))
    }

    /// `(column, ..., PRIMARY KEY (..) NOT ENFORCED, WATERMARK FOR .. AS ..)`.
    fn table_elements(&mut self) -> Result<Elements, Located> {
        self.expect(&Token::LParen)?;
        let mut elements = Elements::default();
        loop {
            if self.eat_keyword(Keyword::PRIMARY) {
                self.expect_keyword(Keyword::KEY)?;
                elements.primary_key = self.identifier_list("a key column")?;
                if self.eat_keyword(Keyword::NOT) {
                    self.expect_keyword(Keyword::ENFORCED)?;
                }
            } else if self.eat_word("WATERMARK") {
                elements.watermark = Some(self.watermark()?);
            } else {
                let column = self.column(&elements.columns)?;
                elements.columns.push(column);
            }
            if self.eat(&Token::Comma) {
                continue;
            }
            self.expect(&Token::RParen)?;
            return Ok(elements);
        }
    }

    /// `FOR column AS expression`, after WATERMARK.
    fn watermark(&mut self) -> Result<WatermarkDef, Located> {
        self.expect_keyword(Keyword::FOR)?;
        let column = self.identifier("the event-time column")?;
        self.expect_keyword(Keyword::AS)?;
        let at = self.location();
        let expr = self.raw_until_comma_or_close();
        if expr.is_empty() {
            return Err(Located {
                location: at,
                message: "WATERMARK needs an expression".into(),
                hint: Some(format!(
                    "e.g. WATERMARK FOR {column} AS {column} - INTERVAL '5' SECOND"
                )),
            });
        }
        Ok(WatermarkDef { column, expr })
    }

    /// `name TYPE [NOT NULL] [COMMENT '..']`, not one of `declared`.
    fn column(&mut self, declared: &[ColumnDef]) -> Result<ColumnDef, Located> {
        let col_at = self.location();
        let name = self.identifier("a column name, PRIMARY KEY or WATERMARK")?;
        if self.is_keyword(Keyword::AS) {
            return self.error(
                format!("computed column '{name}' is not supported"),
                Some("compute it in a view or in the query instead"),
            );
        }
        let (data_type, nullable) = self.column_type(&name)?;
        if declared.iter().any(|x| x.name == name) {
            return Err(Located {
                location: col_at,
                message: format!("column '{name}' is declared twice"),
                hint: None,
            });
        }
        Ok(ColumnDef {
            name,
            data_type,
            nullable,
        })
    }

    /// A column's type up to the next `,` or `)`, and whether it is nullable.
    fn column_type(
        &mut self,
        column: &str,
    ) -> Result<(datafusion::arrow::datatypes::DataType, bool), Located> {
        let type_at = self.location();
        let mut type_text = Vec::new();
        let mut nullable = true;
        let mut depth = 0usize;
        while let Some(t) = self.peek() {
            match t {
                Token::LParen => depth += 1,
                Token::RParen if depth == 0 => break,
                Token::RParen => depth -= 1,
                Token::Comma if depth == 0 => break,
                Token::Word(w) if depth == 0 && w.keyword == Keyword::NOT => {
                    self.next();
                    self.expect_keyword(Keyword::NULL)?;
                    nullable = false;
                    continue;
                }
                Token::Word(w) if depth == 0 && w.keyword == Keyword::NULL => {
                    self.next();
                    continue;
                }
                Token::Word(w) if depth == 0 && w.keyword == Keyword::COMMENT => {
                    self.next();
                    if self.string_literal().is_none() {
                        return self.error("COMMENT needs a quoted string", None);
                    }
                    continue;
                }
                _ => {}
            }
            type_text.push(t.to_string());
            self.next();
        }
        if type_text.is_empty() {
            return Err(Located {
                location: type_at,
                message: format!("column '{column}' has no type"),
                hint: Some("e.g. `line STRING` or `event_time TIMESTAMP_LTZ(3)`".into()),
            });
        }
        let data_type = parse_sql_type(&type_text.join(" ")).map_err(|m| Located {
            location: type_at,
            message: m,
            hint: None,
        })?;
        Ok((data_type, nullable))
    }

    /// `[COMMENT '..'] [PARTITIONED BY (..)] [WITH (..)]`: the description and the options.
    fn table_clauses(&mut self) -> Result<(Option<String>, BTreeMap<String, String>), Located> {
        let mut options = BTreeMap::new();
        let mut description = None;
        loop {
            if self.eat_keyword(Keyword::COMMENT) {
                description = self.string_literal();
            } else if self.eat_keyword(Keyword::PARTITIONED) {
                self.expect_keyword(Keyword::BY)?;
                options.insert(
                    "partition_by".to_string(),
                    self.identifier_list("a partition column")?.join(","),
                );
            } else if self.eat_keyword(Keyword::WITH) {
                self.with_options(&mut options)?;
            } else {
                return Ok((description, options));
            }
        }
    }

    /// `('key' = 'value', ...)` into `options`.
    fn with_options(&mut self, options: &mut BTreeMap<String, String>) -> Result<(), Located> {
        self.expect(&Token::LParen)?;
        loop {
            let key_at = self.location();
            let key = match self.string_literal() {
                Some(k) => k,
                None => {
                    let mut k = self.identifier("an option name like 'connector'")?;
                    while self.eat(&Token::Period) {
                        k.push('.');
                        k.push_str(&self.identifier("an option name")?);
                    }
                    k
                }
            };
            self.expect(&Token::Eq)?;
            let value = match self.next() {
                Some(Token::SingleQuotedString(s)) => s.clone(),
                Some(Token::Number(n, _)) => n.clone(),
                Some(Token::Word(w)) => w.value.clone(),
                _ => {
                    self.pos -= 1;
                    return self.error(
                        format!("option '{key}' needs a value"),
                        Some("write 'key' = 'value'"),
                    );
                }
            };
            if options.insert(key.clone(), value).is_some() {
                return Err(Located {
                    location: key_at,
                    message: format!("option '{key}' is given twice"),
                    hint: None,
                });
            }
            if self.eat(&Token::Comma) {
                continue;
            }
            return self.expect(&Token::RParen);
        }
    }
}

/// Where an option key is written in a CREATE TABLE, for errors found later by a connector.
pub fn option_location(stmt: &Statement, key: &str) -> Option<Location> {
    let toks = tokens(&stmt.padded).ok()?;
    toks.iter().find_map(|t| match &t.token {
        Token::SingleQuotedString(s) if s == key => Some(Location {
            line: t.span.start.line,
            column: t.span.start.column,
        }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::script::Script;
    use datafusion::arrow::datatypes::{DataType, TimeUnit};

    fn parse(sql: &str) -> Result<CreateTable, Located> {
        let script = Script::parse("j.sql", sql).unwrap();
        parse_create_table(&script.statements[0], "j.sql")
    }

    #[test]
    fn parses_flink_ddl() {
        let t = parse(
            "CREATE TABLE IF NOT EXISTS Access (\n  ip STRING NOT NULL COMMENT 'client',\n  ts TIMESTAMP_LTZ(3),\n  amount DECIMAL(10, 2),\n  PRIMARY KEY (ip) NOT ENFORCED,\n  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND\n) COMMENT 'x' PARTITIONED BY (ip) WITH ('connector' = 'file', 'path' = '/tmp/a', csv.header = false)",
        )
        .unwrap();
        assert!(t.if_not_exists);
        assert_eq!(t.def.name, "access");
        assert_eq!(t.def.columns.len(), 3);
        assert!(!t.def.columns[0].nullable);
        assert_eq!(
            t.def.columns[1].data_type,
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        assert_eq!(t.def.columns[2].data_type, DataType::Decimal128(10, 2));
        assert_eq!(t.def.primary_key, vec!["ip"]);
        assert_eq!(t.def.options["path"], "/tmp/a");
        assert_eq!(t.def.options["partition_by"], "ip");
        assert_eq!(t.def.options["csv.header"], "false");
        let w = t.def.watermark.unwrap();
        assert_eq!(w.column, "ts");
        assert!(w.expr.contains("INTERVAL"), "{}", w.expr);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("CREATE TABLE t (\n  a STRNG\n) WITH ('connector'='file')").unwrap_err();
        assert_eq!(e.location, Location { line: 2, column: 5 });
        assert!(e.message.contains("unknown type 'STRNG'"));
        let e = parse("CREATE TABLE t (a STRING) WITH ('path' = 'x')").unwrap_err();
        assert!(e.message.contains("no 'connector'"));
        let e = parse("CREATE TABLE t (a STRING) WITH ('connector' = 'file' 'path' = 'x')")
            .unwrap_err();
        assert!(e.message.contains("expected ')'"), "{}", e.message);
    }
}
