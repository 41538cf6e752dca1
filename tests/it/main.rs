mod golden;
mod validate;
