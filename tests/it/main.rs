mod chart;
mod compare;
mod golden;
mod plan;
mod replay;
mod run;
mod trace;
mod validate;
