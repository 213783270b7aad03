//! `GET /ISAPI/System/status`: uptime, CPU and memory.

use serde::{Deserialize, Serialize};

use super::XmlModel;
use crate::error::ParseError;
use crate::timestamp::DeviceTime;
use crate::xml::Element;

/// One CPU entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpuStatus {
    /// `cpuDescription`.
    pub description: Option<String>,
    /// `cpuUtilization` in percent.
    pub utilization_percent: Option<f64>,
}

/// One memory entry. Units differ per firmware (cameras: %/KiB, NVRs: MB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryStatus {
    /// `memoryDescription`.
    pub description: Option<String>,
    /// `memoryUsage` as sent (trimmed).
    pub usage: Option<f64>,
    /// `memoryAvailable` as sent (trimmed).
    pub available: Option<f64>,
}

/// `DeviceStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// `currentDeviceTime`.
    pub current_device_time: Option<DeviceTime>,
    /// `deviceUpTime` in seconds.
    pub uptime_secs: Option<u64>,
    /// CPUs.
    pub cpus: Vec<CpuStatus>,
    /// Memory banks.
    pub memory: Vec<MemoryStatus>,
    /// `totalRebootCount`, when sent.
    pub total_reboot_count: Option<u64>,
}

impl XmlModel for DeviceStatus {
    const ROOTS: &'static [&'static str] = &["DeviceStatus"];

    fn from_element(root: &Element) -> Result<Self, ParseError> {
        Ok(Self {
            current_device_time: root.text_of("currentDeviceTime").map(DeviceTime::parse),
            uptime_secs: root.u64_of("deviceUpTime"),
            cpus: root
                .descendants_named("CPU")
                .into_iter()
                .map(|c| CpuStatus {
                    description: c.string_of("cpuDescription"),
                    utilization_percent: c.f64_of("cpuUtilization"),
                })
                .collect(),
            memory: root
                .descendants_named("Memory")
                .into_iter()
                .map(|m| MemoryStatus {
                    description: m.string_of("memoryDescription"),
                    usage: m.f64_of("memoryUsage"),
                    available: m.f64_of("memoryAvailable"),
                })
                .collect(),
            total_reboot_count: root.u64_of("totalRebootCount"),
        })
    }
}
