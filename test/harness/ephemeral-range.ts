import { readFileSync } from 'node:fs';

/** The kernel's ephemeral port range (Linux's default when /proc does not say). */
export function ephemeralPortRange(): readonly [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux
  }
  return [32_768, 60_999];
}
