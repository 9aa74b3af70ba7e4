import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mesh, type MeshInit } from './index.js';

/** Meshes on loopback for one test file, each in its own state directory; `stopAll` in `after`. */
export class TestMeshes {
  readonly #dirs: string[] = [];
  readonly #meshes: Mesh[] = [];

  async start(swarmKey: Uint8Array, bootstrap: string[] = [], timings: { heartbeatMs: number; forgetAfterMs: number } = { heartbeatMs: 100, forgetAfterMs: 10_000 }, extra: Partial<MeshInit> = {}): Promise<Mesh> {
    const dir = await mkdtemp(join(tmpdir(), 'synkti-mesh-'));
    this.#dirs.push(dir);
    const mesh = new Mesh({ fleet: 'f', stateDir: dir, swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, ...timings, ...extra });
    this.#meshes.push(mesh);
    await mesh.start();
    return mesh;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#meshes.map((m) => m.stop()));
    await Promise.all(this.#dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** Polls `check` every 20 ms until it returns a value; rejects after `timeoutMs`. */
export function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = () => {
      const value = check();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(poll, 20);
    };
    poll();
  });
}
