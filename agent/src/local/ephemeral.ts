import { readFileSync } from 'node:fs';

/** Linux's default when the kernel does not say (net.ipv4.ip_local_port_range). */
const LINUX_DEFAULT_RANGE: readonly [number, number] = [32_768, 60_999];

/**
 * The kernel's ephemeral port range: outbound connections take local ports from it at random,
 * so a fixed listening port inside it can be taken by the time a node (re)starts.
 */
export function ephemeralPortRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): readonly [number, number] {
  try {
    const [lo, hi] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo! <= hi!) return [lo!, hi!];
  } catch {
    // not Linux, or /proc unavailable: assume Linux's default range
  }
  return LINUX_DEFAULT_RANGE;
}

/** The part of [first, last] inside the ephemeral range, or null when they do not overlap. */
export function ephemeralOverlap(first: number, last: number, range: readonly [number, number] = ephemeralPortRange()): readonly [number, number] | null {
  const lo = Math.max(first, range[0]);
  const hi = Math.min(last, range[1]);
  return lo <= hi ? [lo, hi] : null;
}
