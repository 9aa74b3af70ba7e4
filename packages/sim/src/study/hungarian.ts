/**
 * Kuhn–Munkres (Hungarian) assignment with potentials, O(n² m). Rows are tasks, columns
 * targets; rectangular matrices are fine either way. `Infinity` marks an impossible pair: the
 * result first maximises the number of feasible pairs, then minimises their total cost.
 * Returns, per row, the assigned column or -1.
 */
export function hungarian(cost: readonly (readonly number[])[]): { assignment: number[]; total: number } {
  const rows = cost.length;
  const cols = rows === 0 ? 0 : cost[0]!.length;
  if (rows === 0 || cols === 0) return { assignment: new Array(rows).fill(-1), total: 0 };
  const transpose = rows > cols;
  const n = transpose ? cols : rows;
  const m = transpose ? rows : cols;
  const at = (i: number, j: number): number => (transpose ? cost[j]![i]! : cost[i]![j]!);
  // Infinity becomes a penalty larger than any feasible total, so feasibility is maximised first.
  let finiteMax = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) if (Number.isFinite(at(i, j))) finiteMax = Math.max(finiteMax, Math.abs(at(i, j)));
  const big = (finiteMax + 1) * (n + 1);
  const c = (i: number, j: number): number => (Number.isFinite(at(i, j)) ? at(i, j) : big);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row (1-based) matched to column j
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Number.POSITIVE_INFINITY);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Number.POSITIVE_INFINITY;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = c(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          const row = p[j]!;
          u[row] = u[row]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Array<number>(rows).fill(-1);
  let total = 0;
  for (let j = 1; j <= m; j++) {
    const i = p[j]!;
    if (i === 0) continue;
    const [r, col] = transpose ? [j - 1, i - 1] : [i - 1, j - 1];
    if (!Number.isFinite(cost[r]![col]!)) continue;
    assignment[r] = col;
    total += cost[r]![col]!;
  }
  return { assignment, total };
}

/** Naive first-fit: each row in order takes the first free column it can use. */
export function firstFit(cost: readonly (readonly number[])[]): { assignment: number[]; total: number } {
  const taken = new Set<number>();
  let total = 0;
  const assignment = cost.map((row) => {
    const j = row.findIndex((x, col) => Number.isFinite(x) && !taken.has(col));
    if (j >= 0) {
      taken.add(j);
      total += row[j]!;
    }
    return j;
  });
  return { assignment, total };
}
