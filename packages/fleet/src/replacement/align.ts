/**
 * How an array of entries became another, entries compared by identity: kept in place, replaced,
 * removed or inserted. A simulated view changes by a few entries between evaluations: its
 * peers are updated in place, a departed one's entry is removed and the rest close up, a new one
 * goes last.
 */
export interface Alignment {
  /**
   * Per old position: its new position (-1: removed); a replaced entry maps to its replacement's.
   * Empty when nothing was removed or inserted (every entry kept its position).
   */
  map: Int32Array;
  /** New positions of replaced entries, with their old positions at the same index of `replacedFrom`. */
  replaced: number[];
  replacedFrom: number[];
  /** New positions of inserted entries. */
  inserted: number[];
  /** Old positions of removed entries. */
  removed: number[];
}

/** How far a walk looks ahead for an entry before it calls the one in hand replaced. */
const LOOKAHEAD = 8;

/** The alignment of `prev` to `next`, or null when more than `maxChanges` entries differ. */
export function align<T>(prev: readonly T[], next: readonly T[], maxChanges: number): Alignment | null {
  const out: Alignment = { map: NO_MAP, replaced: [], replacedFrom: [], inserted: [], removed: [] };
  let i = 0;
  let j = 0;
  let changes = 0;
  while (i < next.length && j < prev.length) {
    if (next[i] === prev[j]) {
      if (out.map !== NO_MAP) out.map[j] = i;
      i++;
      j++;
      continue;
    }
    if (++changes > maxChanges) return null;
    const gone = ahead(prev, j, next[i]);
    const fresh = gone > 0 ? 0 : ahead(next, i, prev[j]);
    // Entries move: from here on the map says where (before, every entry stayed in place).
    if ((gone > 0 || fresh > 0) && out.map === NO_MAP) out.map = identity(prev.length, j);
    if (gone > 0) {
      for (let k = 0; k < gone; k++) out.removed.push(j++);
      continue;
    }
    if (fresh > 0) {
      for (let k = 0; k < fresh; k++) out.inserted.push(i++);
      continue;
    }
    out.replaced.push(i);
    out.replacedFrom.push(j);
    if (out.map !== NO_MAP) out.map[j] = i;
    i++;
    j++;
  }
  changes += prev.length - j + next.length - i;
  if (changes > maxChanges) return null;
  if ((j < prev.length || i < next.length) && out.map === NO_MAP) out.map = identity(prev.length, j);
  while (j < prev.length) out.removed.push(j++);
  while (i < next.length) out.inserted.push(i++);
  return out;
}

/** The map while no entry moved (filled only when one does: most alignments only replace entries in place). */
const NO_MAP = new Int32Array(0);

/** A map sending the first `upTo` positions to themselves and the rest nowhere (yet). */
function identity(length: number, upTo: number): Int32Array {
  const map = new Int32Array(length).fill(-1);
  for (let k = 0; k < upTo; k++) map[k] = k;
  return map;
}

/** How many entries after `from` the entry `x` is found in `list` (0: not within the lookahead). */
function ahead<T>(list: readonly T[], from: number, x: T): number {
  const end = Math.min(list.length, from + 1 + LOOKAHEAD);
  for (let k = from + 1; k < end; k++) if (list[k] === x) return k - from;
  return 0;
}
