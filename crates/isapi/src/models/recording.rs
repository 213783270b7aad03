//! Recording configuration: `GET /ISAPI/ContentMgmt/Storage/extension`
//! (overwrite when full, `LoopEnable`) and `GET /ISAPI/ContentMgmt/record/tracks`.
//!
//! Neither has a real capture (isapi.md §12); shapes follow the documentation.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::xml::Element;

/// `storageExtension`: whether the recorder overwrites the oldest footage when full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageExtension {
    /// `LoopEnable`: `true` = overwrite oldest recordings.
    pub overwrite: Option<bool>,
}

impl XmlModel for StorageExtension {
    const ROOTS: &'static [&'static str] = &["storageExtension", "StorageExtension"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let overwrite = root.bool_of("LoopEnable").or_else(|| {
            root.descendant("LoopEnable")
                .and_then(|e| crate::value::parse_bool(e.text()))
        });
        Ok(Self { overwrite })
    }
}

/// One recording `Track`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingTrack {
    /// Track id (`101` = channel 1 main stream).
    pub id: Option<u32>,
    /// `Channel`.
    pub channel: Option<u32>,
    /// `Enable`: recording enabled for this track.
    pub enabled: Option<bool>,
    /// `LoopEnable`: overwrite for this track.
    pub overwrite: Option<bool>,
    /// `Duration` (ISO-8601 period, e.g. `P30DT0H`).
    pub duration: Option<String>,
    /// `DefaultRecordingMode` (e.g. `CMR`).
    pub default_recording_mode: Option<String>,
    /// `CustomExtensionList/CustomExtension/enableSchedule`.
    pub schedule_enabled: Option<bool>,
}

/// `TrackList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingTrackList {
    /// Tracks in document order.
    pub tracks: Vec<RecordingTrack>,
}

impl XmlModel for RecordingTrackList {
    const ROOTS: &'static [&'static str] = &["TrackList", "Track"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        let map = |t: &Element| RecordingTrack {
            id: t.u32_of("id"),
            channel: t.u32_of("Channel"),
            enabled: t.bool_of("Enable"),
            overwrite: t.bool_of("LoopEnable"),
            duration: t.string_of("Duration"),
            default_recording_mode: t.string_of("DefaultRecordingMode"),
            schedule_enabled: t
                .descendant("enableSchedule")
                .and_then(|e| crate::value::parse_bool(e.text())),
        };
        let tracks = if root.is("Track") {
            vec![map(root)]
        } else {
            root.children_named("Track").map(map).collect()
        };
        Ok(Self { tracks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_enable() {
        let s = StorageExtension::from_xml(
            b"<storageExtension xmlns=\"http://www.isapi.org/ver20/XMLSchema\"><LoopEnable> true </LoopEnable></storageExtension>",
        )
        .expect("parses");
        assert_eq!(s.overwrite, Some(true));
        let t = RecordingTrackList::from_xml(
            b"<TrackList><Track><id>101</id><Channel>1</Channel><Enable>true</Enable><LoopEnable>false</LoopEnable><Duration>P30DT0H</Duration><CustomExtensionList><CustomExtension><enableSchedule>true</enableSchedule></CustomExtension></CustomExtensionList></Track></TrackList>",
        )
        .expect("parses");
        assert_eq!(t.tracks[0].overwrite, Some(false));
        assert_eq!(t.tracks[0].schedule_enabled, Some(true));
    }
}
