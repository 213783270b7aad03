//! `GET /ISAPI/System/IO/{inputs,outputs}/<id>/status`: alarm I/O state.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::xml::Element;

/// `IOPortStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoPortStatus {
    /// `ioPortID`.
    pub id: Option<u32>,
    /// `ioPortType` (`input`, `output`).
    pub port_type: Option<String>,
    /// `ioState == active`.
    pub active: Option<bool>,
}

impl XmlModel for IoPortStatus {
    const ROOTS: &'static [&'static str] = &["IOPortStatus"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        Ok(Self {
            id: root.u32_of("ioPortID"),
            port_type: root.string_of("ioPortType"),
            active: root
                .text_of("ioState")
                .map(|s| s.eq_ignore_ascii_case("active")),
        })
    }
}
