//! The ISAPI device protocol (being built).
