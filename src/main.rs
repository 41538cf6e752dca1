#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    kthena_sim::cli::main()
}
