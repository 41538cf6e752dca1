//! kthena-sim: what will a Kthena autoscaling policy do, and what will it cost?
//!
//! A bit-exact port of Kthena's autoscaler ([`engine`]) inside a deterministic
//! discrete-event simulator of LLM serving ([`model`]), with the readers of the user's files
//! ([`kthena`], [`scenario`], [`workload`]), the outputs ([`outputs`], [`report`], [`chart`])
//! and the many-run commands ([`experiment`], [`plan`]) around it.
//!
//! The crate is built in layers; each module uses only modules below it (the README's "Code
//! layout" table lists which, and `tests/it/layering.rs` keeps it true):
//!
//! ```text
//!  cli  fuzzing   the command line (the only place with paths, anyhow, progress bars, exit
//!                 codes); the fuzz targets' entry points
//!  plan           the cheapest-configuration search
//!  prom           the user's own Prometheus: real traffic in, shadow replays of a policy
//!  experiment     variants of a scenario run in parallel (compare, sweep, plan)
//!  chart          figures (SVG, PNG) drawn from a run's output files
//!  calibrate      the server model fitted to measured hardware
//!  report         results to bytes: summary.json, CSV files, report.md, tables, JUnit
//!  scenario       the user's YAML -> WorldSpec + workload + assertions + output
//!  model          the simulated world, configured by its WorldSpec; World coordinates it
//!  replay         recorded ticks through either engine version
//!  golden         the golden JSON Lines format (replay reads it, the engine log writes it)
//!  workload       request streams: synthetic generators and trace readers
//!  kthena         Kubernetes manifests (Kthena's, HPA, KEDA, Knative) read and checked as
//!                 the API server and webhooks do
//!  engine  hpa  kpa  keda
//!                 the port of Kthena's autoscaler and of the three it is compared with:
//!                 pure, no I/O, clock or randomness
//!  sim  text  stats  outputs  diagnostic
//!                 leaves: the DES kernel, text files read whole, estimates over
//!                 replications, the output formats as types, problems with their file,
//!                 place and field path
//! ```
#![forbid(unsafe_code)]

pub mod calibrate;
pub mod chart;
pub mod cli;
pub mod diagnostic;
pub mod engine;
pub mod experiment;
pub mod fuzzing;
pub mod golden;
pub mod hpa;
pub mod keda;
pub mod kpa;
pub mod kthena;
pub mod model;
pub mod outputs;
pub mod plan;
pub mod prom;
pub mod replay;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod text;
pub mod workload;
