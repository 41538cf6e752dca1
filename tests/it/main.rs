mod chart;
mod compare;
mod golden;
mod replay;
mod run;
mod trace;
mod validate;
