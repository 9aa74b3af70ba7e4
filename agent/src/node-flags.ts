/**
 * V8 flags every agent process runs with (the `synkti-agent` bin's shebang carries the same
 * list; a test keeps the two equal). `--max-semi-space-size=4` caps the young generation at
 * 4 MiB per semi-space; V8 grows it to 16 under gossip's steady garbage. Measured alternately
 * (docs/benchmarks.md): 20 idle agents, RSS p50 163 → 152 MiB at the same CPU; the request path
 * (`npm run bench -- forward`) no slower. `--optimize-for-size` was tried too and rejected:
 * RSS 112 MiB, but idle CPU up a quarter and the agent's c=64 throughput down 2.5× (local path
 * 590 against 1,491 req/s) — the agent is on the data path. V8 sizes its heap at start, so the
 * flag goes on the command line (NODE_OPTIONS would work for this one, but would also reach the
 * engine processes the agent starts). Not for `synkti sim`, which is throughput-bound.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
