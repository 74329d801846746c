//! One route table per dialect: each path is written once, in [`route_table!`], which yields
//! the actix mounting (with the wrong-method answer), the [`RouteDoc`] list with each route's
//! document section and OpenAPI description, and the path patterns that record and replay match
//! against.

use regex::Regex;

use super::failure::{Answer, FrameworkError};
use super::openapi::Operation;

/// One route of a dialect: an actix path pattern (`{name}` or `{name:regex}`), the methods it
/// answers and the document section it comes from.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    pub methods: &'static [&'static str],
    pub path: &'static str,
    pub source: &'static str,
    /// What the route takes and answers, for its OpenAPI document.
    pub describe: fn() -> Operation,
}

/// A `{name}` or `{name:regex}` segment of a pattern, found by [`placeholders`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    pub name: &'a str,
    pub constraint: Option<&'a str>,
    /// Byte range of the whole `{…}` in the pattern.
    pub range: std::ops::Range<usize>,
}

/// The placeholders of an actix pattern, in order (braces inside a constraint are balanced).
pub fn placeholders(pattern: &str) -> Vec<Placeholder<'_>> {
    let mut out = Vec::new();
    let bytes = pattern.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'{' {
            at += 1;
            continue;
        }
        let start = at;
        let mut depth = 0;
        let mut end = None;
        for (offset, byte) in bytes[start..].iter().enumerate() {
            match byte {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(start + offset);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let inner = &pattern[start + 1..end];
        let (name, constraint) = match inner.split_once(':') {
            Some((name, constraint)) => (name, Some(constraint)),
            None => (inner, None),
        };
        out.push(Placeholder {
            name,
            constraint,
            range: start..end + 1,
        });
        at = end + 1;
    }
    out
}

impl RouteDoc {
    /// The pattern without its constraints (`/api/user/{id}`): what reports and metrics show.
    pub fn template(&self) -> String {
        let mut out = String::new();
        let mut last = 0;
        for placeholder in placeholders(self.path) {
            out.push_str(&self.path[last..placeholder.range.start]);
            out.push('{');
            out.push_str(placeholder.name);
            out.push('}');
            last = placeholder.range.end;
        }
        out.push_str(&self.path[last..]);
        out
    }

    /// A regex matching the paths this route serves (relative to the dialect's prefix).
    pub fn path_regex(&self) -> Regex {
        self.regex_with(|constraint| constraint.unwrap_or("[^/]+"))
    }

    /// A regex matching this route's paths with any text in place of each parameter, for
    /// paths that hold transcript placeholders (`/api/user/{{uid}}`) or recorded legacy values.
    pub fn template_regex(&self) -> Regex {
        self.regex_with(|constraint| {
            // An optional part (Struts' `.action` suffix) may be missing altogether.
            let may_be_empty = constraint.is_some_and(|constraint| {
                Regex::new(&format!("^(?:{constraint})$")).is_ok_and(|re| re.is_match(""))
            });
            if may_be_empty { "[^/]*" } else { "[^/]+" }
        })
    }

    fn regex_with<'a>(&'a self, parameter: impl Fn(Option<&'a str>) -> &'a str) -> Regex {
        let mut source = String::from("^");
        let mut last = 0;
        for placeholder in placeholders(self.path) {
            source.push_str(&regex::escape(&self.path[last..placeholder.range.start]));
            source.push_str(&format!("(?:{})", parameter(placeholder.constraint)));
            last = placeholder.range.end;
        }
        source.push_str(&regex::escape(&self.path[last..]));
        source.push('$');
        // Constraints are the patterns actix itself compiled at mount, so they are valid.
        Regex::new(&source).unwrap_or_else(|_| Regex::new("^$").expect("empty regex"))
    }

    /// A concrete path this route serves, each placeholder filled with the first of a few
    /// sample values its constraint accepts (tests send a request to every route with it).
    pub fn example_path(&self) -> String {
        const SAMPLES: [&str; 7] = ["100000", "1", "a", "!", "user", "png", ""];
        let mut out = String::new();
        let mut last = 0;
        for placeholder in placeholders(self.path) {
            out.push_str(&self.path[last..placeholder.range.start]);
            let accepts = |sample: &str| match placeholder.constraint {
                None => !sample.is_empty() && !sample.contains('/'),
                Some(constraint) => {
                    Regex::new(&format!("^(?:{constraint})$")).is_ok_and(|re| re.is_match(sample))
                }
            };
            out.push_str(SAMPLES.into_iter().find(|s| accepts(s)).unwrap_or("1"));
            last = placeholder.range.end;
        }
        out.push_str(&self.path[last..]);
        out
    }
}

/// The answer for a known path asked with a method its route does not serve.
pub fn wrong_method(
    allowed: &'static [&'static str],
) -> impl Fn() -> std::future::Ready<Answer> + Clone + 'static {
    move || std::future::ready(Err(FrameworkError::MethodNotAllowed { allowed }.into()))
}

/// Declares a dialect's routes once. Each line is
/// `METHOD [| METHOD…] "pattern" => handler, "document section", description;` (in matching
/// order, the description a `fn() -> Operation` for the OpenAPI document), and
/// the macro defines `pub const ROUTES: &[RouteDoc]` and `fn mount_routes(&mut ServiceConfig)`.
#[cfg_attr(
    not(any(
        test,
        feature = "error_code",
        feature = "code_result",
        feature = "code_sec",
        feature = "rest",
        feature = "struts"
    )),
    expect(
        unused_macros,
        reason = "a build without dialects mounts no route table"
    )
)]
macro_rules! route_table {
    ($( $($method:ident)|+ $path:literal => $handler:path, $source:literal, $describe:path; )+) => {
        /// Every route of this dialect, in matching order, with the document section of each.
        pub const ROUTES: &[$crate::dialects::kit::routes::RouteDoc] = &[
            $( $crate::dialects::kit::routes::RouteDoc {
                methods: &[$(stringify!($method)),+],
                path: $path,
                source: $source,
                describe: $describe,
            }, )+
        ];

        /// Mounts every route of [`ROUTES`]; other methods on a known path get the dialect's
        /// wrong-method answer.
        fn mount_routes(cfg: &mut ::actix_web::web::ServiceConfig) {
            $(
                cfg.service(
                    ::actix_web::web::resource($path)
                        $( .route(::actix_web::web::method(::actix_web::http::Method::$method).to($handler)) )+
                        .default_service(::actix_web::web::to(
                            $crate::dialects::kit::routes::wrong_method(&[$(stringify!($method)),+]),
                        )),
                );
            )+
        }
    };
}
#[cfg_attr(
    not(any(
        test,
        feature = "error_code",
        feature = "code_result",
        feature = "code_sec",
        feature = "rest",
        feature = "struts"
    )),
    expect(
        unused_imports,
        reason = "a build without dialects mounts no route table"
    )
)]
pub(crate) use route_table;

#[cfg(test)]
mod tests {
    use super::*;

    mod table {
        use crate::dialects::kit::{Answer, Outcome, Reply};
        use actix_web::http::StatusCode;

        async fn hello() -> Answer {
            Ok(Reply::bytes(
                StatusCode::OK,
                Outcome::Ok,
                "text/plain",
                "hello",
            ))
        }

        fn described() -> crate::dialects::kit::openapi::Operation {
            crate::dialects::kit::openapi::Operation::new("a test route")
        }

        super::route_table! {
            GET | POST "/hello" => hello, "a test", described;
            POST r"/user/{id:[0-9]+}" => hello, "another", described;
        }

        pub fn mount(cfg: &mut actix_web::web::ServiceConfig) {
            mount_routes(cfg);
        }
    }

    #[actix_web::test]
    async fn the_table_mounts_its_routes_and_answers_wrong_methods() {
        use crate::dialects::kit::{FrameworkError, Refusal};
        use actix_web::{App, test};
        assert_eq!(table::ROUTES.len(), 2);
        assert_eq!(table::ROUTES[0].methods, ["GET", "POST"]);
        assert_eq!(table::ROUTES[1].template(), "/user/{id}");
        let app = test::init_service(App::new().configure(table::mount)).await;
        for (method, path) in [("GET", "/hello"), ("POST", "/hello"), ("POST", "/user/7")] {
            let request = test::TestRequest::default()
                .method(method.parse().unwrap())
                .uri(path)
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status(), 200, "{method} {path}");
        }
        let request = test::TestRequest::get().uri("/user/7").to_request();
        let response = test::call_service(&app, request).await;
        let refusal = response
            .response()
            .error()
            .and_then(|e| e.as_error::<Refusal>())
            .cloned();
        assert!(matches!(
            refusal,
            Some(Refusal::Framework(FrameworkError::MethodNotAllowed {
                allowed: ["POST"]
            }))
        ));
    }

    const DETAIL: RouteDoc = RouteDoc {
        methods: &["GET", "POST"],
        path: r"/api/user/{id:[0-9]+}",
        source: "004",
        describe: || Operation::new("detail"),
    };
    const STRUTS: RouteDoc = RouteDoc {
        methods: &["POST"],
        path: r"/user/user{bang:(!|%21)}login{suffix:(\.action)?}",
        source: "000",
        describe: || Operation::new("login"),
    };

    #[test]
    fn templates_drop_constraints() {
        assert_eq!(DETAIL.template(), "/api/user/{id}");
        assert_eq!(STRUTS.template(), "/user/user{bang}login{suffix}");
        let nested = RouteDoc {
            methods: &["GET"],
            path: r"/x/{id:[a-z]{3}}/y",
            source: "",
            describe: || Operation::new("nested"),
        };
        assert_eq!(nested.template(), "/x/{id}/y");
        assert!(nested.path_regex().is_match("/x/abc/y"));
        assert!(!nested.path_regex().is_match("/x/abcd/y"));
    }

    #[test]
    fn patterns_match_what_they_serve() {
        assert!(DETAIL.path_regex().is_match("/api/user/100000"));
        assert!(!DETAIL.path_regex().is_match("/api/user/abc"));
        assert!(!DETAIL.path_regex().is_match("/api/user/1/edit"));
        assert!(STRUTS.path_regex().is_match("/user/user!login"));
        assert!(STRUTS.path_regex().is_match("/user/user%21login.action"));
        assert!(!STRUTS.path_regex().is_match("/user/user!logout"));
        assert!(DETAIL.template_regex().is_match("/api/user/{{uid}}"));
        assert!(STRUTS.template_regex().is_match("/user/user!login"));
        assert!(
            STRUTS
                .template_regex()
                .is_match("/user/user%21login.action")
        );
        assert!(!DETAIL.template_regex().is_match("/api/user/"));
        assert!(!DETAIL.template_regex().is_match("/api/user/{{uid}}/edit"));
    }

    #[test]
    fn example_paths_satisfy_their_constraints() {
        assert_eq!(DETAIL.example_path(), "/api/user/100000");
        assert_eq!(STRUTS.example_path(), "/user/user!login");
        for route in [DETAIL, STRUTS] {
            assert!(
                route.path_regex().is_match(&route.example_path()),
                "{}",
                route.path
            );
        }
    }
}
