#!/usr/bin/env -S node
// `synkti-agent [flags]` is `synkti agent [flags]` with the agent's V8 flags (node-flags.ts):
// the bin systemd and the container image start. A leading `agent` is accepted too, so
// `docker run IMAGE agent --flag` keeps working; `--version` is the program's.
const args = process.argv;
if (args[2] === 'agent') args.splice(2, 1);
if (args[2] !== '--version' && args[2] !== '-V') args.splice(2, 0, 'agent');
await import('./cli.js');
