//! The multipart reader of the dialect kit (Struts' avatar upload): any body, with the boundary
//! taken from the input, read within the upload's limits.
#![no_main]

use std::cell::RefCell;

use actix_web::FromRequest;
use libfuzzer_sys::fuzz_target;
use rosetta::dialects::kit::multipart::{MultipartLimits, read_multipart};

thread_local! {
    static RUNTIME: RefCell<tokio::runtime::Runtime> = RefCell::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime"),
    );
}

fuzz_target!(|data: &[u8]| {
    // The first line is the boundary, the rest the body.
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(0);
    let boundary = String::from_utf8_lossy(&data[..split]).replace(['\r', '"'], "");
    let body = data.get(split + 1..).unwrap_or_default().to_vec();
    // Only what can travel as a header value reaches a gateway.
    let Ok(content_type) = actix_web::http::header::HeaderValue::from_str(&format!(
        "multipart/form-data; boundary={boundary}"
    )) else {
        return;
    };
    let (req, mut payload) = actix_web::test::TestRequest::post()
        .insert_header(("content-type", content_type))
        .set_payload(body)
        .to_http_parts();
    RUNTIME.with(|runtime| {
        runtime.borrow().block_on(async {
            let Ok(payload) = actix_web::web::Payload::from_request(&req, &mut payload).await
            else {
                return;
            };
            let limits = MultipartLimits {
                total: 64 * 1024,
                file: 32 * 1024,
                text_field: 4 * 1024,
            };
            let _ = read_multipart(&req, payload, limits).await;
        });
    });
});
