// Printing the benchmark's tables and writing results.json with a stable key order.

export type Cell = string | number | undefined;

/** A number for a table cell: 3 significant digits under 1,000, thousands separated above. */
export function fmt(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const s = Number.isInteger(x) || Math.abs(x) >= 999.5 ? Math.round(x).toLocaleString('en-US') : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(2);
  return `${s}${unit}`;
}

/** A table: a title line, then aligned columns (numbers right-aligned), rows separated by two spaces. */
export function table(title: string, header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [header, ...rows].map((r) => header.map((_, i) => (typeof r[i] === 'number' ? fmt(r[i] as number) : (r[i] ?? '–') as string)));
  const numeric = header.map((_, i) => rows.every((r) => r[i] === undefined || typeof r[i] === 'number' || /^[\d.,–×x ]+[a-zµ%×]*$/i.test(String(r[i]))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => [...r[i]!].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - [...c].length);
        return numeric[i] && i > 0 ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [`${title}`, line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** `value` with every object's keys sorted, so the same figures give the same bytes. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** Rounds µs/s figures for results.json (4 significant digits; integers stay integers). */
export function round(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  return Number(x.toPrecision(4));
}
