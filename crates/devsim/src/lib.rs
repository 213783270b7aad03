//! The device simulator (being built).
