/**
 * V8 flags every agent process runs with (the `synkti-agent` bin's shebang carries the same
 * list; a test keeps the two equal). Empty: V8's defaults measured best for an agent that sits
 * on the data path (docs/benchmarks.md). `--max-semi-space-size=4` saved ~10 MiB of idle RSS
 * (163 → 152 MiB in a 20-agent swarm) but cost 10–20 % more CPU per request under load
 * (alternating runs at c=64: 0.49–0.54 against 0.45 ms per non-streamed request, 0.84–0.85
 * against 0.65–0.73 ms per stream); 16 and 32 measured alike, as V8 grows to 16 by itself.
 * `--optimize-for-size` met the memory target (112 MiB) but cut the agent's c=64 throughput
 * 2.5×. V8 sizes its heap at start, so a flag goes on the command line (NODE_OPTIONS would also
 * reach the engine processes the agent starts). Not for `synkti sim`, which is throughput-bound.
 */
export const AGENT_NODE_FLAGS: readonly string[] = [];
