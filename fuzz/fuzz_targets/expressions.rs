#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kthena_sim::fuzzing::expressions(data));
