//! OpenAPI 3.1 documents of the dialects: each route of a route table describes its request and
//! its answers (an [`Operation`], built from the dialect's wire shapes), and [`document`] turns a
//! dialect's table into the document that the ops listener serves and `rosetta openapi` prints.
//! [`check_answer`] checks a live answer against it (replay and the tests use it).

use serde_json::{Map, Value, json};

use super::routes::{RouteDoc, placeholders};
use crate::dialects::DialectSpec;

/// JSON Schema (2020-12, the dialect of OpenAPI 3.1) builders for the shapes the dialects use.
/// Only the keywords [`validate`] checks are produced, so an answer that passes the checks in
/// the tests passes any other validator too.
pub mod schema {
    use serde_json::{Map, Value, json};

    pub fn string() -> Value {
        json!({"type": "string"})
    }

    /// A string that is exactly one of `values`.
    pub fn one_of_texts(values: &[&str]) -> Value {
        json!({"type": "string", "enum": values})
    }

    /// A string matching a regular expression (anchored here, as JSON Schema does not anchor).
    pub fn matching(pattern: &str) -> Value {
        json!({"type": "string", "pattern": format!("^(?:{pattern})$")})
    }

    pub fn integer() -> Value {
        json!({"type": "integer"})
    }

    /// An integer that is exactly one of `values`.
    pub fn one_of_integers(values: &[i64]) -> Value {
        json!({"type": "integer", "enum": values})
    }

    pub fn boolean() -> Value {
        json!({"type": "boolean"})
    }

    /// Exactly this value.
    pub fn constant(value: impl Into<Value>) -> Value {
        json!({"const": value.into()})
    }

    /// `inner`, or `null`.
    pub fn nullable(inner: Value) -> Value {
        json!({"anyOf": [inner, {"type": "null"}]})
    }

    /// Any of the given schemas.
    pub fn any_of(choices: Vec<Value>) -> Value {
        json!({"anyOf": choices})
    }

    pub fn array(items: Value) -> Value {
        json!({"type": "array", "items": items})
    }

    /// A file in a multipart body.
    pub fn file() -> Value {
        json!({"type": "string", "format": "binary"})
    }

    /// An object with these keys; those in `required` are always present. Other keys are
    /// refused: a wire shape lists every key it sends.
    pub fn object(properties: Vec<(&str, Value)>, required: &[&str]) -> Value {
        let mut map = Map::new();
        for (name, schema) in properties {
            map.insert(name.to_owned(), schema);
        }
        json!({
            "type": "object",
            "properties": map,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// An object whose keys are all required.
    pub fn record(properties: Vec<(&str, Value)>) -> Value {
        let names: Vec<&str> = properties.iter().map(|(name, _)| *name).collect();
        object(properties.clone(), &names)
    }

    /// Adds a description to a schema.
    pub fn described(mut schema: Value, text: &str) -> Value {
        if let Value::Object(map) = &mut schema {
            map.insert("description".to_owned(), Value::from(text));
        }
        schema
    }
}

/// How a request carries its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Form,
    Json,
    Multipart,
}

impl BodyFormat {
    fn media_type(self) -> &'static str {
        match self {
            BodyFormat::Form => "application/x-www-form-urlencoded",
            BodyFormat::Json => "application/json",
            BodyFormat::Multipart => "multipart/form-data",
        }
    }
}

/// A named input of a request.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub schema: Value,
    pub required: bool,
    pub description: String,
}

/// An answer a route gives: a status (`None`: any other status) and its bodies by content type.
#[derive(Debug, Clone)]
pub struct Documented {
    pub status: Option<u16>,
    pub description: String,
    /// Content type as the dialect sends it, and the body's schema (`None`: not JSON).
    pub content: Vec<(&'static str, Option<Value>)>,
    pub headers: Vec<Input>,
}

impl Documented {
    /// A JSON answer.
    pub fn json(status: u16, description: &str, content_type: &'static str, body: Value) -> Self {
        Documented {
            status: Some(status),
            description: description.to_owned(),
            content: vec![(content_type, Some(body))],
            headers: Vec::new(),
        }
    }

    /// A body that is not JSON (text, a picture).
    pub fn opaque(status: u16, description: &str, content_type: &'static str) -> Self {
        Documented {
            status: Some(status),
            description: description.to_owned(),
            content: vec![(content_type, None)],
            headers: Vec::new(),
        }
    }

    /// The answer to everything not listed, with a body that is not JSON (plain-text errors).
    pub fn otherwise_opaque(description: &str, content_type: &'static str) -> Self {
        Documented {
            status: None,
            ..Documented::opaque(0, description, content_type)
        }
    }

    /// No body.
    pub fn empty(status: u16, description: &str) -> Self {
        Documented {
            status: Some(status),
            description: description.to_owned(),
            content: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The answer to everything not listed (`default`: a dialect's error envelope).
    pub fn otherwise(description: &str, content_type: &'static str, body: Value) -> Self {
        Documented {
            status: None,
            ..Documented::json(0, description, content_type, body)
        }
    }

    /// A header the answer carries (`required`: always).
    pub fn header(mut self, name: &str, schema: Value, required: bool, description: &str) -> Self {
        self.headers.push(Input {
            name: name.to_owned(),
            schema,
            required,
            description: description.to_owned(),
        });
        self
    }
}

/// What one route takes and answers.
#[derive(Debug, Clone)]
pub struct Operation {
    pub summary: String,
    pub description: String,
    /// Path placeholders that are parameters (the others are spellings, such as Struts' `!` or
    /// `%21` and `.action`, written out in their first form).
    pub path: Vec<Input>,
    /// Request fields: in the query string of a GET, in the body of other methods.
    pub fields: Vec<Input>,
    /// How the fields of a body may come; the first is the documented one.
    pub formats: Vec<BodyFormat>,
    /// Fields taken from the query string whatever the method.
    pub query: Vec<Input>,
    pub headers: Vec<Input>,
    pub cookies: Vec<Input>,
    pub answers: Vec<Documented>,
}

impl Operation {
    pub fn new(summary: &str) -> Operation {
        Operation {
            summary: summary.to_owned(),
            description: String::new(),
            path: Vec::new(),
            fields: Vec::new(),
            formats: vec![BodyFormat::Form],
            query: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
            answers: Vec::new(),
        }
    }

    pub fn describe(mut self, text: &str) -> Self {
        self.description = text.to_owned();
        self
    }

    /// The body formats the route reads, documented one first.
    pub fn formats(mut self, formats: &[BodyFormat]) -> Self {
        self.formats = formats.to_vec();
        self
    }

    pub fn path(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.path.push(input(name, schema, true, description));
        self
    }

    pub fn required(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.fields.push(input(name, schema, true, description));
        self
    }

    pub fn optional(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.fields.push(input(name, schema, false, description));
        self
    }

    pub fn query(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.query.push(input(name, schema, false, description));
        self
    }

    pub fn header(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.headers.push(input(name, schema, false, description));
        self
    }

    pub fn cookie(mut self, name: &str, schema: Value, description: &str) -> Self {
        self.cookies.push(input(name, schema, false, description));
        self
    }

    pub fn answer(mut self, answer: Documented) -> Self {
        self.answers.push(answer);
        self
    }

    pub fn answers(mut self, answers: impl IntoIterator<Item = Documented>) -> Self {
        self.answers.extend(answers);
        self
    }

    /// The OpenAPI operation object for `method`.
    fn render(&self, route: &RouteDoc, method: &str, operation_id: String) -> Value {
        let mut parameters = Vec::new();
        for field in &self.path {
            parameters.push(parameter("path", field));
        }
        let in_query = method == "GET" || self.formats.is_empty();
        if in_query {
            for field in &self.fields {
                parameters.push(parameter("query", field));
            }
        }
        for field in &self.query {
            parameters.push(parameter("query", field));
        }
        for field in &self.headers {
            parameters.push(parameter("header", field));
        }
        for field in &self.cookies {
            parameters.push(parameter("cookie", field));
        }
        let mut operation = Map::new();
        operation.insert("operationId".into(), Value::from(operation_id));
        operation.insert("summary".into(), Value::from(self.summary.as_str()));
        let mut description = format!("Document section: {}.", route.source);
        if !self.description.is_empty() {
            description = format!("{}\n\n{description}", self.description);
        }
        operation.insert("description".into(), Value::from(description));
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Value::Array(parameters));
        }
        if !in_query && !self.fields.is_empty() {
            let body = fields_object(&self.fields);
            let content: Map<String, Value> = self
                .formats
                .iter()
                .map(|format| (format.media_type().to_owned(), json!({"schema": body})))
                .collect();
            let required = self.fields.iter().any(|field| field.required);
            operation.insert(
                "requestBody".into(),
                json!({"required": required, "content": content}),
            );
        }
        let mut responses = Map::new();
        for answer in &self.answers {
            let key = answer
                .status
                .map_or_else(|| "default".to_owned(), |status| status.to_string());
            let mut object = Map::new();
            object.insert(
                "description".into(),
                Value::from(answer.description.as_str()),
            );
            if !answer.content.is_empty() {
                let content: Map<String, Value> = answer
                    .content
                    .iter()
                    .map(|(media, schema)| {
                        let schema = schema.clone().unwrap_or_else(|| match *media {
                            media if media.starts_with("text/") => schema::string(),
                            _ => schema::file(),
                        });
                        ((*media).to_owned(), json!({"schema": schema}))
                    })
                    .collect();
                object.insert("content".into(), Value::Object(content));
            }
            if !answer.headers.is_empty() {
                let headers: Map<String, Value> = answer
                    .headers
                    .iter()
                    .map(|header| {
                        (
                            header.name.clone(),
                            json!({
                                "description": header.description,
                                "required": header.required,
                                "schema": header.schema,
                            }),
                        )
                    })
                    .collect();
                object.insert("headers".into(), Value::Object(headers));
            }
            responses.insert(key, Value::Object(object));
        }
        operation.insert("responses".into(), Value::Object(responses));
        Value::Object(operation)
    }
}

fn input(name: &str, schema: Value, required: bool, description: &str) -> Input {
    Input {
        name: name.to_owned(),
        schema,
        required,
        description: description.to_owned(),
    }
}

fn parameter(place: &str, field: &Input) -> Value {
    let mut object = json!({
        "name": field.name,
        "in": place,
        "required": field.required || place == "path",
        "schema": field.schema,
    });
    if !field.description.is_empty() {
        object["description"] = Value::from(field.description.as_str());
    }
    object
}

fn fields_object(fields: &[Input]) -> Value {
    let mut properties = Map::new();
    for field in fields {
        let mut schema = field.schema.clone();
        if !field.description.is_empty()
            && let Value::Object(map) = &mut schema
        {
            map.entry("description")
                .or_insert_with(|| Value::from(field.description.as_str()));
        }
        properties.insert(field.name.clone(), schema);
    }
    let required: Vec<&str> = fields
        .iter()
        .filter(|field| field.required)
        .map(|field| field.name.as_str())
        .collect();
    json!({"type": "object", "properties": properties, "required": required})
}

/// The OpenAPI path of a route: its template, with each placeholder the operation does not name
/// as a parameter written as the first spelling its constraint allows (`!`, `.action`). `None`
/// when such a placeholder has no literal spelling (a table or description mistake the tests
/// catch).
pub fn openapi_path(route: &RouteDoc, operation: &Operation) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    for placeholder in placeholders(route.path) {
        out.push_str(&route.path[last..placeholder.range.start]);
        if operation.path.iter().any(|p| p.name == placeholder.name) {
            out.push('{');
            out.push_str(placeholder.name);
            out.push('}');
        } else {
            out.push_str(&first_spelling(placeholder.constraint?)?);
        }
        last = placeholder.range.end;
    }
    out.push_str(&route.path[last..]);
    Some(out)
}

/// `(!|%21)` → `!`, `(\.action)?` → `.action`: the first alternative of a group of literals.
fn first_spelling(constraint: &str) -> Option<String> {
    let inner = constraint.strip_suffix('?').unwrap_or(constraint);
    let inner = inner.strip_prefix('(')?.strip_suffix(')')?;
    let first = inner.split('|').next()?;
    let mut out = String::new();
    let mut chars = first.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '(' | ')' | '[' | ']' | '{' | '}' | '*' | '+' | '?' | '^' | '$' => return None,
            '.' => return None,
            c => out.push(c),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The operation id of a route's method: `post_user_user_login`.
fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_ascii_lowercase();
    let mut gap = true;
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            if gap {
                id.push('_');
            }
            id.push(c);
            gap = false;
        } else {
            gap = true;
        }
    }
    id
}

/// The OpenAPI 3.1 document of a dialect, its server at `server_url` (prefix included).
pub fn document(spec: &DialectSpec, server_url: &str) -> Value {
    let mut paths = Map::new();
    for route in spec.routes {
        let operation = (route.describe)();
        let Some(path) = openapi_path(route, &operation) else {
            continue;
        };
        let item = paths
            .entry(path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        for method in route.methods {
            let rendered = operation.render(route, method, operation_id(method, &path));
            if let Value::Object(item) = item {
                item.insert(method.to_ascii_lowercase(), rendered);
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": format!("Rosetta `{}` dialect: {}", spec.id, spec.title),
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "The `{}` legacy API as Rosetta serves it, generated from the dialect's route table \
                 and wire shapes. Every route lists its documented answers; `default` is the \
                 dialect's answer to anything else (a wrong method, a body it cannot read).",
                spec.id
            ),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
    })
}

/// The route of `spec` that serves `path` (relative to the dialect's prefix, without query).
pub fn route_for<'a>(spec: &'a DialectSpec, path: &str) -> Option<&'a RouteDoc> {
    spec.routes
        .iter()
        .find(|route| route.path_regex().is_match(path))
}

/// What is wrong with a live answer of `spec` to `method path`, judged by the dialect's
/// document: its status documented (or `default`), its Content-Type among those of that
/// answer, its JSON body valid. Empty when the answer conforms; a path no route serves is not
/// judged.
pub fn check_answer(
    spec: &DialectSpec,
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Vec<String> {
    let Some(route) = route_for(spec, path) else {
        return Vec::new();
    };
    if !route.methods.iter().any(|m| m.eq_ignore_ascii_case(method)) {
        return Vec::new();
    }
    let operation = (route.describe)();
    let answer = operation
        .answers
        .iter()
        .find(|answer| answer.status == Some(status))
        .or_else(|| operation.answers.iter().find(|a| a.status.is_none()));
    let Some(answer) = answer else {
        return vec![format!(
            "status {status} is not documented for {method} {}",
            route.template()
        )];
    };
    if answer.content.is_empty() {
        return if body.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "status {status} documents no body, got {} bytes",
                body.len()
            )]
        };
    }
    let essence = |media: &str| {
        media
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    let Some(sent) = content_type else {
        return vec![format!("status {status}: no Content-Type")];
    };
    let Some((_, schema)) = answer
        .content
        .iter()
        .find(|(media, _)| essence(media) == essence(sent))
    else {
        return vec![format!(
            "status {status}: Content-Type {sent} is not documented"
        )];
    };
    let Some(schema) = schema else {
        return Vec::new();
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => validate(schema, &value)
            .err()
            .map(|problem| format!("status {status}: {problem}"))
            .into_iter()
            .collect(),
        Err(err) => vec![format!("status {status}: the body is not JSON ({err})")],
    }
}

/// Validates `value` against a schema built by [`schema`]: the problem and where it is.
/// Keywords it does not know are refused, so a schema can never check less than it says.
pub fn validate(schema: &Value, value: &Value) -> Result<(), String> {
    validate_at(schema, value, "")
}

fn validate_at(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Value::Object(keywords) = schema else {
        return match schema {
            Value::Bool(true) => Ok(()),
            _ => Err(format!("{at}: a schema that accepts nothing")),
        };
    };
    let shown = || {
        let text = value.to_string();
        if text.chars().count() > 80 {
            format!("{}…", text.chars().take(80).collect::<String>())
        } else {
            text
        }
    };
    let place = if at.is_empty() { "/" } else { at };
    for (keyword, argument) in keywords {
        match keyword.as_str() {
            "description" | "title" | "format" | "examples" => {}
            "type" => {
                let allowed = match argument {
                    Value::String(one) => vec![one.as_str()],
                    Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                    _ => return Err(format!("{place}: bad `type` in the schema")),
                };
                if !allowed.iter().any(|kind| has_type(value, kind)) {
                    return Err(format!(
                        "{place}: {} is not {}",
                        shown(),
                        allowed.join(" or ")
                    ));
                }
            }
            "const" => {
                if argument != value {
                    return Err(format!("{place}: {} is not {argument}", shown()));
                }
            }
            "enum" => {
                let choices = argument.as_array().map(Vec::as_slice).unwrap_or_default();
                if !choices.contains(value) {
                    return Err(format!("{place}: {} is not one of {argument}", shown()));
                }
            }
            "pattern" => {
                if let (Some(pattern), Some(text)) = (argument.as_str(), value.as_str()) {
                    let regex = regex::Regex::new(pattern)
                        .map_err(|e| format!("{place}: bad pattern in the schema: {e}"))?;
                    if !regex.is_match(text) {
                        return Err(format!("{place}: {} does not match {pattern}", shown()));
                    }
                }
            }
            "anyOf" => {
                let choices = argument.as_array().map(Vec::as_slice).unwrap_or_default();
                let mut problems = Vec::new();
                for choice in choices {
                    match validate_at(choice, value, at) {
                        Ok(()) => {
                            problems.clear();
                            break;
                        }
                        Err(problem) => problems.push(problem),
                    }
                }
                if !problems.is_empty() {
                    return Err(format!(
                        "{place}: none of the choices fits ({})",
                        problems.join("; ")
                    ));
                }
            }
            "items" => {
                if let Value::Array(items) = value {
                    for (index, item) in items.iter().enumerate() {
                        validate_at(argument, item, &format!("{at}/{index}"))?;
                    }
                }
            }
            "properties" => {
                if let (Value::Object(properties), Value::Object(object)) = (argument, value) {
                    for (name, item) in object {
                        if let Some(property) = properties.get(name) {
                            validate_at(property, item, &format!("{at}/{name}"))?;
                        }
                    }
                }
            }
            "required" => {
                if let Value::Object(object) = value {
                    for name in argument.as_array().map(Vec::as_slice).unwrap_or_default() {
                        let name = name.as_str().unwrap_or_default();
                        if !object.contains_key(name) {
                            return Err(format!("{place}: `{name}` is missing"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Value::Object(object) = value {
                    let known = keywords.get("properties").and_then(Value::as_object);
                    for (name, item) in object {
                        if known.is_some_and(|known| known.contains_key(name)) {
                            continue;
                        }
                        match argument {
                            Value::Bool(false) => {
                                return Err(format!("{place}: `{name}` is not a documented key"));
                            }
                            other => validate_at(other, item, &format!("{at}/{name}"))?,
                        }
                    }
                }
            }
            other => {
                return Err(format!(
                    "{place}: the schema uses `{other}`, which is not checked"
                ));
            }
        }
    }
    Ok(())
}

fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::schema::*;
    use super::*;

    #[test]
    fn the_validator_checks_what_the_builders_make() {
        let user = object(
            vec![
                ("id", integer()),
                ("name", string()),
                ("tag", nullable(one_of_texts(&["a", "b"]))),
                ("list", array(matching(r"\d+"))),
            ],
            &["id", "name"],
        );
        assert_eq!(validate(&user, &json!({"id": 1, "name": "x"})), Ok(()));
        assert_eq!(
            validate(
                &user,
                &json!({"id": 1, "name": "x", "tag": null, "list": ["12"]})
            ),
            Ok(())
        );
        assert_eq!(
            validate(&user, &json!({"id": "1", "name": "x"})).unwrap_err(),
            "/id: \"1\" is not integer"
        );
        assert_eq!(
            validate(&user, &json!({"id": 1})).unwrap_err(),
            "/: `name` is missing"
        );
        assert_eq!(
            validate(&user, &json!({"id": 1, "name": "x", "extra": 0})).unwrap_err(),
            "/: `extra` is not a documented key"
        );
        assert!(validate(&user, &json!({"id": 1, "name": "x", "tag": "c"})).is_err());
        assert_eq!(
            validate(&user, &json!({"id": 1, "name": "x", "list": ["1", "x"]})).unwrap_err(),
            "/list/1: \"x\" does not match ^(?:\\d+)$"
        );
        assert_eq!(validate(&constant(200), &json!(200)), Ok(()));
        assert!(validate(&constant("200"), &json!(200)).is_err());
        assert_eq!(validate(&integer(), &json!(3.0)), Ok(()));
        assert!(validate(&integer(), &json!(3.5)).is_err());
        assert!(
            validate(&json!({"minLength": 3}), &json!("ab"))
                .unwrap_err()
                .contains("not checked")
        );
    }

    #[test]
    fn spellings_are_written_out_and_parameters_kept() {
        let route = RouteDoc {
            methods: &["POST"],
            path: r"/user/user{bang:(!|%21)}login{suffix:(\.action)?}",
            source: "000",
            describe: || Operation::new("login"),
        };
        let operation = Operation::new("login");
        assert_eq!(
            openapi_path(&route, &operation).as_deref(),
            Some("/user/user!login.action")
        );
        let photo = RouteDoc {
            methods: &["GET"],
            path: r"/upload/{uid:\d+}_avatar.{ext:(jpg|png)}",
            source: "000",
            describe: || Operation::new("photo"),
        };
        let named = Operation::new("photo")
            .path("uid", integer(), "")
            .path("ext", string(), "");
        assert_eq!(
            openapi_path(&photo, &named).as_deref(),
            Some("/upload/{uid}_avatar.{ext}")
        );
        assert_eq!(openapi_path(&photo, &Operation::new("photo")), None);
        assert_eq!(
            operation_id("POST", "/user/user!login.action"),
            "post_user_user_login_action"
        );
    }
}
