/** 500 → "500ms", 5000 → "5s", 1500 → "1.5s", 60000 → "1m". */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms < 1000) return `${ms}ms`
  return `${Number((ms / 1000).toFixed(3))}s`
}
