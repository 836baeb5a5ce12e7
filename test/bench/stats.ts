/** Percentile of already-sorted samples (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export interface LatencySummary {
  name: string;
  samples: number;
  p50: number;
  p99: number;
  mean: number;
}

export function summarize(name: string, samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { name, samples: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

export function table(rows: LatencySummary[], baseline: LatencySummary): string {
  const head = ['path', 'calls', 'p50 ms', 'p99 ms', 'mean ms', 'p50 vs direct stdio'];
  const body = rows.map((r) => [r.name, String(r.samples), r.p50.toFixed(3), r.p99.toFixed(3), r.mean.toFixed(3), `${(r.p50 / baseline.p50).toFixed(2)}x`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
