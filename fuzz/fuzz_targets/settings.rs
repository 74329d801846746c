//! The settings loader: any TOML text is a configuration or an error naming a key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rosetta::settings::Settings;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Settings::from_toml(text);
    }
});
