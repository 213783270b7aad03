//! Property tests: no parser panics on any bytes, and the alert-stream decoder
//! yields the same items however its input is chunked.

use proptest::prelude::*;
use siteward_isapi::alert_stream::{AlertStreamDecoder, StreamItem, decode_all};
use siteward_isapi::models::*;
use siteward_isapi::session::SessionLoginCap;
use siteward_isapi::{DeviceTime, Element, digest, parse_unauthorized_body};

fn run_all_parsers(bytes: &[u8]) {
    let _ = Element::parse(bytes);
    let _ = DeviceInfo::from_xml(bytes);
    let _ = Storage::from_xml(bytes);
    let _ = SmartStatus::from_xml(bytes);
    let _ = NetworkInterfaceList::from_xml(bytes);
    let _ = InputProxyChannelList::from_xml(bytes);
    let _ = InputProxyChannelStatusList::from_xml(bytes);
    let _ = StorageExtension::from_xml(bytes);
    let _ = RecordingTrackList::from_xml(bytes);
    let _ = DeviceStatus::from_xml(bytes);
    let _ = DeviceClock::from_xml(bytes);
    let _ = EventAlert::parse(bytes);
    let _ = HttpHostNotificationList::from_xml(bytes);
    let _ = IoPortStatus::from_xml(bytes);
    let _ = SessionLoginCap::from_xml(bytes);
    let _ = ResponseStatus::sniff(bytes);
    let _ = HdStatusList::from_json(bytes);
    let _ = PanelStatus::from_json(bytes);
    let _ = AcsWorkStatus::from_json(bytes);
    let _ = CallStatus::from_json(bytes);
    let _ = parse_unauthorized_body(bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = digest::parse_challenges(&text);
    let _ = DeviceTime::parse(&text);
    let _ = decode_all(None, bytes);
    let _ = decode_all(Some("multipart/mixed; boundary=b"), bytes);
}

/// XML-ish and stream-ish fragments that steer random input into deep paths.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<EventNotificationAlert>".to_owned()),
        Just("</EventNotificationAlert>".to_owned()),
        Just("<eventType>VMD</eventType>".to_owned()),
        Just("<eventState>inactive</eventState>".to_owned()),
        Just("<channelID> 34 </channelID>".to_owned()),
        Just("<dateTime>2024-01-22T11:47:1500:00</dateTime>".to_owned()),
        Just("<storage xmlns=\"urn:x\"><hddList><hdd><capacity>9</capacity>".to_owned()),
        Just("</hdd></hddList></storage>".to_owned()),
        Just("<a:b xmlns:a=\"u\" opt=\"x,y\"/>".to_owned()),
        Just("&amp;&#65;&bogus;&".to_owned()),
        Just("<![CDATA[x]]>".to_owned()),
        Just("<!--".to_owned()),
        Just("-->".to_owned()),
        Just("<?xml version=\"1.0\"?>".to_owned()),
        Just("{\"eventType\":\"cidEvent\",\"CIDEvent\":{\"code\":\"3401\"}}".to_owned()),
        Just("{\"AlarmHostStatus\":{\"BatteryList\":[{\"Battery\":{\"percent\":5}}]".to_owned()),
        Just("\r\n--b\r\n".to_owned()),
        Just("--b--\r\n".to_owned()),
        Just("Content-Type: application/xml\r\n".to_owned()),
        Just("Content-Length: 12\r\n\r\n".to_owned()),
        Just("Content-Type: image/jpeg\r\nContent-Length: 3\r\n\r\n\u{ff}\u{d8}\u{ff}".to_owned()),
        Just("\r\n".to_owned()),
        Just("<".to_owned()),
        Just("\"".to_owned()),
        "[ -~]{0,12}",
    ]
}

/// Pieces of a realistic stream: real parts plus noise.
fn stream_piece() -> impl Strategy<Value = Vec<u8>> {
    let event = "<EventNotificationAlert version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\">\r\n<channelID>34</channelID>\r\n<dateTime>2024-11-19T16:53:28+01:00</dateTime>\r\n<activePostCount>1</activePostCount>\r\n<eventType>fielddetection</eventType>\r\n<eventState>active</eventState>\r\n</EventNotificationAlert>";
    let beat = "<EventNotificationAlert><channelID>1</channelID><activePostCount>0</activePostCount><eventType>videoloss</eventType><eventState>inactive</eventState></EventNotificationAlert>";
    let json = "{\"eventType\":\"AccessControllerEvent\",\"eventState\":\"active\",\"AccessControllerEvent\":{\"majorEventType\":5,\"subEventType\":75,\"name\":\"a \\\"b\\\" }\"}}";
    prop_oneof![
        4 => Just(format!("--b\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\nContent-Length: {}\r\n\r\n{event}\r\n", event.len()).into_bytes()),
        2 => Just(format!("--b\r\nContent-Type: application/xml\r\n\r\n{beat}\r\n").into_bytes()),
        2 => Just(format!("--b\r\nContent-Type: application/json\r\n\r\n{json}\r\n").into_bytes()),
        1 => Just(b"--b\r\n".to_vec()),
        1 => Just(event.as_bytes().to_vec()),
        1 => Just(b"--b\r\nContent-Type: image/jpeg\r\nContent-Length: 6\r\n\r\n\xff\xd8--b\r\n\r\n".to_vec()),
        1 => Just(b"--b\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xd9\r\n".to_vec()),
        1 => Just(b"--b\r\nContent-Type: application/xml\r\n\r\n<EventNotificationAlert><eventType>VMD\r\n".to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
        1 => "[ -~\r\n]{0,40}".prop_map(String::into_bytes),
    ]
}

fn decode_chunked(bytes: &[u8], cuts: &[usize], boundary: Option<&str>) -> Vec<StreamItem> {
    let mut d = match boundary {
        Some(b) => AlertStreamDecoder::with_boundary(b),
        None => AlertStreamDecoder::new(),
    };
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut items = Vec::new();
    let mut from = 0;
    for c in cuts {
        items.extend(d.push(&bytes[from..c]));
        from = c;
    }
    items.extend(d.push(&bytes[from..]));
    items.extend(d.finish());
    items
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        run_all_parsers(&bytes);
    }

    #[test]
    fn parsers_never_panic_on_xmlish(parts in proptest::collection::vec(fragment(), 0..40)) {
        run_all_parsers(parts.concat().as_bytes());
    }

    #[test]
    fn stream_chunking_does_not_matter(
        pieces in proptest::collection::vec(stream_piece(), 0..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        known in any::<bool>(),
    ) {
        let bytes = pieces.concat();
        let boundary = known.then_some("b");
        let whole = decode_chunked(&bytes, &[], boundary);
        let chunked = decode_chunked(&bytes, &cuts, boundary);
        prop_assert_eq!(&whole, &chunked);
        // One byte at a time is the harshest chunking.
        let all: Vec<usize> = (0..=bytes.len()).collect();
        prop_assert_eq!(&whole, &decode_chunked(&bytes, &all, boundary));
    }

    #[test]
    fn stream_chunking_does_not_matter_for_noise(
        parts in proptest::collection::vec(fragment(), 0..30),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes = parts.concat().into_bytes();
        prop_assert_eq!(decode_chunked(&bytes, &[], None), decode_chunked(&bytes, &cuts, None));
    }

    #[test]
    fn well_formed_events_all_arrive(n in 1usize..8, cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let (bytes, expected) = crate::samples::sample_stream("hikboundary");
        let mut stream = Vec::new();
        for _ in 0..n {
            stream.extend_from_slice(&bytes);
        }
        let items = decode_chunked(&stream, &cuts, None);
        let events = items.iter().filter(|i| matches!(i, StreamItem::Event(_))).count();
        prop_assert_eq!(events, expected.len() * n);
        let malformed = items.iter().filter(|i| matches!(i, StreamItem::Malformed { .. })).count();
        prop_assert_eq!(malformed, 0);
    }
}
