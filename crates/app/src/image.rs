//! Checking uploaded logos by their content, not their name or declared type.

use crate::{AppError, Result};

/// Largest logo accepted, in bytes.
pub const LOGO_MAX_BYTES: usize = 1024 * 1024;
/// Largest width or height accepted, in pixels.
pub const LOGO_MAX_SIDE: usize = 4096;

/// Returns the media type of a PNG, JPEG or WebP image within the limits.
pub(crate) fn check_logo(bytes: &[u8]) -> Result<&'static str> {
    let refuse = |message: String| AppError::Unprocessable {
        code: "logo.invalid",
        message,
    };
    if bytes.is_empty() {
        return Err(refuse("the logo file is empty".into()));
    }
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(refuse(format!(
            "the logo is {} KiB; the limit is {} KiB",
            bytes.len() / 1024,
            LOGO_MAX_BYTES / 1024
        )));
    }
    let media_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return Err(refuse("the logo must be a PNG, JPEG or WebP image".into()));
    };
    let size = imagesize::blob_size(bytes)
        .map_err(|_| refuse("the logo image is damaged or incomplete".into()))?;
    if size.width == 0 || size.height == 0 {
        return Err(refuse("the logo image has no pixels".into()));
    }
    if size.width > LOGO_MAX_SIDE || size.height > LOGO_MAX_SIDE {
        return Err(refuse(format!(
            "the logo is {}×{} pixels; the limit is {LOGO_MAX_SIDE}×{LOGO_MAX_SIDE}",
            size.width, size.height
        )));
    }
    Ok(media_type)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid PNG header of the given size (enough for the size check).
    pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        v.extend_from_slice(&width.to_be_bytes());
        v.extend_from_slice(&height.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn accepts_images_by_content() {
        assert_eq!(check_logo(&png(200, 80)).ok(), Some("image/png"));
        let code = |b: &[u8]| check_logo(b).err().map(|e| e.to_string());
        assert!(code(b"GIF89a....").is_some_and(|m| m.contains("PNG, JPEG or WebP")));
        assert!(code(b"<svg xmlns='http://www.w3.org/2000/svg'/>").is_some());
        assert!(code(&png(5000, 10)).is_some_and(|m| m.contains("limit")));
        assert!(code(&png(0, 10)).is_some());
        assert!(code(b"\x89PNG\r\n\x1a\n").is_some_and(|m| m.contains("damaged")));
        assert!(code(&vec![0xFF; LOGO_MAX_BYTES + 1]).is_some_and(|m| m.contains("KiB")));
        assert!(code(b"").is_some());
    }
}
