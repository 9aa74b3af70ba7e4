import type { FleetJson } from '@synkti/gateway';

/** Renders rows as an aligned plain-text table (no colours: it must read well in logs too). */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function shortId(peerId: string): string {
  // Ed25519 peer IDs all start 12D3KooW: the tail is what tells them apart.
  return peerId.length > 16 ? `…${peerId.slice(-12)}` : peerId;
}

/** The fleet as one agent sees it: one row per peer. */
export function renderFleet(fleet: FleetJson): string {
  const rows = fleet.peers.map((p) => [
    p.self ? `${shortId(p.peerId)} *` : shortId(p.peerId),
    p.status,
    `${p.engine.state} ${formatMs(p.engine.inStateMs)}`,
    p.models.join(',') || '-',
    `${p.load.running ?? '?'}/${p.load.waiting ?? '?'} of ${p.load.capacity}`,
    p.interruption === null ? (p.draining ? 'draining' : '-') : `${p.interruption.kind}${p.interruption.deadline !== null ? ` in ${formatMs(p.interruption.deadline - fleet.now)}` : ''}`,
    p.apiUrl ?? '-',
  ]);
  return renderTable(['PEER', 'STATUS', 'ENGINE', 'MODELS', 'RUN/WAIT', 'NOTICE', 'API'], rows);
}

export function formatMs(ms: number): string {
  if (ms < 0) return 'now';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)}s`;
  return `${Math.round(ms / 60_000)}m`;
}
