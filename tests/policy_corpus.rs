//! Runs the data-driven Conditional Access corpus in `tests/corpus/policy/*.json` through the
//! JSON entry points the JS package and the Worker call (`evaluate_json`, `what_if_json`,
//! `validate_policies_json`), so the corpus tests exactly what ships.
//!
//! A corpus file holds shared `policies`, `namedLocations` and `signInDefaults`, then:
//! - `cases`: either enforcement (`signIn`, optional `satisfied` and `now`; `expect` with
//!   `decision`, `blockedBy`, `require`, `results`, `reasons`, `unmet`) or What If
//!   (`whatIf` = the Graph evaluate body, optional `directory`; `expect` = the listed
//!   `[id, policyApplies, analysisReasons]` triples in order);
//! - `invalid`: inputs (`input` object or raw `inputText`) whose validation must report
//!   exactly the listed `{code, target}` problems (in any order).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test harness: a broken corpus file must fail loudly"
)]

use serde_json::{Map, Value, json};
use std::fs;
use std::path::Path;
use vestibule::policy::{evaluate_json, validate_policies_json, what_if_json};

const DEFAULT_NOW: u64 = 1_000_000;

#[test]
fn policy_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/policy");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = fs::read_to_string(file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        checked += run_file(&name, &doc, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        files.len() >= 30,
        "expected at least 30 corpus files, found {}",
        files.len()
    );
    assert!(checked >= 150, "only {checked} corpus cases ran");
}

fn run_file(file: &str, doc: &Value, failures: &mut Vec<String>) -> usize {
    let mut count = 0;
    for case in doc
        .get("cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = format!("{file} / {}", case["name"].as_str().unwrap_or("?"));
        let result = if case.get("whatIf").is_some() {
            what_if_case(doc, case)
        } else {
            enforcement_case(doc, case)
        };
        if let Err(why) = result {
            failures.push(format!("{name}: {why}"));
        }
        count += 1;
    }
    for case in doc
        .get("invalid")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = format!("{file} / {}", case["name"].as_str().unwrap_or("?"));
        if let Err(why) = invalid_case(doc, case) {
            failures.push(format!("{name}: {why}"));
        }
        count += 1;
    }
    assert!(count > 0, "{file} has no cases");
    count
}

fn shared(doc: &Value, case: &Value, key: &str) -> Value {
    case.get(key)
        .or_else(|| doc.get(key))
        .cloned()
        .unwrap_or_else(|| json!([]))
}

fn enforcement_case(doc: &Value, case: &Value) -> Result<(), String> {
    let mut sign_in: Map<String, Value> = doc
        .get("signInDefaults")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in case["signIn"]
        .as_object()
        .ok_or("signIn must be an object")?
    {
        sign_in.insert(k.clone(), v.clone());
    }
    let now = case
        .get("now")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_NOW);
    let satisfied = case
        .get("satisfied")
        .cloned()
        .unwrap_or_else(|| json!([{"method": "password", "at": now}]));
    let input = json!({
        "policies": shared(doc, case, "policies"),
        "namedLocations": shared(doc, case, "namedLocations"),
        "signIn": sign_in,
        "satisfied": satisfied,
        "now": now,
    });
    let out: Value =
        serde_json::from_str(&evaluate_json(&input.to_string())).map_err(|e| e.to_string())?;
    let expect = &case["expect"];
    if let Some(error) = expect.get("error") {
        return same("error", &pick(&out["error"], &["code", "target"]), error);
    }
    if out.get("error").is_some() {
        return Err(format!("unexpected error {}", out["error"]));
    }
    let decision = &out["decision"];
    if let Some(kind) = expect.get("decision") {
        same("decision", &decision["type"], kind)?;
    }
    if let Some(ids) = expect.get("blockedBy") {
        same("blockedBy", &decision["policyIds"], ids)?;
    }
    if let Some(req) = expect.get("require").and_then(Value::as_object) {
        for (k, v) in req {
            same(&format!("require.{k}"), &decision[k.as_str()], v)?;
        }
    }
    let results: Vec<&Value> = out["policies"]
        .as_array()
        .ok_or("no policies")?
        .iter()
        .collect();
    let by_id = |id: &str| results.iter().find(|r| r["id"] == id).copied();
    for (field, key) in [
        ("results", "result"),
        ("reasons", "reasons"),
        ("unmet", "unmetControls"),
    ] {
        for (id, want) in expect
            .get(field)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let got = by_id(id).ok_or_else(|| format!("no result for policy `{id}`"))?;
            let got = got.get(key).cloned().unwrap_or_else(|| json!([]));
            same(&format!("{field}.{id}"), &got, want)?;
        }
    }
    Ok(())
}

fn what_if_case(doc: &Value, case: &Value) -> Result<(), String> {
    let mut input = json!({
        "policies": shared(doc, case, "policies"),
        "namedLocations": shared(doc, case, "namedLocations"),
        "request": case["whatIf"],
    });
    if let Some(d) = case.get("directory") {
        input["directory"] = d.clone();
    }
    let out: Value =
        serde_json::from_str(&what_if_json(&input.to_string())).map_err(|e| e.to_string())?;
    let expect = &case["expect"];
    if let Some(error) = expect.get("error") {
        return same("error", &pick(&out["error"], &["code", "target"]), error);
    }
    let value = out["value"]
        .as_array()
        .ok_or_else(|| format!("no value in {out}"))?;
    let policies = shared(doc, case, "policies");
    let mut triples = Vec::new();
    for item in value {
        // Each item is the policy object as given, plus the two What If fields.
        let mut echoed = item.as_object().cloned().unwrap_or_default();
        let applies = echoed.remove("policyApplies").unwrap_or(Value::Null);
        let reason = echoed.remove("analysisReasons").unwrap_or(Value::Null);
        let source = policies
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["id"] == item["id"]));
        if source != Some(&Value::Object(echoed)) {
            return Err(format!("policy `{}` is not echoed as given", item["id"]));
        }
        triples.push(json!([item["id"], applies, reason]));
    }
    same("whatIf", &Value::Array(triples), &expect["listed"])
}

fn invalid_case(doc: &Value, case: &Value) -> Result<(), String> {
    let text = match (case.get("inputText"), case.get("input")) {
        (Some(t), _) => t.as_str().ok_or("inputText must be a string")?.to_string(),
        (None, Some(i)) => i.to_string(),
        (None, None) => json!({
            "policies": shared(doc, case, "policies"),
            "namedLocations": shared(doc, case, "namedLocations"),
        })
        .to_string(),
    };
    let out: Value =
        serde_json::from_str(&validate_policies_json(&text)).map_err(|e| e.to_string())?;
    same("valid", &out["valid"], &json!(false))?;
    // The same problems, in any order.
    let sorted = |list: &Value| {
        let mut v: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| pick(e, &["code", "target"]).to_string())
            .collect();
        v.sort();
        v
    };
    let (got, want) = (sorted(&out["errors"]), sorted(&case["errors"]));
    if got == want {
        Ok(())
    } else {
        Err(format!("errors: expected {want:?}, got {got:?}"))
    }
}

fn pick(v: &Value, keys: &[&str]) -> Value {
    let mut out = Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            out.insert((*k).to_string(), x.clone());
        }
    }
    Value::Object(out)
}

fn same(what: &str, got: &Value, want: &Value) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: expected {want}, got {got}"))
    }
}
