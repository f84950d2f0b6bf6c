//! An error in a SQL file as the user sees it: `file:line:col: error: ...`, the line itself
//! with a caret under the column, and a hint.

use crate::error::Location;

/// Renders a located message like rustc does.
pub fn render(
    file: &str,
    source: &str,
    loc: Location,
    message: &str,
    hint: Option<&str>,
) -> String {
    let mut out = format!("{file}:{}:{}: error: {message}", loc.line, loc.column);
    if let Some(line) = source.lines().nth(loc.line.saturating_sub(1) as usize) {
        let gutter = loc.line.to_string().len();
        let caret_pad: String = line
            .chars()
            .take(loc.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(&format!(
            "\n{:gutter$} |\n{} | {line}\n{:gutter$} | {caret_pad}^",
            "", loc.line, ""
        ));
    }
    if let Some(h) = hint {
        out.push_str(&format!("\n  = hint: {h}"));
    }
    out
}
