//! The reference pages in `docs/` are what the code cites: a comment says which page and which
//! numbered section it follows (a page name such as `engine.md` after `docs/`, then `§10.2`). Every
//! such citation in `src/`, `tests/` and `benches/` must name a page that exists and a section
//! that page has, and no source may cite the documents those pages replaced, which live outside
//! the repository.
//!
//! A section is a heading whose text starts with its number and a period: `## 7. Metric
//! collection`, `### 7.1. Which pods`. A `§N` without a page name refers to the last page named
//! before it in the same file (`docs/engine.md §7.6, §10.1`, or a citation wrapped onto the next
//! comment line).

use super::support::root;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The section numbers of a page: the headings outside code blocks whose text starts with
/// `N.` or `N.M.` (any depth).
fn sections(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let text = line.trim_start_matches('#');
        if !text.starts_with(' ') {
            continue;
        }
        let text = text.trim_start();
        let number: String = text
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if let Some(n) = number.strip_suffix('.') {
            if !n.is_empty() && text[number.len()..].starts_with(' ') {
                out.push(n.to_string());
            }
        }
    }
    out
}

/// Every page in `docs/` with its sections.
fn pages() -> BTreeMap<String, BTreeSet<String>> {
    let dir = root().join("docs");
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(&dir).expect("docs/ exists") {
        let path = entry.expect("readable docs/").path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = fs::read_to_string(&path).expect("readable page");
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            out.insert(name, sections(&text).into_iter().collect());
        }
    }
    out
}

/// The Rust files under `dir`, fixtures aside.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("readable folder").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "fixtures") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files whose citations are checked: every Rust file of `src/`, `tests/` and `benches/`
/// but this one, whose examples are not citations.
fn sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["src", "tests", "benches"] {
        rust_files(&root().join(dir), &mut out);
    }
    out.retain(|p| !p.ends_with("tests/it/docs.rs"));
    out.sort();
    out
}

/// One citation: the line, the page (`None`: a `§` before any page was named) and the section.
#[derive(Debug)]
struct Citation {
    line: usize,
    page: Option<String>,
    section: Option<String>,
}

const PREFIX: &str = "docs/";

fn citations(text: &str) -> Vec<Citation> {
    let mut out = Vec::new();
    let mut page: Option<String> = None;
    let mut line = 1;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with(PREFIX) {
            let after = &rest[PREFIX.len()..];
            let stem: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if !stem.is_empty() && after[stem.len()..].starts_with(".md") {
                let name = format!("{stem}.md");
                out.push(Citation {
                    line,
                    page: Some(name.clone()),
                    section: None,
                });
                page = Some(name);
                rest = &after[stem.len() + 3..];
                continue;
            }
        }
        if c == '§' {
            let after = &rest[c.len_utf8()..];
            let number: String = after
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.').to_string();
            out.push(Citation {
                line,
                page: page.clone(),
                section: Some(number),
            });
        }
        if c == '\n' {
            line += 1;
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_docs_citation_names_an_existing_page_and_section() {
    let pages = pages();
    let mut bad = Vec::new();
    let mut checked = 0;
    for path in sources() {
        let text = fs::read_to_string(&path).expect("readable source");
        for c in citations(&text) {
            let at = format!("{}:{}", relative(&path), c.line);
            let Some(page) = &c.page else {
                bad.push(format!("{at}: § with no docs page named before it"));
                continue;
            };
            let Some(sections) = pages.get(page) else {
                bad.push(format!("{at}: docs/{page} does not exist"));
                continue;
            };
            match &c.section {
                Some(s) if s.is_empty() => bad.push(format!("{at}: § without a number")),
                Some(s) if !sections.contains(s) => {
                    bad.push(format!("{at}: docs/{page} has no section {s}"))
                }
                _ => checked += 1,
            }
        }
    }
    assert!(bad.is_empty(), "broken citations:\n{}", bad.join("\n"));
    assert!(
        checked > 50,
        "only {checked} citations found: is the scan broken?"
    );
}

/// The documents the pages replaced, as code used to cite them.
fn retired() -> Vec<String> {
    ["engine", "simulator", "model-rules", "FORMAT"]
        .iter()
        .map(|n| format!("{n}.md"))
        .chain(std::iter::once(["shared", "spec"].join("/")))
        .collect()
}

#[test]
fn no_source_cites_documents_outside_the_repository() {
    let retired = retired();
    let mut bad = Vec::new();
    for path in sources() {
        let text = fs::read_to_string(&path).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            for name in &retired {
                let mut from = 0;
                while let Some(i) = line[from..].find(name.as_str()) {
                    let at = from + i;
                    if !line[..at].ends_with(PREFIX) {
                        bad.push(format!("{}:{}: {}", relative(&path), n + 1, line.trim()));
                    }
                    from = at + name.len();
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "cite docs/<page>.md §N instead:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_page_numbers_its_sections_once() {
    let dir = root().join("docs");
    for name in pages().keys() {
        let text = fs::read_to_string(dir.join(name)).expect("readable page");
        let all = sections(&text);
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(
            all.len(),
            unique.len(),
            "docs/{name} repeats a section number"
        );
    }
    let engine = &pages()["engine.md"];
    for s in ["1", "7.1", "10.2", "13.4", "14"] {
        assert!(engine.contains(s), "docs/engine.md lost section {s}");
    }
}

#[test]
fn the_scan_reads_citations_as_written() {
    let text = "//! See docs/engine.md §7.6, §10.1 and\n//! §4.1-§4.4; docs/world.md §2.\n";
    let found: Vec<(usize, Option<String>, Option<String>)> = citations(text)
        .into_iter()
        .map(|c| (c.line, c.page, c.section))
        .collect();
    let e = || Some("engine.md".to_string());
    let s = |n: &str| Some(n.to_string());
    assert_eq!(
        found,
        vec![
            (1, e(), None),
            (1, e(), s("7.6")),
            (1, e(), s("10.1")),
            (2, e(), s("4.1")),
            (2, e(), s("4.4")),
            (2, Some("world.md".to_string()), None),
            (2, Some("world.md".to_string()), s("2")),
        ]
    );
    assert_eq!(
        sections("# Title\n## 2. A\n### 2.1. B\n```\n# 3. not a heading\n```\n## Notes\n"),
        ["2", "2.1"]
    );
}
