//! The app's PNG icons (192 and 512 px, which browsers want before they offer to
//! install a web app), drawn in Rust from the same shapes as `static/app-icon.svg`
//! and encoded once, on first request.
//!
//! There is no image crate in the build, and none is needed: the icon has two
//! colours, so a 16-entry palette of their blends (4×4 supersampling for smooth
//! edges) and a zlib stream of run-length matches with fixed Huffman codes make
//! a small, valid PNG in a hundred lines.

use std::sync::OnceLock;

/// The brand blue of the portal's icon.
const BLUE: [u8; 3] = [0x1f, 0x4f, 0xd1];
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];
/// Palette entries: blends from blue (0) to white (15).
const SHADES: usize = 16;
/// Samples per pixel side.
const SS: usize = 4;

/// The icon of `size` px square (192 or 512), as PNG bytes.
pub(crate) fn png(size: u32) -> &'static [u8] {
    static SMALL: OnceLock<Vec<u8>> = OnceLock::new();
    static LARGE: OnceLock<Vec<u8>> = OnceLock::new();
    let cell = if size <= 192 { &SMALL } else { &LARGE };
    cell.get_or_init(|| encode(size.min(512) as usize))
}

/// The shield's outline in the SVG's 64-unit box, curves flattened.
fn shield() -> Vec<(f32, f32)> {
    let mut pts = vec![(32.0, 12.0), (48.0, 18.0), (48.0, 30.0)];
    let cubic = |p0: (f32, f32),
                 p1: (f32, f32),
                 p2: (f32, f32),
                 p3: (f32, f32),
                 out: &mut Vec<(f32, f32)>| {
        for i in 1..=16 {
            let t = i as f32 / 16.0;
            let u = 1.0 - t;
            let b = |a: f32, b: f32, c: f32, d: f32| {
                u * u * u * a + 3.0 * u * u * t * b + 3.0 * u * t * t * c + t * t * t * d
            };
            out.push((b(p0.0, p1.0, p2.0, p3.0), b(p0.1, p1.1, p2.1, p3.1)));
        }
    };
    cubic(
        (48.0, 30.0),
        (48.0, 41.0),
        (41.0, 49.0),
        (32.0, 52.0),
        &mut pts,
    );
    cubic(
        (32.0, 52.0),
        (23.0, 49.0),
        (16.0, 41.0),
        (16.0, 30.0),
        &mut pts,
    );
    pts.push((16.0, 18.0));
    pts
}

/// The check mark, drawn with a round 5-unit pen.
const CHECK: [(f32, f32); 3] = [(25.0, 32.0), (30.0, 37.0), (40.0, 26.0)];
const PEN: f32 = 2.5;

fn near_check(x: f32, y: f32) -> bool {
    CHECK.windows(2).any(|w| {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        let (dx, dy) = (bx - ax, by - ay);
        let t = (((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
        let (px, py) = (ax + t * dx - x, ay + t * dy - y);
        px * px + py * py <= PEN * PEN
    })
}

/// Palette indices, one byte a pixel.
fn draw(size: usize) -> Vec<u8> {
    let outline = shield();
    let scale = 64.0 / (size * SS) as f32;
    let mut white = vec![0u16; size * size];
    for sy in 0..size * SS {
        let y = (sy as f32 + 0.5) * scale;
        // Where this sample row crosses the outline (even-odd fill).
        let mut xs: Vec<f32> = Vec::new();
        for (i, &(ax, ay)) in outline.iter().enumerate() {
            let (bx, by) = outline[(i + 1) % outline.len()];
            if (ay <= y) != (by <= y) {
                xs.push(ax + (y - ay) / (by - ay) * (bx - ax));
            }
        }
        xs.sort_by(f32::total_cmp);
        for sx in 0..size * SS {
            let x = (sx as f32 + 0.5) * scale;
            let inside = xs.iter().filter(|&&c| c < x).count() % 2 == 1;
            if inside && !near_check(x, y) {
                white[(sy / SS) * size + sx / SS] += 1;
            }
        }
    }
    let full = (SS * SS) as u16;
    white
        .into_iter()
        .map(|w| {
            ((u32::from(w) * (SHADES as u32 - 1) + u32::from(full) / 2) / u32::from(full)) as u8
        })
        .collect()
}

fn encode(size: usize) -> Vec<u8> {
    let pixels = draw(size);
    let mut raw = Vec::with_capacity((size + 1) * size);
    for row in pixels.chunks(size) {
        raw.push(0); // filter: none
        raw.extend_from_slice(row);
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(size as u32).to_be_bytes());
    ihdr.extend_from_slice(&(size as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]); // 8-bit palette indices
    let palette: Vec<u8> = (0..SHADES)
        .flat_map(|i| {
            (0..3).map(move |c| {
                let (a, b) = (u32::from(BLUE[c]), u32::from(WHITE[c]));
                ((a * (SHADES - 1 - i) as u32 + b * i as u32) / (SHADES as u32 - 1)) as u8
            })
        })
        .collect();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"PLTE", &palette);
    chunk(&mut out, b"IDAT", &zlib(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Writes bits least significant first, as deflate wants.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, which deflate sends most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let reversed = code.reverse_bits() >> (32 - len);
        self.put(reversed, len);
    }

    /// A literal byte or end-of-block (256) in the fixed code.
    fn literal(&mut self, sym: u32) {
        match sym {
            0..=143 => self.code(0x30 + sym, 8),
            144..=255 => self.code(0x190 + sym - 144, 9),
            256..=279 => self.code(sym - 256, 7),
            _ => self.code(0xC0 + sym - 280, 8),
        }
    }

    /// A match of `len` (3..=258) at distance 1: a run of the previous byte.
    fn run(&mut self, len: u32) {
        const BASE: [u32; 29] = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
            115, 131, 163, 195, 227, 258,
        ];
        const EXTRA: [u32; 29] = [
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
        ];
        let i = BASE.iter().rposition(|&b| b <= len).unwrap_or(0);
        self.literal(257 + i as u32);
        self.put(len - BASE[i], EXTRA[i]);
        self.code(0, 5); // distance code 0: distance 1
    }
}

/// A zlib stream of one fixed-Huffman block: literals, and runs of a repeated byte
/// as matches at distance 1.
fn zlib(data: &[u8]) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman codes
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        bits.literal(u32::from(b));
        i += 1;
        let mut run = 0;
        while i + run < data.len() && data[i + run] == b && run < 258 {
            run += 1;
        }
        if run >= 3 {
            bits.run(run as u32);
            i += run;
        }
    }
    bits.literal(256);
    if bits.n > 0 {
        bits.out.push(bits.acc as u8);
    }
    let mut out = vec![0x78, 0x01];
    out.extend_from_slice(&bits.out);
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads what [`zlib`] writes (fixed Huffman codes only), to check the encoder
    /// against the format rather than against itself.
    fn inflate_fixed(z: &[u8]) -> Vec<u8> {
        assert_eq!(&z[..2], &[0x78, 0x01]);
        assert_eq!(u16::from_be_bytes([z[0], z[1]]) % 31, 0, "header check");
        let data = &z[2..z.len() - 4];
        let mut pos = 0usize;
        let mut bit = |n: u32| -> u32 {
            let mut v = 0;
            for k in 0..n {
                let b = (data[pos / 8] >> (pos % 8)) & 1;
                v |= u32::from(b) << k;
                pos += 1;
            }
            v
        };
        assert_eq!(bit(1), 1, "final");
        assert_eq!(bit(2), 1, "fixed codes");
        let mut out: Vec<u8> = Vec::new();
        loop {
            // Read a fixed literal/length code, most significant bit first.
            let mut code = 0u32;
            let mut len = 0;
            let sym = loop {
                code = (code << 1) | bit(1);
                len += 1;
                match (len, code) {
                    (7, 0..=0x17) => break 256 + code,
                    (8, 0x30..=0xBF) => break code - 0x30,
                    (8, 0xC0..=0xC7) => break 280 + code - 0xC0,
                    (9, 0x190..=0x1FF) => break 144 + code - 0x190,
                    (9, _) => panic!("bad code"),
                    _ => {}
                }
            };
            match sym {
                0..=255 => out.push(sym as u8),
                256 => break,
                _ => {
                    const BASE: [u32; 29] = [
                        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                        67, 83, 99, 115, 131, 163, 195, 227, 258,
                    ];
                    const EXTRA: [u32; 29] = [
                        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5,
                        5, 5, 5, 0,
                    ];
                    let i = (sym - 257) as usize;
                    let n = BASE[i] + bit(EXTRA[i]);
                    let mut d = 0;
                    for _ in 0..5 {
                        d = (d << 1) | bit(1);
                    }
                    assert_eq!(d, 0, "distance 1 only");
                    for _ in 0..n {
                        out.push(*out.last().expect("a byte to repeat"));
                    }
                }
            }
        }
        let adler = u32::from_be_bytes(z[z.len() - 4..].try_into().expect("4 bytes"));
        assert_eq!(adler, adler32(&out));
        out
    }

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn zlib_round_trips() {
        let mut data = vec![7u8; 1000];
        data.extend_from_slice(b"abcabc");
        data.extend(std::iter::repeat_n(200u8, 300));
        data.extend((0..=255).collect::<Vec<u8>>());
        assert_eq!(inflate_fixed(&zlib(&data)), data);
        assert_eq!(inflate_fixed(&zlib(&[])), Vec::<u8>::new());
    }

    #[test]
    fn icons_are_small_valid_pngs() {
        for size in [192u32, 512] {
            let png = png(size);
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
            assert!(png.len() < 40 * 1024, "{size}: {} bytes", png.len());
            // Walk the chunks, checking each CRC; inflate the image data.
            let mut at = 8;
            let mut idat = Vec::new();
            let mut kinds = Vec::new();
            while at < png.len() {
                let len = u32::from_be_bytes(png[at..at + 4].try_into().expect("len")) as usize;
                let body = &png[at + 4..at + 8 + len];
                let crc =
                    u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().expect("crc"));
                assert_eq!(crc, crc32(body));
                kinds.push(String::from_utf8_lossy(&body[..4]).into_owned());
                if &body[..4] == b"IHDR" {
                    assert_eq!(&body[4..8], &size.to_be_bytes());
                }
                if &body[..4] == b"IDAT" {
                    idat.extend_from_slice(&body[4..]);
                }
                at += 12 + len;
            }
            assert_eq!(kinds, ["IHDR", "PLTE", "IDAT", "IEND"]);
            let raw = inflate_fixed(&idat);
            let side = size as usize;
            assert_eq!(raw.len(), (side + 1) * side);
            // Blue corners, a white shield in the middle, the blue check on it.
            let px = |x: usize, y: usize| raw[y * (side + 1) + 1 + x];
            assert_eq!(px(0, 0), 0);
            assert_eq!(px(side / 2, side / 4), 15, "shield top");
            assert_eq!(px(side * 30 / 64, side * 37 / 64), 0, "check");
        }
    }
}
