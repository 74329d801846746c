//! Session token shapes: how each dialect renders its session credential.

/// The wire shape of a session token. Every shape except `Hex16` carries 128 bits or more of
/// randomness; `Hex16` is the 16-character `sec` that `code_sec` clients expect (64 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenShape {
    /// 32 random bytes as 64 lowercase hex characters (headers and cookies).
    Opaque,
    /// 8 random bytes as 16 lowercase hex characters.
    Hex16,
    /// 16 random bytes formatted 8-4-4-4-12 like a UUID (not a real UUID version).
    UuidShaped,
}

impl TokenShape {
    pub fn random_bytes(self) -> usize {
        match self {
            TokenShape::Opaque => 32,
            TokenShape::Hex16 => 8,
            TokenShape::UuidShaped => 16,
        }
    }

    /// Renders random bytes in this shape.
    pub fn render(self, bytes: &[u8]) -> String {
        let hex = super::credential::to_hex(bytes);
        match self {
            TokenShape::Opaque | TokenShape::Hex16 => hex,
            TokenShape::UuidShaped => format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_render_as_their_clients_expect() {
        assert_eq!(TokenShape::Hex16.render(&[0xab; 8]).len(), 16);
        assert_eq!(TokenShape::Opaque.render(&[1; 32]).len(), 64);
        let uuid = TokenShape::UuidShaped.render(&[0x0f; 16]);
        assert_eq!(uuid, "0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f");
    }
}
