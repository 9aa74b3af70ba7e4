import { SynktiError } from '@synkti/interface';

export class SwarmKeyError extends SynktiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SWARM_KEY_INVALID', message, options);
  }
}

export class PeerKeyError extends SynktiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PEER_KEY_INVALID', message, options);
  }
}

export class MeshNotStartedError extends SynktiError {
  constructor() {
    super('MESH_NOT_STARTED', 'the mesh node is not started');
  }
}
