//! The project's rule on short pieces, checked: no Rust function in `src/` over 80 lines
//! and no JS function in `www/` over 60, counted from the line that opens it to the line
//! that closes it (rustfmt and the JS style put the closing brace alone on a line at the
//! opening line's indentation). A pipeline should read as its named stages.

use std::path::{Path, PathBuf};

const MAX_RUST_LINES: usize = 80;
const MAX_JS_LINES: usize = 60;

/// Files under `dir` whose name ends with `ext`, skipping build output.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with("pkg") && name != "node_modules" {
            out.extend(files(&path, ext));
        } else if name.ends_with(ext) {
            out.push(path);
        }
    }
    out
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether `line` opens a Rust function with a body.
fn opens_rust_function(line: &str) -> bool {
    let t = line.trim_start();
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub(super) "))
        .or_else(|| t.strip_prefix("pub "))
        .unwrap_or(t);
    let t = t.strip_prefix("const ").unwrap_or(t);
    let t = t.strip_prefix("async ").unwrap_or(t);
    t.starts_with("fn ") && !line.trim_end().ends_with(';')
}

/// Whether `line` opens a JS function, method or arrow function with a block body.
fn opens_js_function(line: &str) -> bool {
    let t = line.trim_start();
    let t = t.strip_prefix("export ").unwrap_or(t);
    let t = t.strip_prefix("async ").unwrap_or(t);
    let t = t.strip_prefix("static ").unwrap_or(t);
    let control = [
        "if ", "if(", "for ", "for(", "while ", "switch ", "catch ", "} ", "return ",
    ];
    if control.iter().any(|c| t.starts_with(c)) || !line.trim_end().ends_with('{') {
        return false;
    }
    let arrow = t.contains("=> {") && (t.starts_with("const ") || t.starts_with("let "));
    let method = t
        .split('(')
        .next()
        .is_some_and(|head| !head.is_empty() && head.split_whitespace().count() <= 2)
        && t.contains(") {");
    t.starts_with("function") || arrow || method
}

/// `(first line, length)` of each function that `opens` finds in `text`.
fn functions(text: &str, opens: fn(&str) -> bool) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !opens(line) {
            continue;
        }
        let indent = indentation(line);
        let end = lines[i + 1..].iter().position(|l| {
            l.trim_start().starts_with('}') && indentation(l) == indent && !l.trim().is_empty()
        });
        if let Some(end) = end {
            out.push((i + 1, end + 2));
        }
    }
    out
}

/// Every function over `max` lines in the files under `dir` ending with `ext`.
fn too_long(dir: &str, ext: &str, max: usize, opens: fn(&str) -> bool) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut found = Vec::new();
    for path in files(&root, ext) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (line, length) in functions(&text, opens) {
            if length > max {
                found.push(format!("{}:{line}: {length} lines", path.display()));
            }
        }
    }
    found
}

#[test]
fn no_rust_function_is_over_80_lines() {
    let found = too_long("src", ".rs", MAX_RUST_LINES, opens_rust_function);
    assert!(
        found.is_empty(),
        "functions over {MAX_RUST_LINES} lines:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_js_function_is_over_60_lines() {
    let found = too_long("www", ".js", MAX_JS_LINES, opens_js_function);
    assert!(
        found.is_empty(),
        "functions over {MAX_JS_LINES} lines:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_counter_finds_a_long_function() {
    let body = "    let x = 1;\n".repeat(90);
    let rust = format!("pub fn long() {{\n{body}}}\n\nfn short() {{\n}}\n");
    assert_eq!(functions(&rust, opens_rust_function), [(1, 92), (94, 2)]);
    let js = format!("function long() {{\n{body}}}\n  method(a, b) {{\n  }}\n");
    assert_eq!(functions(&js, opens_js_function), [(1, 92), (93, 2)]);
}
