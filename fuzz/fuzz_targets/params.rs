//! Parameter parsing of every dialect: JSON (strict, else form, object or form), forms, query
//! strings, merged sources, by Content-Type; then every accessor on every name found.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rosetta::dialects::kit::params::{Params, Winner};

fn exercise(params: &Params) {
    let names: Vec<String> = params.names().map(str::to_owned).collect();
    for name in names.iter().map(String::as_str).chain(["phone", "tel.number", "a.b.c", ""]) {
        let _ = params.value(name);
        let _ = params.required(name);
        let _ = params.optional(name);
        let _ = params.non_empty(name);
        let _ = params.non_blank(name);
        let _ = params.parsed::<i64>(name);
        let _ = params.all(name);
        let _ = params.trimmed(name);
        let _ = params.trimmed_optional(name);
        if let Ok(inner) = params.object(name) {
            let _ = inner.names().count();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (selector, body) = data.split_first().unwrap_or((&0, &[]));
    if let Ok(params) = Params::json(body) {
        exercise(&params);
    }
    exercise(&Params::json_else_form(body));
    if let Ok(params) = Params::json_object_or_form(body) {
        exercise(&params);
    }
    exercise(&Params::form(body));
    let text = String::from_utf8_lossy(body);
    let query = Params::query(&text);
    exercise(&query);
    let content_type = ["application/json", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", "text/plain", "application/vnd.api+json; charset=utf-8", ""]
        [usize::from(*selector) % 6];
    if let Ok(params) = Params::by_content_type(Some(content_type), body) {
        let winner = if selector % 2 == 0 { Winner::Query } else { Winner::Body };
        exercise(&Params::merged(Params::query(&text), params, winner));
    }
});
