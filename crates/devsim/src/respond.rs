//! Building device HTTP responses: content types, the `Server` header of the firmware
//! family, and the not-supported answers of real firmware.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};

use crate::device::Device;
use crate::documents::{self, Status};
use crate::spec::DeviceKind;

/// A device HTTP response.
pub type Reply = Response<Body>;

fn server(dev: &Device) -> &'static str {
    match dev.id.kind {
        DeviceKind::Ipc | DeviceKind::Doorbell => "App-webs/",
        DeviceKind::ThirdParty => "Boa/0.94.14rc21",
        _ => "DNVRS-Webs",
    }
}

/// A response with a body and content type.
pub fn with_type(
    dev: &Device,
    status: StatusCode,
    content_type: &'static str,
    body: String,
) -> Reply {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::SERVER, HeaderValue::from_static(server(dev)));
    r
}

/// `application/xml`.
pub fn xml(dev: &Device, status: StatusCode, body: String) -> Reply {
    with_type(dev, status, "application/xml; charset=\"UTF-8\"", body)
}

/// `application/json`.
pub fn json(dev: &Device, status: StatusCode, body: String) -> Reply {
    with_type(dev, status, "application/json; charset=\"UTF-8\"", body)
}

/// 200 with an XML document.
pub fn ok_xml(dev: &Device, body: String) -> Reply {
    xml(dev, StatusCode::OK, body)
}

/// 200 with a JSON document.
pub fn ok_json(dev: &Device, body: String) -> Reply {
    json(dev, StatusCode::OK, body)
}

/// A `ResponseStatus` in XML or JSON (per `?format=json`) with the HTTP status.
pub fn status(dev: &Device, http: StatusCode, url: &str, json_format: bool, st: Status) -> Reply {
    if json_format {
        json(dev, http, documents::response_status_json(url, st))
    } else {
        xml(
            dev,
            http,
            documents::response_status_xml(dev.dialect(), url, st),
        )
    }
}

/// 200 `ResponseStatus` OK.
pub fn ok_status(dev: &Device, url: &str, json_format: bool) -> Reply {
    status(dev, StatusCode::OK, url, json_format, Status::Ok)
}

/// Known ISAPI resource this firmware does not have: 403 `notSupport` (the common answer).
pub fn forbidden(dev: &Device, url: &str, json_format: bool) -> Reply {
    status(
        dev,
        StatusCode::FORBIDDEN,
        url,
        json_format,
        Status::NotSupport,
    )
}

/// Unknown resource: 404 `notSupport`.
pub fn not_found(dev: &Device, url: &str, json_format: bool) -> Reply {
    status(
        dev,
        StatusCode::NOT_FOUND,
        url,
        json_format,
        Status::NotSupport,
    )
}

/// Malformed request body.
pub fn bad_request(dev: &Device, url: &str, json_format: bool) -> Reply {
    status(
        dev,
        StatusCode::BAD_REQUEST,
        url,
        json_format,
        Status::BadXmlFormat,
    )
}
