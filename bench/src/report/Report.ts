// Prints a scenario's measurements beside the baseline measured in the same run, as a ratio, so
// a number means something on any machine.

export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, measured in the same run on the same data. */
  baseline?: { name: string; value: number };
}

function format(value: number, unit: string): string {
  if (unit === 'ms') return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
}

/** Prints a titled table: measurement, value, baseline, ratio. */
export function printReport(title: string, notes: string[], measurements: Measurement[]): void {
  console.log(`\n## ${title}`);
  for (const note of notes) console.log(`   ${note}`);
  const rows = measurements.map((m) => [
    m.name,
    format(m.value, m.unit),
    m.baseline ? `${m.baseline.name}: ${format(m.baseline.value, m.unit)}` : '',
    m.baseline && m.baseline.value > 0 ? `×${(m.value / m.baseline.value).toFixed(2)}` : '',
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const row of rows) console.log(`   ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  │ ')}`);
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
