//! The crate's layers stay one-way: every `crate::X` a top-level module names in its
//! non-test code is one of the modules the table below lets it use, and the README's "Code
//! layout" table says the same. Test code (`#[cfg(test)] mod …` blocks and `*tests.rs` files)
//! may build its fixtures from higher layers (a world test parses a scenario) and is not
//! checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and the modules it may use (space-separated), from the
/// bottom up.
const LAYERS: &[(&str, &str)] = &[
    ("sim", ""),
    ("text", ""),
    ("diagnostic", ""),
    ("stats", ""),
    ("outputs", "stats"),
    ("engine", ""),
    ("hpa", "sim"),
    ("kpa", "sim"),
    ("keda", "hpa sim"),
    ("kthena", "diagnostic engine hpa keda kpa sim text"),
    ("workload", "diagnostic engine sim text"),
    ("golden", "engine"),
    ("replay", "diagnostic engine golden kthena"),
    (
        "model",
        "diagnostic engine golden hpa keda kpa kthena outputs sim workload",
    ),
    (
        "scenario",
        "diagnostic engine hpa keda kpa kthena model outputs sim stats text workload",
    ),
    ("calibrate", "diagnostic model outputs sim text"),
    ("report", "engine model outputs scenario sim stats workload"),
    ("chart", "outputs stats"),
    (
        "experiment",
        "diagnostic model outputs report scenario sim stats text workload",
    ),
    (
        "plan",
        "diagnostic engine experiment outputs report scenario stats text",
    ),
    (
        "prom",
        "chart engine golden model outputs replay sim workload",
    ),
    (
        "fuzzing",
        "diagnostic engine golden kthena model outputs replay report scenario sim stats text \
         workload",
    ),
    (
        "cli",
        "calibrate chart diagnostic engine experiment golden kthena model outputs plan prom replay \
         report scenario sim stats text workload",
    ),
];

/// The modules `module`'s row lets it use.
fn uses(row: &str) -> BTreeSet<&str> {
    row.split_whitespace().collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `text` without `#[cfg(test)] mod … { … }` blocks and `//` comments.
fn non_test_code(text: &str) -> String {
    let mut code = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find('{') else {
            rest = "";
            break;
        };
        // A test-only item that is not a block (`#[cfg(test)] use …;`, `mod tests;`) ends at
        // its semicolon.
        if let Some(semi) = after.find(';').filter(|&s| s < open) {
            rest = &after[semi + 1..];
            continue;
        }
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    code.push_str(rest);
    code.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names as `crate::X` or `crate::{X, Y::…}`.
fn used_modules(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut used = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let after = &code[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // Top-level names of the group: after `{` and after each `,` at depth 0.
            let mut depth = 0usize;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start => {
                        used.insert(ident(&group[i..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            used.insert(ident(after));
        }
    }
    used.remove("");
    used.remove("self");
    used
}

/// Every top-level module's uses of other top-level modules, from `src/`.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src()).expect("under src");
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name == "tests.rs" || name.ends_with("_tests.rs") {
            continue;
        }
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("readable source");
        let mut used = used_modules(&non_test_code(&text));
        used.remove(&top);
        edges.entry(top).or_default().extend(used);
    }
    edges
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        LAYERS.iter().map(|(m, row)| (*m, uses(row))).collect();
    let mut problems = Vec::new();
    for (module, uses) in edges() {
        let Some(ok) = allowed.get(module.as_str()) else {
            problems.push(format!("src/{module} is not in the layer table"));
            continue;
        };
        for u in uses {
            if !ok.contains(u.as_str()) {
                problems.push(format!("{module} uses {u}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_table_only_points_down() {
    for (i, (module, row)) in LAYERS.iter().enumerate() {
        for u in uses(row) {
            let below = LAYERS[..i].iter().any(|(m, _)| *m == u);
            assert!(below, "{module} may use {u}, which is not below it");
        }
    }
}

#[test]
fn the_readme_shows_the_same_layers() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## Code layout\n")
        .nth(1)
        .expect("a Code layout section");
    // Rows `| `module` | what it holds | `a`, `b` |` of the section's table.
    let mut shown: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in section.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 || !cells[1].starts_with('`') {
            continue;
        }
        let module = cells[1].trim_matches('`').trim_matches('/').to_string();
        let uses = cells[3]
            .split(',')
            .map(|u| u.trim().trim_matches('`').to_string())
            .filter(|u| !u.is_empty() && u != "–")
            .collect();
        shown.insert(module, uses);
    }
    let table: BTreeMap<String, BTreeSet<String>> = LAYERS
        .iter()
        .map(|(m, row)| {
            (
                m.to_string(),
                uses(row).into_iter().map(String::from).collect(),
            )
        })
        .collect();
    assert_eq!(
        shown, table,
        "README's Code layout table differs from the layer table"
    );
}

#[test]
fn the_parser_sees_grouped_and_plain_uses() {
    let code = "use crate::{engine::policy::{A, B}, sim};\nfn f() { crate::model::x(); }\n\
                #[cfg(test)]\nmod tests { use crate::cli; }\n// crate::plan\n";
    let used = used_modules(&non_test_code(code));
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["engine", "model", "sim"]
    );
}

#[test]
fn the_crate_doc_shows_the_readme_picture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("lib.rs");
    let section = readme.split("\n## Code layout\n").nth(1).expect("section");
    let start = section.find("```text\n").expect("a picture") + "```text\n".len();
    let picture = &section[start..start + section[start..].find("```").expect("end")];
    let doc: String = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    assert!(
        doc.contains(picture),
        "src/lib.rs's doc lacks the README's picture"
    );
}
