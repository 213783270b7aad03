//! Integration tests: the real server on a random port, real HTTP, a real SQLite file
//! and a real PostgreSQL database — every scenario on both.

mod support;

mod accounts;
mod alarms;
mod alert_rules;
mod bad_input;
mod browser;
mod cli;
mod company;
mod devices;
mod end_users;
mod handover;
mod handover_portal;
mod health;
mod link;
mod link_fuzz;
mod link_portal;
mod link_restart;
mod link_types;
mod notifications;
mod portal;
mod schema;
mod sites;
