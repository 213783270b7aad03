//! Fuzzes the alert-stream decoder: no panics, and chunking never changes the result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use siteward_isapi::alert_stream::AlertStreamDecoder;

fuzz_target!(|data: &[u8]| {
    // The first byte picks a split point; the rest is the stream.
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let mut whole = AlertStreamDecoder::new();
    let mut expected = whole.push(stream);
    expected.extend(whole.finish());

    let cut = usize::from(split) % (stream.len() + 1);
    let mut chunked = AlertStreamDecoder::new();
    let mut got = chunked.push(&stream[..cut]);
    got.extend(chunked.push(&stream[cut..]));
    got.extend(chunked.finish());
    assert_eq!(expected, got, "chunking changed the decoded items");

    let mut known = AlertStreamDecoder::with_boundary("boundary");
    for piece in stream.chunks(7) {
        let _ = known.push(piece);
    }
    let _ = known.finish();
});
