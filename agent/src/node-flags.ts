/**
 * V8 flags every agent process runs with (the `synkti-agent` bin's shebang carries the same
 * list; a test keeps the two equal). An agent is a long-lived control plane next to a GPU engine
 * on a machine with memory to spare for the model server, so the agent's own footprint is bounded
 * by memory first. Measured with 20 agents on loopback, alternating runs (docs/benchmarks.md):
 * V8's defaults 163 MiB RSS p50 at 6.5–7.6 % of a core; `--max-semi-space-size=4` alone
 * 152 MiB at 6.5–6.8 %; both flags 112 MiB at 8.1–8.5 % — a quarter of the memory for about a
 * quarter more CPU. `--max-semi-space-size=4` caps the young generation (V8 grows it to 16 MiB
 * per semi-space under gossip's steady garbage); `--optimize-for-size` grows the old generation
 * in smaller steps and optimises less eagerly. V8 sizes its heap at start and refuses
 * `--optimize-for-size` in NODE_OPTIONS, so they go on the command line; to trade back, start
 * `node <install>/dist/cli.js agent` without them. Not for `synkti sim`: it is throughput-bound
 * and ran 7–28 % slower with them.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--optimize-for-size', '--max-semi-space-size=4'];
