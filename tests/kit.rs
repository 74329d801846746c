//! The dialect kit seen from outside: every kind of extractor failure, wrong methods, unknown
//! paths and oversized or broken multipart bodies reach the dialect's own failure hook, never
//! actix's plain-text defaults; and every route of every dialect answers something other than
//! its dialect's not-found answer.

mod support;

use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, test, web};
use futures_util::future::LocalBoxFuture;
use rosetta::dialects::DialectContext;
use rosetta::dialects::kit::failure::{install_extractor_handlers, not_found, render_failures};
use rosetta::dialects::kit::multipart::{MultipartError, MultipartLimits, read_multipart};
use rosetta::dialects::kit::routes::wrong_method;
use rosetta::dialects::kit::{Answer, FrameworkError, Outcome, Reply};
use serde::Deserialize;
use serde_json::{Value, json};
use support::{TestApp, TestDb, test_service};

/// A hook that shows which failure it was given, in a recognisable envelope.
fn hook(
    req: HttpRequest,
    _ctx: DialectContext,
    err: FrameworkError,
) -> LocalBoxFuture<'static, Reply> {
    let kind = match &err {
        FrameworkError::NotFound => "not_found".to_owned(),
        FrameworkError::MethodNotAllowed { allowed } => format!("method:{}", allowed.join(",")),
        FrameworkError::PayloadTooLarge => "too_large".to_owned(),
        FrameworkError::Malformed { part, .. } => format!("malformed:{}", part.as_str()),
        FrameworkError::Internal(_) => "internal".to_owned(),
    };
    let body = json!({"envelope": true, "failure": kind, "path": req.path()});
    Box::pin(async move {
        Reply::json(
            StatusCode::IM_A_TEAPOT,
            Outcome::ClientError,
            "application/x-test-envelope",
            &body,
        )
    })
}

#[derive(Deserialize)]
struct Person {
    #[expect(dead_code, reason = "only its decoding matters")]
    age: u32,
}

async fn json_handler(_body: web::Json<Person>) -> Answer {
    Ok(Reply::empty(StatusCode::OK, Outcome::Ok))
}

async fn form_handler(_body: web::Form<Person>) -> Answer {
    Ok(Reply::empty(StatusCode::OK, Outcome::Ok))
}

async fn query_handler(_query: web::Query<Person>) -> Answer {
    Ok(Reply::empty(StatusCode::OK, Outcome::Ok))
}

async fn path_handler(_id: web::Path<u32>) -> Answer {
    Ok(Reply::empty(StatusCode::OK, Outcome::Ok))
}

async fn bytes_handler(_body: web::Bytes) -> Answer {
    Ok(Reply::empty(StatusCode::OK, Outcome::Ok))
}

async fn upload_handler(req: HttpRequest, payload: web::Payload) -> Answer {
    let limits = MultipartLimits {
        total: 1024,
        text_field: 16,
        file: 64,
    };
    match read_multipart(&req, payload, limits).await {
        Ok(body) => {
            let file = body.file("userPhoto").map(|f| f.bytes.len());
            let name = body.params.optional("name").ok().flatten();
            Ok(Reply::json(
                StatusCode::OK,
                Outcome::Ok,
                "application/json",
                &json!({"file": file, "name": name}),
            ))
        }
        Err(MultipartError::FieldTooLarge { field }) => Ok(Reply::json(
            StatusCode::OK,
            Outcome::ClientError,
            "application/json",
            &json!({"too_large": field}),
        )),
        Err(MultipartError::Framework(err)) => Err(err.into()),
    }
}

async fn kit_app() -> (
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    TestDb,
) {
    let db = TestDb::sqlite();
    let (service, _clock) = test_service(&db, "").await;
    let settings = support::test_settings(&db, "");
    let ctx = DialectContext {
        service,
        settings: settings
            .dialects
            .values()
            .next()
            .cloned()
            .expect("a dialect"),
    };
    let app = test::init_service(
        App::new().service(
            web::scope("/kit")
                .configure(install_extractor_handlers)
                .app_data(web::PayloadConfig::new(32))
                .route("/json", web::post().to(json_handler))
                .route("/form", web::post().to(form_handler))
                .route("/query", web::get().to(query_handler))
                .route("/path/{id}", web::get().to(path_handler))
                .route("/bytes", web::post().to(bytes_handler))
                .route("/upload", web::post().to(upload_handler))
                .service(
                    web::resource("/only-post")
                        .route(web::post().to(bytes_handler))
                        .default_service(web::to(wrong_method(&["POST"]))),
                )
                .default_service(web::to(not_found))
                .wrap(from_fn(move |req, next| {
                    render_failures(hook, ctx.clone(), req, next)
                })),
        ),
    )
    .await;
    (app, db)
}

async fn failure_of(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    request: test::TestRequest,
) -> String {
    let response = test::call_service(app, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::IM_A_TEAPOT);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/x-test-envelope"
    );
    assert_eq!(
        response.response().extensions().get::<Outcome>(),
        Some(&Outcome::ClientError)
    );
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body["envelope"], json!(true));
    body["failure"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn every_extractor_failure_reaches_the_hook() {
    let (app, _db) = kit_app().await;
    let json_post = |body: &'static [u8]| {
        test::TestRequest::post()
            .uri("/kit/json")
            .insert_header(("content-type", "application/json"))
            .set_payload(body)
    };
    assert_eq!(
        failure_of(&app, json_post(b"{")).await,
        "malformed:JSON body"
    );
    assert_eq!(
        failure_of(&app, json_post(br#"{"age":"x"}"#)).await,
        "malformed:JSON body"
    );
    assert_eq!(
        failure_of(
            &app,
            test::TestRequest::post()
                .uri("/kit/json")
                .insert_header(("content-type", "text/plain"))
                .set_payload(r#"{"age":1}"#)
        )
        .await,
        "malformed:JSON body"
    );
    assert_eq!(
        failure_of(&app, json_post(&[b' '; 3 * 1024 * 1024])).await,
        "too_large"
    );
    let form_post = |body: &'static [u8]| {
        test::TestRequest::post()
            .uri("/kit/form")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(body)
    };
    assert_eq!(
        failure_of(&app, form_post(b"age=x")).await,
        "malformed:form body"
    );
    assert_eq!(
        failure_of(&app, test::TestRequest::get().uri("/kit/query?age=-1")).await,
        "malformed:query string"
    );
    assert_eq!(
        failure_of(&app, test::TestRequest::get().uri("/kit/path/abc")).await,
        "malformed:path"
    );
    assert_eq!(
        failure_of(
            &app,
            test::TestRequest::post()
                .uri("/kit/bytes")
                .set_payload(vec![b'x'; 100])
        )
        .await,
        "too_large"
    );
    // What succeeds still succeeds, untouched.
    let ok = test::call_service(&app, json_post(br#"{"age":3}"#).to_request()).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[actix_web::test]
async fn unknown_paths_and_wrong_methods_reach_the_hook() {
    let (app, _db) = kit_app().await;
    assert_eq!(
        failure_of(&app, test::TestRequest::get().uri("/kit/nothing/here")).await,
        "not_found"
    );
    assert_eq!(
        failure_of(&app, test::TestRequest::get().uri("/kit/only-post")).await,
        "method:POST"
    );
    assert_eq!(
        failure_of(&app, test::TestRequest::delete().uri("/kit/only-post")).await,
        "method:POST"
    );
}

fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(filename) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

fn upload(body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/kit/upload")
        .insert_header(("content-type", "multipart/form-data; boundary=XyZ0"))
        .set_payload(body)
}

#[actix_web::test]
async fn multipart_bodies_are_capped_per_field_and_in_total() {
    let (app, _db) = kit_app().await;
    let fine = multipart(
        "XyZ0",
        &[
            ("name", None, b"Li"),
            ("userPhoto", Some("a.png"), &[7u8; 64]),
        ],
    );
    let response = test::call_service(&app, upload(fine).to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body, json!({"file": 64, "name": "Li"}));

    let big_file = multipart("XyZ0", &[("userPhoto", Some("a.png"), &[7u8; 65])]);
    let response = test::call_service(&app, upload(big_file).to_request()).await;
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body, json!({"too_large": "userPhoto"}));

    let big_text = multipart("XyZ0", &[("name", None, &[b'a'; 17])]);
    let response = test::call_service(&app, upload(big_text).to_request()).await;
    let body: Value = test::read_body_json(response).await;
    assert_eq!(body, json!({"too_large": "name"}));

    // Past the total, refused from Content-Length before a byte is read.
    let total = multipart("XyZ0", &[("userPhoto", Some("a.png"), &[7u8; 2000])]);
    assert_eq!(failure_of(&app, upload(total)).await, "too_large");

    assert_eq!(
        failure_of(&app, upload(b"--XyZ0\r\nnot a part".to_vec())).await,
        "malformed:multipart body"
    );
    assert_eq!(
        failure_of(
            &app,
            test::TestRequest::post()
                .uri("/kit/upload")
                .insert_header(("content-type", "text/plain"))
                .set_payload("x")
        )
        .await,
        "malformed:multipart body"
    );
}

/// A request to every route of every dialect is answered by that route, not as an unknown path:
/// the metrics name the route's template for it. (Some dialects authenticate before routing, so
/// the answer alone cannot tell a route from an unknown path.)
#[actix_web::test]
async fn every_route_of_every_dialect_is_mounted() {
    let app = TestApp::spawn("").await;
    for spec in rosetta::dialects::registry() {
        for route in spec.routes {
            let path = route.example_path();
            for method in route.methods {
                app.send(spec.id, method, &path, &[], b"").await;
                let metrics = app.send("ops", "GET", "/metrics", &[], b"").await.text();
                let label = format!(
                    r#"rosetta_requests_total{{dialect="{}",endpoint="{}","#,
                    spec.id,
                    route.template()
                );
                assert!(
                    metrics.contains(&label),
                    "{} {method} {path} was not routed to {}",
                    spec.id,
                    route.path
                );
            }
        }
    }
}
