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
    c.expect_keyword(Keyword::CREATE)?;
    c.eat_keyword(Keyword::TEMPORARY);
    c.expect_keyword(Keyword::TABLE)?;
    let if_not_exists = if c.eat_keyword(Keyword::IF) {
        c.expect_keyword(Keyword::NOT)?;
        c.expect_keyword(Keyword::EXISTS)?;
        true
    } else {
        false
    };
    let name = c.identifier("a table name")?;
    if c.eat(&Token::Period) {
        return c.error(
            "qualified table names are not supported",
            Some("write the bare table name"),
        );
    }
    c.expect(&Token::LParen)?;
    let mut columns = Vec::new();
    let mut primary_key = Vec::new();
    let mut watermark = None;
    loop {
        if c.eat_keyword(Keyword::PRIMARY) {
            c.expect_keyword(Keyword::KEY)?;
            primary_key = c.identifier_list("a key column")?;
            if c.eat_keyword(Keyword::NOT) {
                c.expect_keyword(Keyword::ENFORCED)?;
            }
        } else if c.eat_word("WATERMARK") {
            c.expect_keyword(Keyword::FOR)?;
            let column = c.identifier("the event-time column")?;
            c.expect_keyword(Keyword::AS)?;
            let at = c.location();
            let expr = c.raw_until_comma_or_close();
            if expr.is_empty() {
                return Err(Located {
                    location: at,
                    message: "WATERMARK needs an expression".into(),
                    hint: Some(format!(
                        "e.g. WATERMARK FOR {column} AS {column} - INTERVAL '5' SECOND"
                    )),
                });
            }
            watermark = Some(WatermarkDef { column, expr });
        } else {
            let col_at = c.location();
            let col = c.identifier("a column name, PRIMARY KEY or WATERMARK")?;
            if c.is_keyword(Keyword::AS) {
                return c.error(
                    format!("computed column '{col}' is not supported"),
                    Some("compute it in a view or in the query instead"),
                );
            }
            let type_at = c.location();
            let mut type_text = Vec::new();
            let mut nullable = true;
            let mut depth = 0usize;
            while let Some(t) = c.peek() {
                match t {
                    Token::LParen => depth += 1,
                    Token::RParen if depth == 0 => break,
                    Token::RParen => depth -= 1,
                    Token::Comma if depth == 0 => break,
                    Token::Word(w) if depth == 0 && w.keyword == Keyword::NOT => {
                        c.next();
                        c.expect_keyword(Keyword::NULL)?;
                        nullable = false;
                        continue;
                    }
                    Token::Word(w) if depth == 0 && w.keyword == Keyword::NULL => {
                        c.next();
                        continue;
                    }
                    Token::Word(w) if depth == 0 && w.keyword == Keyword::COMMENT => {
                        c.next();
                        if c.string_literal().is_none() {
                            return c.error("COMMENT needs a quoted string", None);
                        }
                        continue;
                    }
                    _ => {}
                }
                type_text.push(t.to_string());
                c.next();
            }
            if type_text.is_empty() {
                return Err(Located {
                    location: type_at,
                    message: format!("column '{col}' has no type"),
                    hint: Some("e.g. `line STRING` or `event_time TIMESTAMP_LTZ(3)`".into()),
                });
            }
            let data_type = parse_sql_type(&type_text.join(" ")).map_err(|m| Located {
                location: type_at,
                message: m,
                hint: None,
            })?;
            if columns.iter().any(|x: &ColumnDef| x.name == col) {
                return Err(Located {
                    location: col_at,
                    message: format!("column '{col}' is declared twice"),
                    hint: None,
                });
            }
            columns.push(ColumnDef {
                name: col,
                data_type,
                nullable,
            });
        }
        if c.eat(&Token::Comma) {
            continue;
        }
        c.expect(&Token::RParen)?;
        break;
    }
    let mut options = BTreeMap::new();
    let mut description = None;
    loop {
        if c.eat_keyword(Keyword::COMMENT) {
            description = c.string_literal();
        } else if c.eat_keyword(Keyword::PARTITIONED) {
            c.expect_keyword(Keyword::BY)?;
            options.insert(
                "partition_by".to_string(),
                c.identifier_list("a partition column")?.join(","),
            );
        } else if c.eat_keyword(Keyword::WITH) {
            c.expect(&Token::LParen)?;
            loop {
                let key_at = c.location();
                let key = match c.string_literal() {
                    Some(k) => k,
                    None => {
                        let mut k = c.identifier("an option name like 'connector'")?;
                        while c.eat(&Token::Period) {
                            k.push('.');
                            k.push_str(&c.identifier("an option name")?);
                        }
                        k
                    }
                };
                c.expect(&Token::Eq)?;
                let value = match c.next() {
                    Some(Token::SingleQuotedString(s)) => s.clone(),
                    Some(Token::Number(n, _)) => n.clone(),
                    Some(Token::Word(w)) => w.value.clone(),
                    _ => {
                        c.pos -= 1;
                        return c.error(
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
                if c.eat(&Token::Comma) {
                    continue;
                }
                c.expect(&Token::RParen)?;
                break;
            }
        } else {
            break;
        }
    }
    if c.peek().is_some() {
        return c.error(
            format!("unexpected {} after the table definition", c.describe()),
            Some("the order is: (columns) [COMMENT '..'] [PARTITIONED BY (..)] WITH (..)"),
        );
    }
    if !options.contains_key("connector") {
        return Err(Located {
            location: stmt.start,
            message: format!("table '{name}' has no 'connector' option"),
            hint: Some("add WITH ('connector' = 'file', 'path' = '...', 'format' = '...')".into()),
        });
    }
    if let Some(w) = &watermark
        && !columns.iter().any(|col: &ColumnDef| col.name == w.column)
    {
        return Err(Located {
            location: stmt.start,
            message: format!("WATERMARK FOR '{}': no such column", w.column),
            hint: None,
        });
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
