import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../harness/paths.js';

// hadolint cannot be installed here (no Debian bookworm package; the npm `hadolint` package only
// wraps a binary fetched from outside the registry), and there is no docker engine to build
// with: this test checks what a review of docker/Dockerfile would.

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name: string | undefined;
  body: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `line ${start + 1} is an instruction: ${line}`);
    instructions.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const [from, as, name] = ins.args.split(/\s+/);
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else {
      assert.ok(stages.length > 0 || ins.op === 'ARG', `${ins.op} at line ${ins.line} comes after a FROM`);
      stages.at(-1)?.body.push(ins);
    }
  }
  return stages;
}

/** .dockerignore patterns as regexes (the subset of the syntax the file uses: *, **, no !). */
function ignoreMatchers(text: string): RegExp[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((p) => {
      assert.ok(!p.startsWith('!'), 'no exceptions in .dockerignore (this checker does not read them)');
      const re = p
        .replace(/^\/+/, '')
        .replace(/[.+^${}()|[\]]/g, '\\$&')
        .replaceAll('**/', '@@')
        .replace(/\*/g, '[^/]*')
        .replaceAll('@@', '(.*/)?');
      return new RegExp(`^${re}(/.*)?$`);
    });
}

describe('docker/Dockerfile (structural lint; hadolint unavailable)', () => {
  const text = readFileSync(join(repoRoot, 'docker/Dockerfile'), 'utf8');
  const stages = parseDockerfile(text);
  const runtime = stages.at(-1)!;
  const build = stages[0]!;
  const last = (op: string) => runtime.body.filter((i) => i.op === op).at(-1);

  it('is multi-stage on the Node 24 LTS image: a build stage and a runtime stage', () => {
    assert.ok(stages.length >= 2, 'at least two stages');
    for (const s of stages) assert.equal(s.from, 'node:24-bookworm-slim', `stage ${s.name} is on node:24-bookworm-slim`);
    assert.equal(build.name, 'build');
    assert.ok(
      build.body.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)),
      'the build stage installs dev dependencies with npm ci',
    );
    assert.ok(
      build.body.some((i) => i.op === 'RUN' && /scripts\/pack-agent\.mjs/.test(i.args)),
      'the build stage packs the agent',
    );
    assert.ok(
      runtime.body.some((i) => i.op === 'COPY' && i.args.startsWith('--from=build ')),
      'the runtime stage takes the artifact from the build stage',
    );
  });

  it('installs production dependencies only in the runtime stage', () => {
    const installs = runtime.body.filter((i) => i.op === 'RUN' && /\bnpm (install|ci|i)\b/.test(i.args));
    assert.ok(installs.length > 0, 'the runtime stage installs the agent');
    for (const i of installs) assert.match(i.args, /--omit=dev/, `line ${i.line} omits dev dependencies`);
    assert.ok(!runtime.body.some((i) => i.op === 'COPY' && !i.args.startsWith('--from=')), 'no source copied into the runtime stage');
  });

  it('runs as a non-root user', () => {
    const user = last('USER');
    assert.ok(user, 'a USER instruction in the runtime stage');
    assert.ok(!/^(root|0)(:|$)/.test(user.args), `USER ${user.args} is not root`);
    const lastRun = runtime.body.filter((i) => i.op === 'RUN').at(-1)!;
    assert.ok(user.line > lastRun.line, 'USER comes after the last RUN (nothing runs as root later)');
    assert.match(lastRun.args, new RegExp(`useradd .*\\b${user.args}\\b`), 'the user is created in the image');
  });

  it('has an init process for signals and a health check on /healthz', () => {
    const entrypoint = JSON.parse(last('ENTRYPOINT')!.args) as string[];
    assert.match(entrypoint[0]!, /(^|\/)(tini|dumb-init)$/, 'the entrypoint is an init process');
    assert.equal(entrypoint[1], '--');
    assert.ok(
      runtime.body.some((i) => i.op === 'RUN' && /apt-get install .*\btini\b/.test(i.args)),
      'tini is installed in the runtime stage',
    );
    const health = last('HEALTHCHECK');
    assert.ok(health, 'a HEALTHCHECK');
    assert.match(health.args, /\/healthz/);
    assert.match(health.args, /CMD \[/, 'exec form');
    const stop = last('STOPSIGNAL');
    assert.ok(stop === undefined || stop.args === 'SIGTERM', 'stops with SIGTERM (the agent drains on it)');
  });

  it('follows the usual hadolint rules', () => {
    for (const s of stages) {
      for (const i of s.body) {
        assert.notEqual(i.op, 'ADD', `line ${i.line}: COPY, not ADD (DL3020)`);
        if (i.op === 'WORKDIR') assert.ok(i.args.startsWith('/'), `line ${i.line}: absolute WORKDIR (DL3000)`);
        if (i.op === 'RUN' && /apt-get install/.test(i.args)) {
          assert.match(i.args, /--no-install-recommends/, `line ${i.line}: --no-install-recommends (DL3015)`);
          assert.match(i.args, /apt-get install -y/, `line ${i.line}: -y (DL3014)`);
          assert.match(i.args, /rm -rf \/var\/lib\/apt\/lists\/\*/, `line ${i.line}: apt lists removed (DL3009)`);
        }
        if (i.op === 'RUN') assert.ok(!/\bsudo\b/.test(i.args), `line ${i.line}: no sudo (DL3004)`);
        if (i.op === 'RUN') assert.ok(!/(^|&&\s*)cd\s/.test(i.args), `line ${i.line}: WORKDIR, not cd (DL3003)`);
      }
      assert.ok(!s.from.endsWith(':latest') && s.from.includes(':'), `FROM ${s.from} names a tag (DL3006/DL3007)`);
    }
    assert.equal(stages.map((s) => s.name).filter((n) => n !== undefined).length, new Set(stages.map((s) => s.name).filter(Boolean)).size, 'unique stage names');
  });

  it('copies only paths that exist and that .dockerignore keeps in the context', () => {
    const ignore = ignoreMatchers(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
    for (const must of ['node_modules', 'agent/node_modules', 'agent/dist', 'packages/mesh/dist', '.git']) {
      assert.ok(
        ignore.some((re) => re.test(must)),
        `.dockerignore excludes ${must}`,
      );
    }
    for (const s of stages) {
      for (const i of s.body.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from='))) {
        const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          assert.ok(existsSync(join(repoRoot, src)), `line ${i.line}: ${src} exists`);
          assert.ok(!ignore.some((re) => re.test(src)), `line ${i.line}: ${src} is not excluded by .dockerignore`);
        }
      }
    }
  });
});
