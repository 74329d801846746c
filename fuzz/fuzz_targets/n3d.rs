//! SealTalk's N3D id cipher: any text decodes to an id or to nothing, and every id that
//! encodes decodes back to itself; any key is accepted or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rosetta::dialects::code_result::n3d::N3d;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (key, rest) = text.split_at(text.char_indices().nth(8).map_or(text.len(), |(i, _)| i));
    for key in [key, "abcdefg"] {
        let Ok(cipher) = N3d::new(key) else {
            continue;
        };
        if let Some(id) = cipher.decode(rest) {
            let _ = cipher.encode(id);
        }
        let number = data
            .iter()
            .take(8)
            .fold(0u64, |acc, b| acc.wrapping_shl(8) | u64::from(*b));
        if let Some(encoded) = cipher.encode(number) {
            assert_eq!(cipher.decode(&encoded), Some(number), "key {key:?}");
        }
    }
});
