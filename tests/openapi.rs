//! The dialects' OpenAPI 3.1 documents: every route of every table is in its dialect's document
//! with the methods it serves, the document is well formed where the tests can tell (external
//! validators and schemathesis judge the rest in CI), the ops listener serves it with the
//! dialect's own address and prefix, and `rosetta openapi <dialect>` prints the same thing.

mod support;

use std::collections::BTreeSet;
use std::process::Command;

use rosetta::dialects::kit::openapi::{self, Operation};
use rosetta::dialects::kit::routes::placeholders;
use rosetta::ops::openapi::{render, server_url};
use serde_json::Value;
use support::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_rosetta");

fn operation_of<'a>(document: &'a Value, path: &str, method: &str) -> Option<&'a Value> {
    document["paths"]
        .get(path)?
        .get(method.to_ascii_lowercase())
}

#[test]
fn every_route_and_method_is_in_its_dialects_document() {
    for spec in rosetta::dialects::registry() {
        let document = openapi::document(spec, "http://127.0.0.1:1");
        assert_eq!(document["openapi"], "3.1.0");
        let mut expected_operations = 0;
        for route in spec.routes {
            let operation: Operation = (route.describe)();
            let path = openapi::openapi_path(route, &operation).unwrap_or_else(|| {
                panic!(
                    "{} {}: a placeholder is neither a declared path parameter nor a spelling",
                    spec.id, route.path
                )
            });
            let in_template: BTreeSet<&str> = placeholders(&path).iter().map(|p| p.name).collect();
            let declared: BTreeSet<&str> = operation.path.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(
                in_template, declared,
                "{} {}: path parameters of the document",
                spec.id, route.path
            );
            for method in route.methods {
                expected_operations += 1;
                let rendered = operation_of(&document, &path, method).unwrap_or_else(|| {
                    panic!("{} {method} {path} is not in the document", spec.id)
                });
                assert!(
                    rendered["description"]
                        .as_str()
                        .is_some_and(|d| d.contains(route.source)),
                    "{} {method} {path} cites its document section",
                    spec.id
                );
                let responses = rendered["responses"].as_object().unwrap();
                assert!(
                    responses.contains_key("default"),
                    "{} {method} {path}: no default answer (the dialect's envelope for the rest)",
                    spec.id
                );
                for (status, answer) in responses {
                    assert!(
                        status == "default" || status.parse::<u16>().is_ok(),
                        "{status}"
                    );
                    assert!(answer["description"].is_string());
                }
                for parameter in rendered["parameters"].as_array().into_iter().flatten() {
                    let place = parameter["in"].as_str().unwrap();
                    assert!(["path", "query", "header", "cookie"].contains(&place));
                    if place == "path" {
                        assert_eq!(parameter["required"], true);
                    }
                }
            }
        }
        let operations: Vec<&str> = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .map(|operation| operation["operationId"].as_str().unwrap())
            .collect();
        assert_eq!(
            operations.len(),
            expected_operations,
            "{}: two routes share a document path and method",
            spec.id
        );
        let unique: BTreeSet<&&str> = operations.iter().collect();
        assert_eq!(unique.len(), operations.len(), "{}: operation ids", spec.id);
    }
}

#[test]
fn every_schema_in_the_documents_uses_only_checked_keywords() {
    // The validator refuses a keyword it does not check only where a value reaches it; walking
    // every schema of the documents finds one on a branch no answer has taken yet.
    fn walk(value: &Value, at: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(schema) = map.get("schema") {
                    check(schema, at, found);
                }
                for (key, inner) in map {
                    walk(inner, &format!("{at}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (index, inner) in items.iter().enumerate() {
                    walk(inner, &format!("{at}/{index}"), found);
                }
            }
            _ => {}
        }
    }
    fn check(schema: &Value, at: &str, found: &mut Vec<String>) {
        const KNOWN: &[&str] = &[
            "description",
            "title",
            "format",
            "examples",
            "type",
            "const",
            "enum",
            "pattern",
            "anyOf",
            "items",
            "properties",
            "required",
            "additionalProperties",
        ];
        let Value::Object(map) = schema else { return };
        for (keyword, inner) in map {
            if !KNOWN.contains(&keyword.as_str()) {
                found.push(format!("{at}: {keyword}"));
            }
            match keyword.as_str() {
                "items" | "additionalProperties" => check(inner, at, found),
                "anyOf" => inner
                    .as_array()
                    .into_iter()
                    .flatten()
                    .for_each(|s| check(s, at, found)),
                "properties" => inner
                    .as_object()
                    .into_iter()
                    .flatten()
                    .for_each(|(_, s)| check(s, at, found)),
                _ => {}
            }
        }
    }
    for spec in rosetta::dialects::registry() {
        let document = openapi::document(spec, "http://127.0.0.1:1");
        let mut found = Vec::new();
        walk(&document["paths"], spec.id, &mut found);
        assert!(found.is_empty(), "unchecked keywords: {found:?}");
    }
}

#[actix_web::test]
async fn the_ops_listener_serves_each_dialects_document_with_its_address_and_prefix() {
    let app = TestApp::spawn("[dialects.error_code]\nprefix = \"/blueu\"\n").await;
    for spec in rosetta::dialects::registry() {
        let reply = app
            .send(
                "ops",
                "GET",
                &format!("/openapi/{}.json", spec.id),
                &[],
                b"",
            )
            .await;
        assert_eq!(reply.status, 200, "{}", spec.id);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let prefix = if spec.id == "error_code" {
            "/blueu"
        } else {
            ""
        };
        let url = server_url(app.address(spec.id).unwrap(), prefix);
        assert_eq!(reply.text(), render(spec, &url), "{}", spec.id);
        assert_eq!(reply.json()["servers"][0]["url"], url);
    }
    let unknown = app.send("ops", "GET", "/openapi/soap.json", &[], b"").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], "no such dialect is served here");
    assert!(
        unknown.json()["served"]
            .as_array()
            .unwrap()
            .contains(&Value::from("/openapi/error_code.json"))
    );
    let without_suffix = app
        .send("ops", "GET", "/openapi/error_code", &[], b"")
        .await;
    assert_eq!(without_suffix.status, 404);
}

#[cfg(feature = "error_code")]
#[test]
fn answers_are_judged_by_status_content_type_and_body() {
    let spec = rosetta::dialects::find("error_code").unwrap();
    let json = Some("application/json;charset=utf-8;");
    let login = br#"{"error_code":0,"error_msg":"success","data":{"token_id":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","userid":"100000"}}"#;
    let check = |method, path, status, content_type, body: &[u8]| {
        openapi::check_answer(spec, method, path, status, content_type, body)
    };
    assert!(check("POST", "/api/user/login", 200, json, login).is_empty());
    // A refusal is the same envelope without data; other statuses fall to `default`.
    let refusal = "{\"error_code\":1,\"error_msg\":\"请求失败，密码错误\"}".as_bytes();
    assert!(check("POST", "/api/user/login", 200, json, refusal).is_empty());
    assert!(check("POST", "/api/user/login", 413, json, refusal).is_empty());
    let wrong_type = br#"{"error_code":"0","error_msg":"success"}"#;
    assert_eq!(
        check("POST", "/api/user/login", 200, json, wrong_type),
        ["status 200: /error_code: \"0\" is not integer"]
    );
    let extra_key = br#"{"error_code":0,"error_msg":"success","debug":1}"#;
    assert_eq!(
        check("POST", "/api/user/logout", 200, json, extra_key),
        ["status 200: /: `debug` is not a documented key"]
    );
    assert_eq!(
        check("POST", "/api/user/login", 200, Some("text/html"), login),
        ["status 200: Content-Type text/html is not documented"]
    );
    assert_eq!(
        check("POST", "/api/user/login", 200, None, login),
        ["status 200: no Content-Type"]
    );
    assert!(check("POST", "/api/user/login", 200, json, b"not json")[0].contains("is not JSON"));
    // Paths no route serves, and methods a route does not take, are not judged here.
    assert!(check("POST", "/api/nothing", 200, None, b"").is_empty());
    assert!(check("DELETE", "/api/user/login", 200, None, b"").is_empty());
    // The detail route's id parameter: digits only.
    let detail = br#"{"error_code":0,"error_msg":"success","data":{"id":"100000","name":"n","sex":"0","century":null,"mobile":null,"pushable":"1"}}"#;
    assert!(check("GET", "/api/user/100000", 200, json, detail).is_empty());
}

#[test]
fn unspecified_addresses_are_written_as_loopback() {
    assert_eq!(
        server_url("0.0.0.0:8085".parse().unwrap(), "/api"),
        "http://127.0.0.1:8085/api"
    );
    assert_eq!(
        server_url("[::]:8085".parse().unwrap(), ""),
        "http://[::1]:8085"
    );
    assert_eq!(
        server_url("10.1.2.3:8081".parse().unwrap(), ""),
        "http://10.1.2.3:8081"
    );
}

#[test]
fn the_command_prints_the_document_with_the_configured_listener() {
    let dir = std::env::temp_dir().join(format!("rosetta-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("rosetta.toml");
    std::fs::write(
        &config,
        "[dialects.struts]\nlisten = \"0.0.0.0:9081\"\nprefix = \"/legacy\"\n",
    )
    .unwrap();
    for spec in rosetta::dialects::registry() {
        let output = Command::new(BIN)
            .args(["openapi", spec.id, "--config"])
            .arg(&config)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}: {output:?}", spec.id);
        let printed = String::from_utf8(output.stdout).unwrap();
        let url = if spec.id == "struts" {
            "http://127.0.0.1:9081/legacy".to_owned()
        } else {
            format!("http://127.0.0.1:{}", spec.default_port)
        };
        assert_eq!(printed.trim_end(), render(spec, &url), "{}", spec.id);
    }
    let unknown = Command::new(BIN)
        .args(["openapi", "soap"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("no dialect `soap`") && message.contains("error_code"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
