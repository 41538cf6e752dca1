//! kthena-sim: what will a Kthena autoscaling policy do, and what will it cost?
//!
//! The crate holds a bit-exact port of Kthena's autoscaler ([`engine`]), the reader and
//! validator of real Kthena manifests ([`engine::policy`]), the replay of recorded metric
//! ticks through either engine version ([`replay`]), and the command-line interface
//! ([`cli`]).

pub mod chart;
pub mod cli;
pub mod engine;
pub mod experiment;
pub mod fuzzing;
pub mod golden;
pub mod kthena;
pub mod model;
pub mod plan;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod text;
pub mod workload;
