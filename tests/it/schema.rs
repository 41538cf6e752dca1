//! `kthena-sim schema` as editors use it: the names the simulator accepts are its enums
//! (taken from the code's own lists), every shipped scenario validates against it, and
//! values the simulator refuses for their syntax or range are refused by the schema too.
//!
//! The validation is a small validator of the keywords the schema uses, not a full JSON
//! Schema implementation (no validator crate is a dependency): a keyword it does not know
//! fails the test, so that a schema change cannot pass unchecked.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{json, Value};

use super::support::root;
use kthena_sim::engine::EngineVersion;
use kthena_sim::model::presets::PRESETS;
use kthena_sim::model::router::RouterPolicy;
use kthena_sim::workload::TraceFormat;

/// The schema as the binary prints it.
fn schema() -> Value {
    let out = Command::cargo_bin("kthena-sim")
        .expect("binary built")
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn enum_of<'a>(schema: &'a Value, name: &str) -> Vec<&'a str> {
    schema["$defs"][name]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("no enum {name}"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn the_schema_names_every_preset_router_policy_and_engine_version() {
    let schema = schema();
    let presets: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
    assert_eq!(enum_of(&schema, "Preset"), presets);
    assert_eq!(enum_of(&schema, "RouterPolicy"), RouterPolicy::NAMES);
    for name in RouterPolicy::NAMES {
        assert!(name.parse::<RouterPolicy>().is_ok(), "{name}");
    }
    let engines = enum_of(&schema, "EngineVersion");
    let parsed: Vec<EngineVersion> = engines.iter().map(|e| e.parse().unwrap()).collect();
    assert!(parsed.iter().zip(&engines).all(|(v, e)| v.as_str() == *e));
    assert_eq!(engines, ["v0.4", "head"]);
}

/// Every trace format the schema offers is one the trace readers take.
#[test]
fn the_schema_trace_formats_are_read() {
    let schema = schema();
    let formats = schema["$defs"]["TraceFormat"]["oneOf"].as_array().unwrap();
    let names: Vec<&str> = formats.iter().filter_map(|f| f["const"].as_str()).collect();
    assert_eq!(names, ["azure", "generic", "mooncake", "burstgpt"]);
    for name in names {
        let format: Result<TraceFormat, _> = yaml_serde::from_str(name);
        assert!(format.is_ok(), "{name}");
    }
    // The mapped CSV format, the one that is an object.
    assert!(formats.iter().any(|f| f["properties"]["csv"].is_object()));
}

/// The scenario files under `scenarios/`, as JSON (what an editor's YAML server checks).
fn scenarios() -> Vec<(PathBuf, Value)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("scenarios"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let doc: Value = yaml_serde::from_str(&text).unwrap();
            (f, doc)
        })
        .collect()
}

#[test]
fn every_shipped_scenario_validates_against_the_schema() {
    let schema = schema();
    let scenarios = scenarios();
    assert!(scenarios.len() >= 20, "{}", scenarios.len());
    for (file, doc) in scenarios {
        let errors = validate(&schema, &doc);
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

/// Values the simulator refuses, each refused by the schema as well (and by the simulator,
/// checked here too, so that the table cannot drift from the code).
#[test]
fn the_schema_refuses_what_the_simulator_refuses() {
    let schema = schema();
    let base: Value = yaml_serde::from_str(
        &std::fs::read_to_string(root().join("scenarios/steady.yaml")).unwrap(),
    )
    .unwrap();
    assert!(validate(&schema, &base).is_empty());
    let scenarios = root().join("scenarios");
    let read = |doc: &Value| {
        let text = yaml_serde::to_string(doc).unwrap();
        kthena_sim::scenario::parse("case.yaml", &text, &scenarios, &Default::default())
    };
    assert!(read(&base).is_ok(), "{:?}", read(&base).err());
    let serving = |field: &str, value: Value| (format!("/servings/0/{field}"), value);
    let cases = [
        ("/duration".to_string(), json!("1d")),
        ("/duration".to_string(), json!("90")),
        ("/duration".to_string(), json!(90)),
        ("/duration".to_string(), json!("-5s")),
        ("/duration".to_string(), json!("1h 30m")),
        ("/engine".to_string(), json!("v9")),
        ("/router".to_string(), json!({"policy": "fastest"})),
        ("/replications".to_string(), json!(0)),
        serving("server", json!({"preset": "llama2-70b-8xa1000"})),
        serving(
            "server",
            json!({"preset": "llama2-70b-8xa100", "max_num_seqs": 0}),
        ),
        serving(
            "server",
            json!({"preset": "llama2-70b-8xa100", "base_ms": -1}),
        ),
        serving("price_per_gpu_hour", json!(-0.5)),
        serving("price_per_hour", json!(-1)),
        serving("replicas", json!(-1)),
        serving("replicas", json!(10_001)),
        serving("pods_per_server", json!(0)),
        serving("startup", json!({"constant": "2 min"})),
        serving("metrics", json!({"port": 0})),
        (
            "/workload/streams/0/poisson/input_tokens".to_string(),
            json!({"constant": 0}),
        ),
        (
            "/workload/streams/0/poisson/rate".to_string(),
            json!({"constant": -1}),
        ),
        // `p50` is serde's other name for `median`: one of them, not both.
        (
            "/workload/streams/0/poisson/input_tokens".to_string(),
            json!({"lognormal": {"median": 600, "p50": 600, "p99": 4000}}),
        ),
        ("/slo/ttft".to_string(), json!("2 s")),
    ];
    for (pointer, value) in cases {
        let mut doc = base.clone();
        *pointer_mut(&mut doc, &pointer) = value.clone();
        assert!(
            !validate(&schema, &doc).is_empty(),
            "the schema accepts {pointer} = {value}"
        );
        assert!(
            read(&doc).is_err(),
            "the simulator accepts {pointer} = {value}"
        );
    }
    // The other side: forms the schema must let through.
    for (pointer, value) in [
        ("/duration", json!("1h30m")),
        ("/duration", json!("+90m")),
        ("/sync_period", json!("1.5s")),
        ("/first_tick", json!(0)),
        ("/engine", json!("v0.4")),
        ("/router", json!({"policy": "power-of-two"})),
        (
            "/workload/streams/0/poisson/input_tokens",
            json!({"lognormal": {"p50": 600, "p99": 4000}}),
        ),
    ] {
        let mut doc = base.clone();
        *pointer_mut(&mut doc, pointer) = value.clone();
        let errors = validate(&schema, &doc);
        assert!(errors.is_empty(), "{pointer} = {value}: {errors:?}");
        assert!(read(&doc).is_ok(), "{pointer} = {value}");
    }
}

/// The value at a JSON pointer, created (as null) when its last key is missing.
fn pointer_mut<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("{pointer}"));
    match parent {
        Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        Value::Object(map) => map.entry(key).or_insert(Value::Null),
        _ => panic!("{pointer}"),
    }
}

/// The problems of `doc` against `schema`, each with its JSON pointer.
fn validate(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, doc, "", &mut errors);
    errors
}

/// Keywords that only describe.
const ANNOTATIONS: [&str; 7] = [
    "$schema",
    "$defs",
    "title",
    "description",
    "default",
    "examples",
    "format",
];

fn check(root: &Value, node: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(node) = node.as_object() else {
        if node == &Value::Bool(false) {
            errors.push(format!("{at}: not allowed"));
        }
        return;
    };
    for (keyword, arg) in node {
        match keyword.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => {
                let name = arg.as_str().unwrap().strip_prefix("#/$defs/").unwrap();
                let target = &root["$defs"][name];
                assert!(!target.is_null(), "{name} is not defined");
                check(root, target, value, at, errors);
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(t) => vec![t.as_str()],
                    _ => arg
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t.as_str().unwrap())
                        .collect(),
                };
                if !types.iter().any(|t| has_type(value, t)) {
                    fail(errors, at, format!("{value} is not of type {types:?}"));
                }
            }
            "enum" => {
                if !arg.as_array().unwrap().contains(value) {
                    fail(errors, at, format!("{value} is not one of {arg}"));
                }
            }
            "const" => {
                if !same(arg, value) {
                    fail(errors, at, format!("{value} is not {arg}"));
                }
            }
            "pattern" => {
                if let Some(text) = value.as_str() {
                    let pattern = regex::Regex::new(arg.as_str().unwrap()).unwrap();
                    if !pattern.is_match(text) {
                        fail(errors, at, format!("{text:?} does not match {arg}"));
                    }
                }
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                if let Some(x) = value.as_f64() {
                    let bound = arg.as_f64().unwrap();
                    let ok = match keyword.as_str() {
                        "minimum" => x >= bound,
                        "maximum" => x <= bound,
                        "exclusiveMinimum" => x > bound,
                        _ => x < bound,
                    };
                    if !ok {
                        fail(
                            errors,
                            at,
                            format!("{x} is out of range ({keyword} {bound})"),
                        );
                    }
                }
            }
            "required" => {
                if let Some(object) = value.as_object() {
                    for key in arg.as_array().unwrap() {
                        if !object.contains_key(key.as_str().unwrap()) {
                            fail(errors, at, format!("missing {key}"));
                        }
                    }
                }
            }
            "properties" | "additionalProperties" => {
                let Some(object) = value.as_object() else {
                    continue;
                };
                let properties = node.get("properties").and_then(Value::as_object);
                for (key, item) in object {
                    let at = format!("{at}/{key}");
                    match properties.and_then(|p| p.get(key)) {
                        // Each property checked once, under `properties`.
                        Some(sub) if keyword == "properties" => check(root, sub, item, &at, errors),
                        None if keyword == "additionalProperties" => {
                            check(root, arg, item, &at, errors)
                        }
                        _ => {}
                    }
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    check(root, arg, item, &format!("{at}/{i}"), errors);
                }
            }
            "anyOf" | "oneOf" | "allOf" => {
                let matched = arg
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|sub| {
                        let mut sub_errors = Vec::new();
                        check(root, sub, value, at, &mut sub_errors);
                        sub_errors.is_empty()
                    })
                    .count();
                let total = arg.as_array().unwrap().len();
                let ok = match keyword.as_str() {
                    "anyOf" => matched >= 1,
                    "oneOf" => matched == 1,
                    _ => matched == total,
                };
                if !ok {
                    fail(
                        errors,
                        at,
                        format!("{value} matches {matched} of the {keyword} schemas"),
                    );
                }
            }
            other => panic!("{at}: the test's validator does not know `{other}`"),
        }
    }
}

fn fail(errors: &mut Vec<String>, at: &str, message: String) {
    errors.push(format!("{at}: {message}"));
}

/// JSON Schema's types; an integer is any number without a fraction.
fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.as_f64().is_some_and(|x| x.fract() == 0.0),
        other => panic!("unknown type {other}"),
    }
}

/// JSON Schema's equality: numbers by value (`0` equals `0.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}
