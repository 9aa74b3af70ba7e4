import { multiaddr } from '@multiformats/multiaddr';

/** Why `text` is not a usable multiaddr, or null when it is one. */
export function multiaddrProblem(text: string): string | null {
  try {
    multiaddr(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
