//! SealTalk's N3D id cipher: user and group ids on the wire are short base-62 strings made with
//! a key-derived set of permutation tables, so a migrated deployment that keeps its key keeps
//! the ids its clients cached. Bit-exact with the original, including its arithmetic on
//! JavaScript numbers (doubles) and its `v > 62` loop condition.

/// The 62 characters, in the order the tables are derived from.
const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// The range of ids the original instance was made for (`new N3D(key, 1, 4294967295)`).
pub const LOWER: u64 = 1;
pub const UPPER: u64 = 4_294_967_295;

/// Why a key cannot make a cipher (the original's messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty, or a character outside ASCII.
    #[error("The key is error.")]
    NotAscii,
    /// Its code plus 62 does not reach the upper id.
    #[error("The secret key is too short.")]
    TooShort,
}

/// A cipher for one key.
#[derive(Debug, Clone)]
pub struct N3d {
    key_code: f64,
    /// `tables[j][position]` is a character; table 0 encodes the first digit.
    tables: Box<[[u8; 62]; 62]>,
}

impl N3d {
    pub fn new(key: &str) -> Result<N3d, KeyError> {
        if key.is_empty() || !key.is_ascii() {
            return Err(KeyError::NotAscii);
        }
        // JavaScript sums doubles: beyond 2^53 the original rounds, and so must we.
        let key_code = key
            .bytes()
            .enumerate()
            .map(|(i, byte)| f64::from(byte) * 128f64.powi((i % 7) as i32))
            .sum::<f64>();
        if key_code + 62.0 < UPPER as f64 {
            return Err(KeyError::TooShort);
        }
        let mut tables = Box::new([[0u8; 62]; 62]);
        let mut working = *ALPHABET;
        for (j, table) in tables.iter_mut().enumerate() {
            let seed = key_code - 62.0 + j as f64;
            let mut pool = working;
            for (slot, k) in (1..=62usize).rev().enumerate() {
                let index = (seed % k as f64) as usize;
                table[slot] = pool[index];
                pool[index] = pool[k - 1];
            }
            working = *table;
        }
        Ok(N3d { key_code, tables })
    }

    /// The wire form of an id; `None` outside `1..=4294967295`.
    pub fn encode(&self, id: u64) -> Option<String> {
        if !(LOWER..=UPPER).contains(&id) {
            return None;
        }
        let mut value = self.key_code - id as f64;
        let mut digit = value % 62.0;
        let first = digit as usize;
        let mut out = String::with_capacity(10);
        out.push(char::from(self.tables[0][first]));
        let mut sum = 0usize;
        // The original loops while `v > 62`, not `>=`: reproduced, so ids stay bit-exact.
        while value > 62.0 {
            value = (value - digit) / 62.0;
            digit = value % 62.0;
            sum = (sum + digit as usize) % 62;
            out.push(char::from(self.tables[first][sum]));
        }
        Some(out)
    }

    /// The id a wire string names; `None` for anything the original could not decode.
    pub fn decode(&self, text: &str) -> Option<u64> {
        let bytes = text.as_bytes();
        let (&first, rest) = bytes.split_first()?;
        let first = position(&self.tables[0], first)?;
        let table = &self.tables[first];
        let mut remainder = first as f64;
        let mut previous = 0usize;
        let mut weight = 1f64;
        for &byte in rest {
            let at = position(table, byte)?;
            let digit = (at + 62 - previous) % 62;
            previous = at;
            weight *= 62.0;
            remainder += digit as f64 * weight;
        }
        let id = self.key_code - remainder;
        if id < LOWER as f64 || id > UPPER as f64 || id.fract() != 0.0 {
            return None;
        }
        Some(id as u64)
    }
}

fn position(table: &[u8; 62], byte: u8) -> Option<usize> {
    table.iter().position(|&c| c == byte)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        let text = include_str!("testdata/n3d-vectors.json");
        serde_json::from_str(text).expect("vectors")
    }

    /// Found by the fuzz target: when a step of the encoding loop is exactly 62, the original's
    /// `v > 62` stops one digit early, so that id's wire form decodes to nothing (never to
    /// another id). Reproduced on purpose: the original served such ids the same way.
    #[test]
    fn the_v_gt_62_quirk_loses_a_digit_and_decodes_to_nothing() {
        let cipher = N3d::new("\0\0\0\0;12V").unwrap();
        let encoded = cipher.encode(993_079_894).unwrap();
        assert_eq!(encoded.len(), 8, "one digit short of the 9 the value needs");
        assert_eq!(cipher.decode(&encoded), None);
        // This key's top digit makes every id end on exactly 62; ordinary keys do not.
        let ordinary = N3d::new("abcdefg").unwrap();
        assert_eq!(
            ordinary.decode(&ordinary.encode(993_079_894).unwrap()),
            Some(993_079_894)
        );
    }

    #[test]
    fn the_original_vectors_encode_and_decode() {
        let vectors = vectors();
        for case in vectors["keys"].as_array().unwrap() {
            let key = case["key"].as_str().unwrap();
            let cipher = N3d::new(key).unwrap();
            assert_eq!(
                cipher.key_code,
                case["keyCode"].as_f64().unwrap(),
                "key code of {key}"
            );
            let table0: String = cipher.tables[0].iter().map(|&b| char::from(b)).collect();
            assert_eq!(table0, case["alphabet_table0"].as_str().unwrap(), "{key}");
            for pair in case["encode"].as_array().unwrap() {
                let id = pair["id"].as_u64().unwrap();
                let encoded = pair["encoded"].as_str().unwrap();
                assert_eq!(cipher.encode(id).as_deref(), Some(encoded), "{key}: {id}");
                assert_eq!(cipher.decode(encoded), Some(id), "{key}: {encoded}");
            }
            for refused in case["encode_errors"].as_array().unwrap() {
                if let Some(id) = refused["id"].as_u64() {
                    assert_eq!(cipher.encode(id), None, "{key}: {id}");
                }
            }
            for decode in case["decode"].as_array().unwrap() {
                let text = decode["string"].as_str().unwrap();
                let expected = decode["decoded"].as_u64();
                assert_eq!(cipher.decode(text), expected, "{key}: {text:?}");
            }
        }
    }

    #[test]
    fn keys_are_refused_as_the_original_refused_them() {
        for case in vectors()["rejected_keys"].as_array().unwrap() {
            let key = case["key"].as_str().unwrap();
            match case["error"].as_str() {
                Some(message) => {
                    let err = N3d::new(key).expect_err(key);
                    assert_eq!(err.to_string(), message, "{key:?}");
                }
                None => {
                    let cipher = N3d::new(key).expect(key);
                    assert_eq!(cipher.key_code, case["keyCode"].as_f64().unwrap());
                }
            }
        }
    }

    #[test]
    fn every_id_of_a_sample_round_trips() {
        let cipher = N3d::new("sealtalk-migration-key").unwrap();
        for id in (1..=5_000).chain(UPPER - 5_000..=UPPER) {
            let encoded = cipher.encode(id).unwrap();
            assert_eq!(cipher.decode(&encoded), Some(id), "{id} {encoded}");
        }
        let mut id = 1u64;
        while id <= UPPER {
            let encoded = cipher.encode(id).unwrap();
            assert_eq!(cipher.decode(&encoded), Some(id), "{id} {encoded}");
            id = id * 3 + 7;
        }
        assert_eq!(cipher.decode("not/valid"), None);
        assert_eq!(cipher.decode(""), None);
    }
}
