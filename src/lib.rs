//! Rosetta: one account core served through five legacy mobile-app API dialects.
//!
//! Layers, outside in: `dialects` (wire formats) call `service` (the account core's use cases),
//! which uses `domain` (pure types and rules) and `storage` (diesel, the only place SQL lives).

pub mod copy;
pub mod cutover;
#[path = "../dialects/mod.rs"]
pub mod dialects;
pub mod domain;
pub mod import;
pub mod ops;
pub mod providers;
pub mod replay;
pub mod replay_cli;
pub mod service;
pub mod settings;
pub mod startup;
pub mod storage;
pub mod telemetry;
pub mod traffic;
