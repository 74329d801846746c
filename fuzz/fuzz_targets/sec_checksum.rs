//! code_sec's `/user/sms` checksum and its replay fix-up: any `sec`, phone and `utime`, and any
//! recorded form fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rosetta::dialects::ReplayRequest;
use rosetta::dialects::code_sec::checksum;

fuzz_target!(|data: &[u8]| {
    let number = |bytes: &[u8]| {
        bytes
            .iter()
            .fold(0i64, |acc, b| acc.wrapping_shl(8) | i64::from(*b))
    };
    let phone = number(data.get(..8).unwrap_or_default());
    let utime = number(data.get(8..16).unwrap_or_default());
    let text = String::from_utf8_lossy(data.get(16..).unwrap_or_default()).into_owned();
    let remainder = checksum::remainder(phone, utime);
    assert!((0..49_477).contains(&remainder));
    let _ = checksum::matches(&text, phone, utime);
    assert!(checksum::matches(&remainder.to_string(), phone, utime));
    assert!(checksum::matches(&checksum::md5_form(remainder), phone, utime));

    let fields: Vec<(String, serde_json::Value)> = text
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let value = serde_json::from_str(v).unwrap_or_else(|_| v.into());
            (k.to_owned(), value)
        })
        .collect();
    let mut request = ReplayRequest {
        method: "POST".to_owned(),
        path: "/user/sms".to_owned(),
        headers: Vec::new(),
        fields,
        now_ms: utime,
    };
    checksum::replay_fixup(&mut request);
});
