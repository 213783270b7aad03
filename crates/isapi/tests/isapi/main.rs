//! Integration tests for the ISAPI crate, in one binary: every real sample,
//! property tests, and a fake device over HTTP.

mod device;
mod properties;
mod samples;
