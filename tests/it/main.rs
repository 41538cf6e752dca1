mod golden;
mod replay;
mod validate;
