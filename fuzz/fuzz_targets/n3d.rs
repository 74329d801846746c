//! SealTalk's N3D id cipher: any text decodes to an id or to nothing, any key is accepted or
//! refused, never a panic; and an encoded id never decodes to *another* id. (It may decode to
//! nothing: the original's `v > 62` loop drops the last digit when a step is exactly 62 — found
//! by this target, kept for bit-exactness, see the unit test `the_v_gt_62_quirk_…`.)
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
        if let Some(encoded) = cipher.encode(number)
            && let Some(back) = cipher.decode(&encoded)
        {
            assert_eq!(back, number, "key {key:?}: another id");
        }
    }
});
