//! The layering of `engine/src` stated in `lib.rs` holds: every `crate::` path of a source
//! file names its own layer's earlier modules or a lower layer, and no two files import
//! each other, directly or round a loop. (Test modules at the end of a file are not read.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module name → (layer, position in the listing), from lib.rs's numbered list.
fn layers(lib: &str) -> BTreeMap<String, (usize, usize)> {
    let mut out = BTreeMap::new();
    let mut position = 0;
    for line in lib.lines() {
        let Some(item) = line.strip_prefix("//! ") else {
            continue;
        };
        let Some((number, rest)) = item.split_once(". ") else {
            continue;
        };
        let Ok(layer) = number.trim().parse::<usize>() else {
            continue;
        };
        let names = rest.split(" — ").next().unwrap_or("");
        for name in names.split(',') {
            let name = name.trim().trim_matches('`');
            if !name.is_empty() {
                out.insert(name.to_string(), (layer, position));
                position += 1;
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's module path: `exec/stream/runner.rs` → [exec, stream, runner].
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The source without comments and without the test module at its end.
fn code_of(text: &str) -> String {
    let body = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    body.lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands a `use` tree (`a::{b, c::{d}}`) into paths.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![path.to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|i| !i.trim().is_empty())
        .flat_map(|i| {
            expand(i)
                .into_iter()
                .map(|p| match p.as_str() {
                    "self" => prefix.trim_end_matches("::").to_string(),
                    _ => format!("{prefix}{p}"),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every module path a file refers to, absolute (`crate::` dropped, `super::` resolved);
/// re-exports (`pub use`) are the module's face, not its dependencies.
fn references(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut others = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = &rest[..at];
        let starts_statement = before
            .chars()
            .last()
            .is_none_or(|c| c.is_whitespace() || c == ';' || c == '{' || c == '}');
        let end = match rest[at..].find(';') {
            Some(end) if starts_statement => end,
            _ => {
                others.push_str(&rest[..at + 4]);
                rest = &rest[at + 4..];
                continue;
            }
        };
        let public = before.trim_end().ends_with("pub") || before.trim_end().ends_with(')');
        if !public {
            paths.extend(expand(&rest[at + 4..at + end]));
        }
        others.push_str(before);
        rest = &rest[at + end..];
    }
    others.push_str(rest);
    // Paths written out in code: `crate::wire::untag_split(...)`.
    let mut rest = others.as_str();
    while let Some(at) = rest.find("crate::") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        paths.push(tail[..end].trim_end_matches(':').to_string());
        rest = &tail[end..];
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let segments: Vec<&str> = p.split("::").map(str::trim).collect();
            let mut absolute: Vec<String> = Vec::new();
            let mut iter = segments.iter().peekable();
            match iter.peek().copied() {
                Some(&"crate") => {
                    iter.next();
                }
                Some(&"super") => {
                    absolute = module.to_vec();
                    while iter.peek() == Some(&&"super") {
                        iter.next();
                        absolute.pop();
                    }
                }
                Some(&"self") => {
                    iter.next();
                    absolute = module.to_vec();
                }
                _ => return None,
            }
            absolute.extend(iter.map(|s| s.to_string()));
            (!absolute.is_empty()).then_some(absolute)
        })
        .collect()
}

/// The file a module path lands in: the longest prefix that is a file.
fn file_of(path: &[String], files: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| files.contains(p))
}

struct Graph {
    /// File → the files it uses, each with the path that does it.
    edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
    layer_errors: Vec<String>,
}

fn read_graph() -> Graph {
    let root = src();
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    let layers = layers(&lib);
    assert!(
        layers.len() >= 10,
        "lib.rs lists too few modules: {layers:?}"
    );
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    let mut sources = BTreeMap::new();
    for path in &paths {
        let rel = path.strip_prefix(&root).unwrap();
        if rel == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        sources.insert(module_of(rel), (rel.display().to_string(), code_of(&text)));
    }
    let files: BTreeSet<Vec<String>> = sources.keys().cloned().collect();
    let mut graph = Graph {
        edges: BTreeMap::new(),
        layer_errors: Vec::new(),
    };
    for (module, (name, code)) in &sources {
        let Some(top) = module.first() else { continue };
        let Some(&own) = layers.get(top) else {
            graph.layer_errors.push(format!(
                "{name}: module '{top}' is not in lib.rs's list of layers"
            ));
            continue;
        };
        for used in references(code, module) {
            let target = &used[0];
            if target == top {
                // Within a module, files may use one another (cycles are checked below).
            } else if let Some(&theirs) = layers.get(target)
                && (theirs.0 > own.0 || (theirs.0 == own.0 && theirs.1 > own.1))
            {
                graph.layer_errors.push(format!(
                    "{name}: uses crate::{} (layer {} `{target}`), above its own layer {} `{top}`",
                    used.join("::"),
                    theirs.0,
                    own.0
                ));
            }
            if let Some(file) = file_of(&used, &files)
                && &file != module
            {
                graph
                    .edges
                    .entry(module.clone())
                    .or_default()
                    .entry(file)
                    .or_insert_with(|| used.join("::"));
            }
        }
    }
    graph
}

/// A loop of files, if there is one: depth first, a file reached again while on the path.
fn find_cycle(edges: &BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>) -> Option<Vec<String>> {
    fn visit(
        at: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
        done: &mut BTreeSet<Vec<String>>,
        path: &mut Vec<Vec<String>>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|p| p == at) {
            let mut cycle: Vec<String> = path[start..].iter().map(|p| p.join("/")).collect();
            cycle.push(at.join("/"));
            return Some(cycle);
        }
        if !done.insert(at.clone()) {
            return None;
        }
        path.push(at.clone());
        for next in edges.get(at).into_iter().flat_map(|e| e.keys()) {
            if let Some(c) = visit(next, edges, done, path) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        if let Some(c) = visit(start, edges, &mut done, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn every_import_goes_down_the_layers_of_lib_rs() {
    let graph = read_graph();
    assert!(
        graph.layer_errors.is_empty(),
        "imports against the layers in lib.rs:\n{}",
        graph.layer_errors.join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let graph = read_graph();
    assert!(!graph.edges.is_empty());
    if let Some(cycle) = find_cycle(&graph.edges) {
        panic!("files that import one another: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_reader_resolves_use_trees_and_relative_paths() {
    let module = vec![
        "exec".to_string(),
        "stream".to_string(),
        "runner".to_string(),
    ];
    let code = "use super::{aggregate::WindowAggregate, slot::Slot};\n\
                pub use crate::wire::Barrier;\n\
                use crate::checkpoint::{self, CheckpointStore};\n\
                fn f() { crate::job::ExecMode::Batch; }";
    let refs = references(code, &module);
    let joined: Vec<String> = refs.iter().map(|r| r.join("::")).collect();
    assert_eq!(
        joined,
        [
            "exec::stream::aggregate::WindowAggregate",
            "exec::stream::slot::Slot",
            "checkpoint",
            "checkpoint::CheckpointStore",
            "job::ExecMode::Batch",
        ]
    );
}
