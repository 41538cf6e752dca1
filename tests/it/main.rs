mod golden;
mod replay;
mod run;
mod validate;
