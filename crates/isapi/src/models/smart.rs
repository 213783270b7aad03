//! `GET /ISAPI/ContentMgmt/Storage/hdd/<id>/SMARTTest/status`: disk S.M.A.R.T.
//!
//! No real capture exists (isapi.md §12); element names follow the documented,
//! misspelled forms (`temprature`, `selfEvaluaingStatus`, `allEvaluaingStatus`),
//! with the correct spellings accepted too.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::xml::Element;

/// One S.M.A.R.T. attribute row (`TestResultList/TestResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmartAttribute {
    /// `attributeID`.
    pub id: Option<u32>,
    /// `attributeName`, when sent.
    pub name: Option<String>,
    /// `statusFlags`.
    pub status_flags: Option<String>,
    /// Normalised `value`.
    pub value: Option<u64>,
    /// `worst`.
    pub worst: Option<u64>,
    /// `threshold(s)`.
    pub threshold: Option<u64>,
    /// `rawValue` as text (may be large or composite).
    pub raw_value: Option<String>,
    /// Per-attribute `status`, when sent.
    pub status: Option<String>,
}

/// The S.M.A.R.T. status document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmartStatus {
    /// Disk temperature in °C (`temprature`).
    pub temperature_c: Option<i64>,
    /// Power-on time in days.
    pub power_on_days: Option<u64>,
    /// `selfEvaluaingStatus` (e.g. `ok`).
    pub self_evaluating_status: Option<String>,
    /// `allEvaluaingStatus` (e.g. `functional`, `fault`).
    pub all_evaluating_status: Option<String>,
    /// `selfTestPercent`.
    pub self_test_percent: Option<u32>,
    /// `selfTestStatus`, when sent.
    pub self_test_status: Option<String>,
    /// Attribute table.
    pub attributes: Vec<SmartAttribute>,
}

fn first_text(e: &Element, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| e.string_of(n))
}

impl SmartStatus {
    /// True when the device reports the disk as healthy in both evaluations.
    pub fn is_healthy(&self) -> Option<bool> {
        let good = |s: &Option<String>| {
            s.as_deref().map(|v| {
                matches!(
                    v.to_ascii_lowercase().as_str(),
                    "ok" | "functional" | "normal" | "pass"
                )
            })
        };
        match (
            good(&self.self_evaluating_status),
            good(&self.all_evaluating_status),
        ) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(true) && b.unwrap_or(true)),
        }
    }
}

impl XmlModel for SmartStatus {
    const ROOTS: &'static [&'static str] = &[
        "SMARTTest",
        "SmartTestStatus",
        "SMARTTestStatus",
        "SMARTStatus",
    ];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let attributes = root
            .descendants_named("TestResult")
            .into_iter()
            .map(|r| SmartAttribute {
                id: r.u32_of("attributeID").or_else(|| r.u32_of("id")),
                name: r.string_of("attributeName"),
                status_flags: r.string_of("statusFlags"),
                value: r.u64_of("value").or_else(|| r.u64_of("currentValue")),
                worst: r.u64_of("worst"),
                threshold: r.u64_of("thresholds").or_else(|| r.u64_of("threshold")),
                raw_value: r.string_of("rawValue"),
                status: r.string_of("status"),
            })
            .collect();
        Ok(Self {
            temperature_c: root
                .i64_of("temprature")
                .or_else(|| root.i64_of("temperature")),
            power_on_days: root
                .u64_of("powerOnDay")
                .or_else(|| root.u64_of("powerOnDays")),
            self_evaluating_status: first_text(
                root,
                &["selfEvaluaingStatus", "selfEvaluatingStatus"],
            ),
            all_evaluating_status: first_text(root, &["allEvaluaingStatus", "allEvaluatingStatus"]),
            self_test_percent: root.u32_of("selfTestPercent"),
            self_test_status: root.string_of("selfTestStatus"),
            attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_documented_names() {
        let doc = br#"<SMARTTest version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<selfTestStatus>notTested</selfTestStatus><selfTestPercent>0</selfTestPercent>
<temprature> 38 </temprature><powerOnDay>1021</powerOnDay>
<selfEvaluaingStatus>ok</selfEvaluaingStatus><allEvaluaingStatus>functional</allEvaluaingStatus>
<TestResultList>
 <TestResult><attributeID>5</attributeID><statusFlags>51</statusFlags><thresholds>140</thresholds><value>200</value><worst>200</worst><rawValue>0</rawValue></TestResult>
 <TestResult><attributeID>194</attributeID><value>112</value><rawValue>38</rawValue></TestResult>
</TestResultList></SMARTTest>"#;
        let s = SmartStatus::from_xml(doc).expect("parses");
        assert_eq!(s.temperature_c, Some(38));
        assert_eq!(s.power_on_days, Some(1021));
        assert_eq!(s.self_evaluating_status.as_deref(), Some("ok"));
        assert_eq!(s.all_evaluating_status.as_deref(), Some("functional"));
        assert_eq!(s.attributes.len(), 2);
        assert_eq!(s.attributes[0].threshold, Some(140));
        assert_eq!(s.attributes[1].id, Some(194));
        assert_eq!(s.is_healthy(), Some(true));
        let bad = SmartStatus::from_xml(
            b"<SMARTTest><allEvaluaingStatus>fault</allEvaluaingStatus></SMARTTest>",
        )
        .expect("parses");
        assert_eq!(bad.is_healthy(), Some(false));
    }
}
