//! Built-in [`ServerParams`] for common model × GPU pairs. They are approximations from public
//! vLLM profiling and hardware figures, good for comparing policies, not for capacity planning
//! to the millisecond: measure your own deployment and override the fields that matter
//! ([`ServerSpec`](super::server::ServerSpec) takes a preset and overrides).
//!
//! | preset | source |
//! |---|---|
//! | `llama2-70b-8xa100` | public vLLM profiling of Llama-2-70B, TP 8 (docs/world.md §4.4) |
//! | `llama2-70b-8xh100` | same source (docs/world.md §4.4) |
//! | `llama3-8b-1xh100` | derived from H100 and Llama-3-8B figures (see its entry) |
//! | `llama3-8b-1xa100` | derived likewise, calibrated on a public vLLM A100 sweep |
//! | `qwen3-32b-bf16-h100-tp2`, `llama-3.1-70b-fp8-h100-tp4`, `llama-3.1-70b-fp8-h100-tp8`, `gpt-oss-120b-fp4-h100-tp2` | fitted by `kthena-sim calibrate` to measured vLLM benchmark tables |
//! | `llama-3.1-8b-rtx4090`, `llama-3.1-8b-rtxpro6000` | fitted to measured vLLM 0.19 request traces |
//!
//! The first four are derived by hand and were never checked against a measurement; the
//! others are measured (each entry's `provenance` gives the data, its licence and the fit
//! error). Where the measurements do not press on the KV cache, a measured preset's
//! `kv_cache_tokens` is estimated from GPU memory: 90 % of it, less the weights and a few GB
//! of activations, over the model's KV bytes per token.
//!
//! What every preset approximates: the step cost is linear (docs/world.md §4.2; only
//! `gpt-oss-120b-fp4-h100-tp2`'s decode term saturates, as its experts do) where a real step
//! is closer to the maximum of a memory-bound and a compute-bound time; prefill attention
//! is folded into the per-token prefill cost; KV capacity is counted in tokens, not 16-token
//! blocks; CUDA-graph padding, sampling options and prefix caching are ignored.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

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
pub const PRESETS: [Preset; 10] = [
    // Llama-2-70B, tensor-parallel over 8×A100-80GB: the figures docs/world.md §4.4 fixes, from
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
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
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
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
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
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
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
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        },
    },
    // Qwen3-32B bf16 on 2×H100-SXM, vLLM 0.12.0: fitted by `kthena-sim calibrate` to aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 30 closed-loop points.
    Preset {
        name: "qwen3-32b-bf16-h100-tp2",
        gpus: 2,
        provenance: "measured: aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 30 closed-loop points; fit error TTFT 9.6 %, TPOT 4.9 % (median); KV capacity fitted",
        params: ServerParams {
            max_num_seqs: 256,
            max_num_batched_tokens: 2_048,
            kv_cache_tokens: 286_166,
            base_ms: 14.533524771155754,
            per_prefill_token_ms: 0.028605858281446815,
            per_decode_seq_ms: 0.1742123665765338,
            per_context_token_ms: 2.9122798823207504e-15,
            prefill_attention_ms: 1.9884105906408366e-05,
            request_overhead_ms: 0.025854675983184625,
            request_overhead_spread_ms: 2.1758073470106734,
            decode_saturation_seqs: 0.0,
        },
    },
    // Llama-3.1-70B fp8 on 4×H100-SXM: fitted by `kthena-sim calibrate` to aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 15 closed-loop points.
    Preset {
        name: "llama-3.1-70b-fp8-h100-tp4",
        gpus: 4,
        provenance: "measured: aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 15 closed-loop points; fit error TTFT 4.6 %, TPOT 1.6 % (median); KV capacity estimated from GPU memory (not constrained by the points)",
        params: ServerParams {
            max_num_seqs: 256,
            max_num_batched_tokens: 2_048,
            kv_cache_tokens: 640_000,
            base_ms: 11.126385432579895,
            per_prefill_token_ms: 0.021599823225970153,
            per_decode_seq_ms: 0.05904739788036701,
            per_context_token_ms: 3.409581875603304e-05,
            prefill_attention_ms: 3.0436230124995428e-06,
            request_overhead_ms: 8.537449137918726,
            request_overhead_spread_ms: 4.204838090621689,
            decode_saturation_seqs: 0.0,
        },
    },
    // Llama-3.1-70B fp8 on 8×H100-SXM: fitted by `kthena-sim calibrate` to aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 15 closed-loop points.
    Preset {
        name: "llama-3.1-70b-fp8-h100-tp8",
        gpus: 8,
        provenance: "measured: aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 15 closed-loop points; fit error TTFT 4.6 %, TPOT 4.0 % (median); KV capacity estimated from GPU memory (not constrained by the points)",
        params: ServerParams {
            max_num_seqs: 256,
            max_num_batched_tokens: 2_048,
            kv_cache_tokens: 1_500_000,
            base_ms: 8.963783271008017,
            per_prefill_token_ms: 0.015026446722576222,
            per_decode_seq_ms: 0.05576104114454294,
            per_context_token_ms: 1.8052552965636777e-05,
            prefill_attention_ms: 1.4496628078899908e-06,
            request_overhead_ms: 5.039028531756884,
            request_overhead_spread_ms: 9.844582968277834,
            decode_saturation_seqs: 0.0,
        },
    },
    // gpt-oss-120b MXFP4 on 2×H100-SXM, vLLM 0.18.0: fitted by `kthena-sim calibrate` to aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 15 closed-loop points.
    Preset {
        name: "gpt-oss-120b-fp4-h100-tp2",
        gpus: 2,
        provenance: "measured: aiconfigurator silicon_sample.csv @095f58a5 (Apache-2.0), 15 closed-loop points; fit error TTFT 1.1 %, TPOT 2.7 % (median); decode saturation fitted (41 sequences: 4 of 128 experts per token); KV capacity estimated from GPU memory (not constrained by the points)",
        params: ServerParams {
            max_num_seqs: 256,
            max_num_batched_tokens: 2_048,
            kv_cache_tokens: 990_000,
            base_ms: 3.9175355965531296,
            per_prefill_token_ms: 0.01564851681693155,
            per_decode_seq_ms: 0.2777365135582477,
            per_context_token_ms: 5.817949149617854e-06,
            prefill_attention_ms: 8.344563473712653e-07,
            request_overhead_ms: 2.427084284619785,
            request_overhead_spread_ms: 7.281565412100022,
            decode_saturation_seqs: 41.29983731006679,
        },
    },
    // Llama-3.1-8B bf16 on one RTX 4090, vLLM 0.19.0: fitted by `kthena-sim calibrate` to LLMServingSim bench/examples @5daddb21 (MIT), 300-request trace.
    Preset {
        name: "llama-3.1-8b-rtx4090",
        gpus: 1,
        provenance: "measured: LLMServingSim bench/examples @5daddb21 (MIT), 300-request trace; fit error mean/p90 TTFT 0.1/0.5 %, mean/p90 e2e 0.0/0.1 %; limits and KV capacity from the run's settings",
        params: ServerParams {
            max_num_seqs: 256,
            max_num_batched_tokens: 2_048,
            kv_cache_tokens: 41_408,
            base_ms: 17.222934399910848,
            per_prefill_token_ms: 0.08942124652805035,
            per_decode_seq_ms: 0.1845784715767635,
            per_context_token_ms: 9.763920285087728e-06,
            prefill_attention_ms: 2.157551728353523e-07,
            request_overhead_ms: 134.9686916294267,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        },
    },
    // Llama-3.1-8B bf16 on one RTX PRO 6000, vLLM 0.19.0: fitted by `kthena-sim calibrate` to LLMServingSim bench/examples @5daddb21 (MIT), 300-request trace.
    Preset {
        name: "llama-3.1-8b-rtxpro6000",
        gpus: 1,
        provenance: "measured: LLMServingSim bench/examples @5daddb21 (MIT), 300-request trace; fit error mean/p90 TTFT 0.3/0.8 %, mean/p90 e2e 0.4/1.2 %; limits from the run's settings, KV capacity estimated from GPU memory",
        params: ServerParams {
            max_num_seqs: 128,
            max_num_batched_tokens: 2_048,
            kv_cache_tokens: 510_000,
            base_ms: 10.94161751894335,
            per_prefill_token_ms: 0.03742964891463105,
            per_decode_seq_ms: 0.12828530453433418,
            per_context_token_ms: 1.4384936023545312e-05,
            prefill_attention_ms: 9.903441328295551e-07,
            request_overhead_ms: 14.939704074985938,
            request_overhead_spread_ms: 0.0,
            decode_saturation_seqs: 0.0,
        },
    },
];

/// The preset called `name`.
pub fn get(name: &str) -> Option<ServerParams> {
    PRESETS.iter().find(|p| p.name == name).map(|p| p.params)
}

/// A preset as the scenario file names it (`server: {preset: ...}`): one of [`PRESETS`].
impl JsonSchema for Preset {
    fn schema_name() -> Cow<'static, str> {
        "Preset".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
        json_schema!({ "type": "string", "enum": names })
    }
}
