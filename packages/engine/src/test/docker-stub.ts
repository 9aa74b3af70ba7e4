/**
 * Writes a stand-in `docker` executable (a node script) into `dir`. It appends the argv of
 * every call to calls.jsonl, and behaves like the daemon enough for the docker runtime:
 * `pull` puts the image on "disk" (fails while a file `pull-fails` exists), `image inspect`
 * succeeds while the image is on disk, `ps -a --filter name=^/N$` prints an ID while a file `stale-N` exists,
 * `rm -f N` deletes it and SIGKILLs a running one (engine and all), `run` starts the fake engine on the published host port in its place
 * (loading behind docker's port proxy: connections accepted, then closed unanswered)
 * (recording its own PID and its `synkti.spec` label), `stop -t S N` sends SIGTERM to that PID
 * and waits for it to go, `inspect N` prints "<running> <label>", `wait N` returns when it exits.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const script = (enginePath: string): string => `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const dir = __dirname;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'calls.jsonl'), JSON.stringify({ args, hfToken: process.env.HF_TOKEN ?? null }) + '\\n');
const cmd = args[0];
const last = args[args.length - 1];
const readPid = (file) => { try { return Number(fs.readFileSync(path.join(dir, file), 'utf8')); } catch { return null; } };
const runningPid = (name) => {
  const pidFile = path.join(dir, 'run-' + name + '.pid');
  if (!fs.existsSync(pidFile)) return null;
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  // An exited orphan nobody reaped (a zombie) is not running.
  try { const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return /^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]) ? null : pid; } catch { return null; }
};
const imageFile = (image) => path.join(dir, 'image-' + image.replace(/[^A-Za-z0-9.-]/g, '_'));
if (cmd === 'pull') {
  if (fs.existsSync(path.join(dir, 'pull-fails'))) { process.stderr.write('Error response from daemon: toomanyrequests: You have reached your pull rate limit.\\n'); process.exit(1); }
  fs.writeFileSync(imageFile(last), '');
  process.exit(0);
}
if (cmd === 'image' && args[1] === 'inspect') {
  if (fs.existsSync(imageFile(last))) { process.stdout.write('sha256:0123\\n'); process.exit(0); }
  process.stderr.write('Error response from daemon: No such image: ' + last + '\\n');
  process.exit(1);
}
if (cmd === 'ps') {
  const name = args[args.indexOf('--filter') + 1].replace(/^name=\\^\\//, '').replace(/\\$$/, '');
  if (fs.existsSync(path.join(dir, 'stale-' + name)) || runningPid(name) !== null) process.stdout.write('0123456789ab\\\n');
  process.exit(0);
}
if (cmd === 'rm') {
  fs.rmSync(path.join(dir, 'stale-' + last), { force: true });
  const pid = runningPid(last);
  if (pid === null) process.exit(0);
  // docker rm -f kills the container outright (SIGKILL): a hung engine gets no say.
  for (const target of [readPid('engine-' + last + '.pid'), pid]) {
    if (target === null) continue;
    try { process.kill(target, 'SIGKILL'); } catch {}
  }
  const timer = setInterval(() => { if (runningPid(last) === null) { clearInterval(timer); process.exit(0); } }, 10);
  return;
}
if (cmd === 'stop') {
  const pidFile = path.join(dir, 'run-' + last + '.pid');
  if (!fs.existsSync(pidFile)) { process.stderr.write('Error: No such container: ' + last + '\\n'); process.exit(1); }
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  try { process.kill(pid, 'SIGTERM'); } catch { process.exit(0); }
  const timer = setInterval(() => { try { process.kill(pid, 0); } catch { clearInterval(timer); process.exit(0); } }, 10);
  return;
}
if (cmd === 'inspect') {
  if (runningPid(last) !== null) { process.stdout.write('true ' + fs.readFileSync(path.join(dir, 'label-' + last), 'utf8') + '\\n'); process.exit(0); }
  if (fs.existsSync(path.join(dir, 'stale-' + last))) { process.stdout.write('false \\n'); process.exit(0); }
  process.stderr.write('Error: No such object: ' + last + '\\n');
  process.exit(1);
}
if (cmd === 'wait') {
  const timer = setInterval(() => { if (runningPid(last) === null) { clearInterval(timer); process.stdout.write('0\\n'); process.exit(0); } }, 20);
  return;
}
if (cmd === 'run') {
  const name = args[args.indexOf('--name') + 1];
  const label = args.includes('--label') ? args[args.indexOf('--label') + 1].replace(/^synkti[.]spec=/, '') : '';
  fs.writeFileSync(path.join(dir, 'label-' + name), label);
  const publish = args[args.indexOf('-p') + 1].split(':');
  const served = args[args.indexOf('--served-model-name') + 1];
  fs.writeFileSync(path.join(dir, 'run-' + name + '.pid'), String(process.pid));
  const child = spawn(process.execPath, [${JSON.stringify(enginePath)}, '--host', publish[0], '--port', publish[1], '--model', served, '--load-ms', '100', '--load-mode', 'accept-close'], { stdio: 'inherit' });
  fs.writeFileSync(path.join(dir, 'engine-' + name + '.pid'), String(child.pid));
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    fs.rmSync(path.join(dir, 'run-' + name + '.pid'), { force: true });
    process.exit(code ?? (signal ? 143 : 0));
  });
  return;
}
process.stderr.write('stand-in docker: unknown command ' + cmd + '\\n');
process.exit(2);
`;

export function writeDockerStub(dir: string, enginePath: string): string {
  const file = join(dir, 'docker');
  writeFileSync(file, script(enginePath).replace(/^#!.*\n/, `#!${process.execPath}\n`));
  chmodSync(file, 0o755);
  return file;
}
