//! Image codes as pictures: the digits drawn from a 5×7 bitmap font, scaled, shifted and crossed
//! with noise, encoded as an 8-bit grayscale PNG (what SealTalk's `get_sms_img_code` serves).

use std::io::Write;

use rand::Rng;

/// Rows of each digit, 5 bits wide, most significant bit on the left.
const FONT: [[u8; 7]; 10] = [
    [
        0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110,
    ],
    [
        0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110,
    ],
    [
        0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111,
    ],
    [
        0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110,
    ],
    [
        0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010,
    ],
    [
        0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110,
    ],
    [
        0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110,
    ],
    [
        0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000,
    ],
    [
        0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110,
    ],
    [
        0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100,
    ],
];
const SCALE: usize = 4;
const CELL: usize = 5 * SCALE + 6;
const MARGIN: usize = 8;
pub const HEIGHT: usize = 7 * SCALE + 16;

/// The width of the picture of a code of `digits` digits.
pub fn width(digits: usize) -> usize {
    2 * MARGIN + digits * CELL
}

/// A PNG of `code` (digits only; anything else is drawn as a blank cell).
pub fn render_png(code: &str, rng: &mut impl Rng) -> Vec<u8> {
    let width = width(code.chars().count());
    let mut pixels = vec![255u8; width * HEIGHT];
    for (cell, digit) in code.chars().enumerate() {
        let Some(glyph) = digit.to_digit(10).map(|d| FONT[d as usize]) else {
            continue;
        };
        let left = MARGIN + cell * CELL + rng.random_range(0..6);
        let top = rng.random_range(2..HEIGHT - 7 * SCALE - 2);
        let ink: u8 = rng.random_range(0..90);
        for (row, bits) in glyph.iter().enumerate() {
            for column in 0..5 {
                if bits & (0b10000 >> column) == 0 {
                    continue;
                }
                for dy in 0..SCALE {
                    for dx in 0..SCALE {
                        let (x, y) = (left + column * SCALE + dx, top + row * SCALE + dy);
                        pixels[y * width + x] = ink;
                    }
                }
            }
        }
    }
    for _ in 0..3 {
        let from = (rng.random_range(0..width), rng.random_range(0..HEIGHT));
        let to = (rng.random_range(0..width), rng.random_range(0..HEIGHT));
        let shade = rng.random_range(110..170);
        draw_line(&mut pixels, width, from, to, shade);
    }
    for _ in 0..width * 2 {
        let at = rng.random_range(0..pixels.len());
        pixels[at] = rng.random_range(90..200);
    }
    encode_png(&pixels, width, HEIGHT)
}

fn draw_line(pixels: &mut [u8], width: usize, from: (usize, usize), to: (usize, usize), shade: u8) {
    let steps = from.0.abs_diff(to.0).max(from.1.abs_diff(to.1)).max(1);
    for step in 0..=steps {
        let x = from.0 as f64 + (to.0 as f64 - from.0 as f64) * step as f64 / steps as f64;
        let y = from.1 as f64 + (to.1 as f64 - from.1 as f64) * step as f64 / steps as f64;
        let at = y.round() as usize * width + x.round() as usize;
        if let Some(pixel) = pixels.get_mut(at) {
            *pixel = shade;
        }
    }
}

/// An 8-bit grayscale PNG: signature, IHDR, one zlib IDAT (filter 0 on every row), IEND.
fn encode_png(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = zlib.write_all(&raw);
    let compressed = zlib.finish().unwrap_or_default();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &compressed);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::io::Read;

    /// The chunks of a PNG, each checked against its CRC.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut out = Vec::new();
        let mut at = 8;
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = png[at + 4..at + 8].try_into().unwrap();
            let data = png[at + 8..at + 8 + len].to_vec();
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            let mut check = crc32fast::Hasher::new();
            check.update(&kind);
            check.update(&data);
            assert_eq!(check.finalize(), crc, "{}", String::from_utf8_lossy(&kind));
            out.push((kind, data));
            at += 12 + len;
        }
        out
    }

    #[test]
    fn a_code_becomes_a_valid_grayscale_png_with_ink_in_every_cell() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let png = render_png("0428", &mut rng);
        let chunks = chunks(&png);
        let kinds: Vec<&[u8; 4]> = chunks.iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [b"IHDR", b"IDAT", b"IEND"]);
        let header = &chunks[0].1;
        let width = u32::from_be_bytes(header[0..4].try_into().unwrap()) as usize;
        let height = u32::from_be_bytes(header[4..8].try_into().unwrap()) as usize;
        assert_eq!((width, height), (super::width(4), HEIGHT));
        assert_eq!(&header[8..], &[8, 0, 0, 0, 0]);
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&chunks[1].1[..])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), (width + 1) * height);
        // Every digit's cell holds glyph ink (darker than any noise).
        for cell in 0..4 {
            let columns = MARGIN + cell * CELL..MARGIN + (cell + 1) * CELL;
            let inked =
                (0..height).any(|y| columns.clone().any(|x| raw[y * (width + 1) + 1 + x] < 90));
            assert!(inked, "cell {cell}");
        }
    }

    #[test]
    fn pictures_of_one_code_differ() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_ne!(render_png("1234", &mut rng), render_png("1234", &mut rng));
    }
}
