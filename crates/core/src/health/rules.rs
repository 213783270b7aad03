//! The health rules (being written).

use super::{Assessment, Level, Observation};
use crate::compat::DeviceType;

pub(super) fn assess(_device_type: DeviceType, obs: &Observation) -> Assessment {
    Assessment {
        level: if obs.reachable {
            Level::Unknown
        } else {
            Level::Offline
        },
        reasons: Vec::new(),
    }
}
