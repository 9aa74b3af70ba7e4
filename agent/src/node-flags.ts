/**
 * V8 flags every agent process runs with (the `synkti-agent` bin's shebang carries the same
 * list; a test keeps the two equal). An agent is a long-lived, mostly idle control plane next to
 * a GPU engine: memory matters more than peak JIT speed. Measured with 20 agents on loopback
 * (docs/benchmarks.md): RSS p50 ~150 → ~115 MiB. `--max-semi-space-size=4` caps the young
 * generation at 4 MiB per semi-space (V8's default grows to 16 under gossip's steady garbage);
 * `--optimize-for-size` makes the old generation grow in smaller steps before a major GC.
 * Neither may be set at run time (V8 sizes the heap when it starts), and `--optimize-for-size`
 * is refused in NODE_OPTIONS, so they go on the command line. Not for `synkti sim`: it is
 * throughput-bound and runs 7–28 % slower with them.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--optimize-for-size', '--max-semi-space-size=4'];
