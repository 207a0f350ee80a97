/**
 * How the page prints a probability for people to read: a percentage, never
 * in exponent notation. One rule everywhere a probability is printed (the
 * bars, their hover titles, the ghost row):
 *   p >= 10%      one decimal        "19.8%"
 *   p >= 0.1%     two decimals       "0.23%", "5.12%"
 *   p >= 0.001%   two significant    "0.016%", "0.0078%"
 *   p <  0.001%   a bound            "< 0.001%" ("0%" for exactly 0)
 * NaN (not known) prints as "?".
 */
export function formatProbability(p: number): string {
  if (Number.isNaN(p)) return '?';
  const percent = p * 100;
  if (percent >= 10) return `${percent.toFixed(1)}%`;
  if (percent >= 0.1) return `${percent.toFixed(2)}%`;
  if (percent >= 0.001) return `${Number(percent.toPrecision(2))}%`;
  return percent <= 0 ? '0%' : '< 0.001%';
}

/** A byte count for people: "512 B", "3.4 KB", "474.7 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
