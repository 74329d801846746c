//! Rosetta: one account core served through five legacy mobile-app API dialects.

pub mod domain;
pub mod service;
pub mod storage;
