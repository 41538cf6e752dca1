//! Built-in [`ServerParams`] for common model × GPU pairs. They are approximations from public
//! vLLM profiling and hardware figures, good for comparing policies, not for capacity planning
//! to the millisecond: measure your own deployment and override the fields that matter
//! ([`ServerSpec`](super::server::ServerSpec) takes a preset and overrides).
//!
//! | preset | source |
//! |---|---|
//! | `llama2-70b-8xa100` | model-rules.md: public vLLM profiling of Llama-2-70B, TP 8 |
//! | `llama2-70b-8xh100` | model-rules.md, same source |
//! | `llama3-8b-1xh100` | derived from H100 and Llama-3-8B figures (see its entry) |
//! | `llama3-8b-1xa100` | derived likewise, calibrated on a public vLLM A100 sweep |
//!
//! What every preset approximates: the step cost is linear (model-rules.md rule 5) where a real
//! step is closer to the maximum of a memory-bound and a compute-bound time; prefill attention
//! is folded into the per-token prefill cost; KV capacity is counted in tokens, not 16-token
//! blocks; CUDA-graph padding, sampling options and prefix caching are ignored.

use super::server::ServerParams;

/// A named parameter set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    /// GPUs one server (one pod) uses: its tensor parallelism.
    pub gpus: u32,
    /// Where the figures come from: measured (the data, its licence and the fit error) or
    /// derived by hand.
    pub provenance: &'static str,
    pub params: ServerParams,
}

/// Every preset, by name.
pub const PRESETS: [Preset; 4] = [
    // Llama-2-70B, tensor-parallel over 8×A100-80GB: the figures model-rules.md fixes, from
    // public vLLM profiling of this pair — a step of ≈ 43 ms + 0.44 ms per decoding sequence,
    // ≈ 5,300 prompt tokens per second, 400,000 KV tokens (≈ 131 GB at 320 KiB per token:
    // 80 layers × 8 KV heads × 128 × K,V × bf16, a conservative share of the 640 GB left after
    // 138 GB of weights). No context term: its cost is folded into the per-sequence figure.
    Preset {
        name: "llama2-70b-8xa100",
        gpus: 8,
        provenance: "derived by hand from public vLLM profiling of Llama-2-70B on 8×A100; not measured",
        params: ServerParams {
            max_num_seqs: 64,
            max_num_batched_tokens: 8_192,
            kv_cache_tokens: 400_000,
            base_ms: 43.0,
            per_prefill_token_ms: 1_000.0 / 5_300.0,
            per_decode_seq_ms: 0.44,
            per_context_token_ms: 0.0,
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
        },
    },
    // The same model on 8×H100-80GB (SXM), same source: ≈ 30 ms + 0.31 ms per decoding
    // sequence, ≈ 9,700 prompt tokens per second, 600,000 KV tokens.
    Preset {
        name: "llama2-70b-8xh100",
        gpus: 8,
        provenance: "derived by hand from public vLLM profiling of Llama-2-70B on 8×H100; not measured",
        params: ServerParams {
            max_num_seqs: 64,
            max_num_batched_tokens: 8_192,
            kv_cache_tokens: 600_000,
            base_ms: 30.0,
            per_prefill_token_ms: 1_000.0 / 9_700.0,
            per_decode_seq_ms: 0.31,
            per_context_token_ms: 0.0,
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
        },
    },
    // Llama-3-8B (bf16, 16.06 GB of weights) on one H100-SXM-80GB (3.35 TB/s, 989 TFLOPS
    // dense bf16), derived from the hardware figures with efficiencies of the order public vLLM
    // runs show:
    // - base 7 ms: a decode step reads every weight once, 4.8 ms at full bandwidth; small
    //   batches reach ≈ 70% of it on H100 (launch overheads do not shrink with bandwidth);
    // - 0.04 ms per decode sequence: 16 GFLOP per token at ≈ 40% of peak tensor throughput;
    // - 18,000 prompt tokens/s (0.0556 ms/token): ≈ 30% MFU in chunked prefill;
    // - 4.9e-5 ms per context token: each decode reads 128 KiB of KV per token (32 layers ×
    //   8 KV heads × 128 × K,V × bf16) at ≈ 80% of bandwidth;
    // - 420,000 KV tokens: 0.9 × 80 GB (vLLM's default memory utilisation), less 15 GiB of
    //   weights and ≈ 4 GiB of activations and CUDA graphs, leaves ≈ 52 GiB: 128 KiB per token;
    // - 256 sequences (vLLM's long-standing `max_num_seqs` default), 8,192-token budget.
    // At 64 sequences of 1,500 tokens this gives ≈ 14 ms per decode step, the order of the
    // inter-token latencies published for Llama-3-8B under vLLM on H100 at that concurrency.
    Preset {
        name: "llama3-8b-1xh100",
        gpus: 1,
        provenance: "derived by hand from H100 and Llama-3-8B hardware figures; not measured",
        params: ServerParams {
            max_num_seqs: 256,
            max_num_batched_tokens: 8_192,
            kv_cache_tokens: 420_000,
            base_ms: 7.0,
            per_prefill_token_ms: 1_000.0 / 18_000.0,
            per_decode_seq_ms: 0.04,
            per_context_token_ms: 4.9e-5,
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
        },
    },
    // Llama-3-8B on one A100-SXM-80GB (2.04 TB/s, 312 TFLOPS dense bf16), derived as above:
    // - base 10 ms: 7.9 ms of weight reads at full bandwidth, at the ≈ 77% of it a public vLLM
    //   sweep measured for single-stream Llama-3.1-8B decode on A100 (≈ 75 tokens/s on the
    //   40 GB card; johnmusgrave.com/p/vllm-throughput-latency-sweep-on);
    // - 0.13 ms per decode sequence (16 GFLOP at ≈ 40% of peak);
    // - 8,000 prompt tokens/s (0.125 ms/token, ≈ 41% MFU);
    // - 8.0e-5 ms per context token (128 KiB at ≈ 80% of bandwidth);
    // - 420,000 KV tokens (same 80 GB memory budget as the H100 preset), 256 sequences,
    //   8,192-token budget.
    // At 64 sequences of 1,500 tokens: ≈ 26 ms per decode step.
    Preset {
        name: "llama3-8b-1xa100",
        gpus: 1,
        provenance: "derived by hand from A100 and Llama-3-8B hardware figures and a public vLLM sweep; not measured",
        params: ServerParams {
            max_num_seqs: 256,
            max_num_batched_tokens: 8_192,
            kv_cache_tokens: 420_000,
            base_ms: 10.0,
            per_prefill_token_ms: 1_000.0 / 8_000.0,
            per_decode_seq_ms: 0.13,
            per_context_token_ms: 8.0e-5,
            prefill_attention_ms: 0.0,
            request_overhead_ms: 0.0,
        },
    },
];

/// The preset called `name`.
pub fn get(name: &str) -> Option<ServerParams> {
    PRESETS.iter().find(|p| p.name == name).map(|p| p.params)
}
