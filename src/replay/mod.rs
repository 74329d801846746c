//! Record and replay for QA and migration teams: transcripts, matchers and captures, rebinding of
//! raw recordings, HAR import, comparison, reports, and the recorder middleware. The
//! `rosetta replay` command and its in-process gateway live in `crate::replay_cli`, above this
//! module and the server.

pub mod accept;
pub mod compare;
pub mod har;
pub mod input;
pub mod rebind;
pub mod recorder;
pub mod recording;
pub mod report;
pub mod runner;
pub mod template;
pub mod transcript;
