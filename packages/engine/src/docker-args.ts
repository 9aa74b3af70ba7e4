import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { CONTAINER_HF_CACHE_DIR, CONTAINER_HOST, CONTAINER_PORT, ENGINE_HOST, LLAMA_CONTAINER_MODEL_DIR } from './constants.js';
import { llamaServerArgv } from './engine-kind.js';

/** What goes into `docker run`; all of it comes from the validated engine config. */
export interface DockerRunSpec {
  image: string;
  containerName: string;
  hostPort: number;
  hfCacheDir: string;
  model: string;
  servedModelName: string;
  /** Variables passed by name only (`-e NAME`): the value travels in the environment, not argv. */
  passEnv: readonly string[];
  /** `--gpus` value; null leaves it out (a CPU image, or a machine without the NVIDIA runtime). */
  gpus: string | null;
  rm: boolean;
  /** Extra `docker run` options, before the image. */
  dockerArgs: readonly string[];
  /** Extra engine arguments, after the model, e.g. ['--max-num-seqs', '64']. */
  engineArgs: readonly string[];
  /**
   * A llama.cpp server image instead of vLLM's: `model` is the GGUF file on the host (an
   * absolute path; its directory is mounted read-only, so a symlink must resolve inside it), and
   * the agent builds llama-server's flags. Absent: vLLM.
   */
  llamaCpp?: { capacity: number; contextPerSlot: number } | undefined;
}

/**
 * The `docker run` argv (without the docker binary). The engine is published on loopback only.
 * vLLM's image has `vllm serve` as its entrypoint, which takes `--model`; llama.cpp's server
 * images have `llama-server`.
 */
export function dockerRunArgs(spec: DockerRunSpec): string[] {
  const args = runArgs(spec);
  // The label names the whole command line, so a later agent can tell whether it may adopt the container.
  args.splice(args.indexOf('--name') + 2, 0, '--label', `${SPEC_LABEL}=${specHash(args)}`);
  return args;
}

/** The container label that records which command line started it. */
export const SPEC_LABEL = 'synkti.spec';

/** A short digest of a `docker run` command line (without its own label). */
export function specHash(args: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 16);
}

/** The spec label a container started from `spec` carries. */
export const specLabelOf = (spec: DockerRunSpec): string => specHash(runArgs(spec));

/** `docker inspect`: whether the container runs, and the spec it was started with. */
export const dockerInspectArgs = (name: string): string[] => ['inspect', '--format', `{{.State.Running}} {{index .Config.Labels "${SPEC_LABEL}"}}`, name];

/** `docker wait`: blocks until the container exits; an adopted container's life as a process. */
export const dockerWaitArgs = (name: string): string[] => ['wait', name];

function runArgs(spec: DockerRunSpec): string[] {
  return [
    'run',
    ...(spec.rm ? ['--rm'] : []),
    '--name',
    spec.containerName,
    ...(spec.gpus === null ? [] : ['--gpus', spec.gpus]),
    '--ipc=host',
    // llama.cpp's server images check their own port 8080; ours listens on 8000, so their
    // health check would mark the container unhealthy for ever. The supervisor probes it.
    ...(spec.llamaCpp !== undefined ? ['--no-healthcheck'] : []),
    '-p',
    `${ENGINE_HOST}:${spec.hostPort}:${CONTAINER_PORT}`,
    ...modelMount(spec),
    ...spec.passEnv.flatMap((name) => ['-e', name]),
    ...spec.dockerArgs,
    spec.image,
    ...engineArgv(spec),
  ];
}

function modelMount(spec: DockerRunSpec): string[] {
  if (spec.llamaCpp !== undefined) return ['-v', `${dirname(spec.model)}:${LLAMA_CONTAINER_MODEL_DIR}:ro`];
  return ['-v', `${spec.hfCacheDir}:${CONTAINER_HF_CACHE_DIR}`];
}

function engineArgv(spec: DockerRunSpec): string[] {
  if (spec.llamaCpp !== undefined) {
    const model = `${LLAMA_CONTAINER_MODEL_DIR}/${basename(spec.model)}`;
    return llamaServerArgv({ command: [], model, servedModelName: spec.servedModelName, host: CONTAINER_HOST, port: CONTAINER_PORT, ...spec.llamaCpp, engineArgs: spec.engineArgs });
  }
  return ['--model', spec.model, '--served-model-name', spec.servedModelName, '--port', String(CONTAINER_PORT), ...spec.engineArgs];
}

export const dockerPullArgs = (image: string): string[] => ['pull', image];

/** `docker image inspect`: exits 0 when the image is on disk, without touching the registry. */
export const dockerImagePresentArgs = (image: string): string[] => ['image', 'inspect', '--format', '{{.Id}}', image];

/** Lists any container, running or not, with exactly this name (docker prefixes names with /). */
export const dockerFindArgs = (name: string): string[] => [
  'ps',
  '-a',
  '--filter',
  `name=^/${name}$`,
  '--format',
  '{{.ID}}',
];

export const dockerRemoveArgs = (name: string): string[] => ['rm', '-f', name];

/** `docker stop -t <seconds>`: docker takes whole seconds; round the grace up. */
export const dockerStopArgs = (name: string, graceMs: number): string[] => [
  'stop',
  '-t',
  String(Math.max(0, Math.ceil(graceMs / 1000))),
  name,
];
