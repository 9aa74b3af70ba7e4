import { spawn } from 'node:child_process';
import { MAX_DOCKER_OUTPUT_CHARS } from './constants.js';
import { DockerFailedError } from './errors.js';

export interface DockerResult {
  stdout: string;
  stderr: string;
}

/** Runs one docker CLI command to completion; a non-zero exit or an abort is a DockerFailedError. */
export function runDocker(
  dockerPath: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DockerFailedError(args, 'aborted', { cause: signal.reason }));
      return;
    }
    const child = spawn(dockerPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    const keep = (acc: string, chunk: Buffer): string => (acc + chunk.toString('utf8')).slice(-MAX_DOCKER_OUTPUT_CHARS);
    child.stdout.on('data', (c: Buffer) => {
      stdout = keep(stdout, c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = keep(stderr, c);
    });
    child.once('error', (err) => reject(new DockerFailedError(args, err.message, { cause: err })));
    child.once('close', (code, sig) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new DockerFailedError(args, `exit ${code ?? sig}: ${stderr.trim().slice(-500)}`));
    });
  });
}
