import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { SynktiError } from '@synkti/interface';
import { type Command, InvalidArgumentError } from 'commander';
import { FAKE_MODEL } from '../engine-config.js';
import { isAlive, type LocalNode, readFleetFile } from '../local/fleet-file.js';
import { fetchFleet, killGroup, listNodes, LocalFleet, MAX_LOCAL_NODES } from '../local/up.js';
import { readRuntimeFile } from '../runtime-file.js';
import { renderFleet } from '../table.js';

const DEFAULT_DIR = '.synkti/local';

export function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

export function registerLocalCommand(program: Command): void {
  const local = program.command('local').description('Run a whole fleet on this machine: agents as separate processes with emulated engines.');

  local
    .command('up')
    .description('Start N agents on 127.0.0.1 and stop them all on Ctrl-C, SIGTERM or SIGHUP.')
    .option('--nodes <n>', 'number of agents', integer('--nodes', 1, MAX_LOCAL_NODES), 3)
    .option('--base-port <port>', 'API ports are P, P+1, …; libp2p P+100+i, engines P+200+i', integer('--base-port', 1, 65_535), 8080)
    .option('--dir <dir>', 'directory for the fleet: swarm key, state and logs of each node', DEFAULT_DIR)
    .option('--model <name>', 'model name the emulated engines serve', FAKE_MODEL)
    .option('--agent-arg <flag>', 'extra flag for every agent (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (opts: { nodes: number; basePort: number; dir: string; model: string; agentArg: string[] }) => {
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const fleet = new LocalFleet({ nodes: opts.nodes, basePort: opts.basePort, dir: opts.dir, model: opts.model, agentArgs: opts.agentArg, out });
      let stopping = false;
      const stop = (code: number) => {
        if (stopping) return;
        stopping = true;
        out('stopping the local fleet…');
        fleet.stop().then(() => process.exit(code), () => process.exit(1));
      };
      process.on('SIGINT', () => stop(0));
      process.on('SIGTERM', () => stop(0));
      // The terminal closed: stop everything rather than leave agents and engines behind.
      process.on('SIGHUP', () => stop(0));
      try {
        await fleet.start();
        out(`starting ${opts.nodes} agent(s) in ${fleet.dir} …`);
        const view = await fleet.waitWarm();
        out(fleet.table(view));
        const url = `http://127.0.0.1:${opts.basePort}`;
        out('');
        out('The fleet is up. Try:');
        out(`  curl ${url}/v1/chat/completions -H 'content-type: application/json' \\`);
        out(`    -d '{"model":"${opts.model}","messages":[{"role":"user","content":"Hello"}]}'`);
        out(`  node -e "const OpenAI=require('openai');new OpenAI({baseURL:'${url}/v1',apiKey:'none'}).chat.completions.create({model:'${opts.model}',messages:[{role:'user',content:'Hello'}]}).then(r=>console.log(r.choices[0].message.content))"`);
        out(`  open ${url}/ for the dashboard; \`synkti local status|kill <i>|logs <i> --dir ${opts.dir}\` from another terminal`);
        out('Ctrl-C stops every process of the fleet.');
        out('ready');
      } catch (err) {
        process.stderr.write(`synkti: ${(err as Error).message}\n`);
        await fleet.stop();
        process.exit(1);
      }
    });

  local
    .command('status')
    .description('The fleet table of a running local fleet.')
    .option('--dir <dir>', 'the fleet directory', DEFAULT_DIR)
    .action(async (opts: { dir: string }) => {
      const fleet = await readFleetFile(opts.dir);
      for (const node of await listNodes(fleet)) {
        if (!isAlive(node.pid)) continue;
        const view = await fetchFleet(`http://127.0.0.1:${node.apiPort}`).catch(() => undefined);
        if (view === undefined) continue;
        process.stdout.write(`${renderFleet(view)}\n(as seen by node ${node.index})\n`);
        return;
      }
      throw new SynktiError('FLEET_DOWN', `no agent of the local fleet in ${opts.dir} answers`);
    });

  local
    .command('down')
    .description('Stop a local fleet whose `local up` runs elsewhere or is gone: agents, replacements and engines.')
    .option('--dir <dir>', 'the fleet directory', DEFAULT_DIR)
    .action(async (opts: { dir: string }) => {
      const running = await LocalFleet.down(opts.dir);
      process.stdout.write(`stopped the local fleet in ${opts.dir} (${running} agent(s) were running)\n`);
    });

  local
    .command('kill <index>')
    .description('Hard-kill one agent and its engine (SIGKILL), as a lost spot node.')
    .option('--dir <dir>', 'the fleet directory', DEFAULT_DIR)
    .action(async (index: string, opts: { dir: string }) => {
      const node = await findNode(opts.dir, index);
      const runtime = await readRuntimeFile(node.stateDir);
      if (!isAlive(node.pid)) throw new SynktiError('NOT_RUNNING', `node ${node.index} is not running`);
      process.kill(node.pid!, 'SIGKILL');
      if (runtime?.enginePid != null && isAlive(runtime.enginePid)) killGroup(runtime.enginePid);
      process.stdout.write(`killed node ${node.index} (pid ${node.pid}${runtime?.enginePid != null ? `, engine ${runtime.enginePid}` : ''})\n`);
    });

  local
    .command('interrupt <index>')
    .description("Inject a spot interruption notice into one agent's emulated metadata endpoint.")
    .option('--dir <dir>', 'the fleet directory', DEFAULT_DIR)
    .option('--kind <kind>', 'terminate, stop or rebalance', 'terminate')
    .option('--in <seconds>', 'seconds until the node is taken (the real notice gives 120)', integer('--in', 1, 3_600), 120)
    .action(async (index: string, opts: { dir: string; kind: string; in: number }) => {
      if (!['terminate', 'stop', 'rebalance'].includes(opts.kind)) throw new SynktiError('BAD_KIND', `--kind must be terminate, stop or rebalance, got "${opts.kind}"`);
      const node = await findNode(opts.dir, index);
      const res = await fetch(`http://127.0.0.1:${node.metadataPort}/_synkti/notice`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: opts.kind, inSeconds: opts.in }),
        signal: AbortSignal.timeout(5_000),
      }).catch((err: unknown) => {
        throw new SynktiError('NOT_RUNNING', `node ${node.index}'s metadata endpoint does not answer: ${(err as Error).message}`);
      });
      if (!res.ok) throw new SynktiError('NOTICE_REFUSED', `the metadata endpoint refused the notice: ${res.status} ${await res.text()}`);
      process.stdout.write(`node ${node.index}: ${opts.kind} notice${opts.kind === 'rebalance' ? '' : `, taken in ${opts.in} s`}\n`);
    });

  local
    .command('logs <index>')
    .description("Print one agent's log (JSON lines).")
    .option('--dir <dir>', 'the fleet directory', DEFAULT_DIR)
    .action(async (index: string, opts: { dir: string }) => {
      const node = await findNode(opts.dir, index);
      await new Promise<void>((resolve, reject) => {
        const stream = createReadStream(join(node.stateDir, 'agent.log'));
        stream.on('error', (err) => reject(new SynktiError('NO_LOG', `cannot read the log of node ${node.index}: ${err.message}`)));
        stream.on('end', resolve);
        stream.pipe(process.stdout, { end: false });
      });
    });
}

async function findNode(dir: string, index: string): Promise<LocalNode> {
  const nodes = await listNodes(await readFleetFile(dir));
  const i = Number(index);
  const node = Number.isInteger(i) ? nodes.find((n) => n.index === i) : undefined;
  if (node === undefined) throw new SynktiError('NO_SUCH_NODE', `no node ${index} in the local fleet (nodes: ${nodes.map((n) => n.index).join(', ')})`);
  return node;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('The fleet table as any agent sees it (from its /fleet).')
    .requiredOption('--api <url>', 'an agent API URL, e.g. http://10.0.0.5:8080')
    .action(async (opts: { api: string }) => {
      let url: URL;
      try {
        url = new URL(opts.api);
      } catch {
        throw new SynktiError('BAD_URL', `--api: "${opts.api}" is not a URL`);
      }
      const view = await fetchFleet(url.origin).catch((err: unknown) => {
        throw new SynktiError('FLEET_UNAVAILABLE', `cannot read ${url.origin}/fleet: ${(err as Error).message}`);
      });
      process.stdout.write(`${renderFleet(view)}\n`);
    });
}
