/** Durations as written in configuration: `30s`, `15m`, `2h`, `7d`. */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** Seconds in a duration string, or null when it is not of the form `<n><s|m|h|d>`. */
export function parseDuration(value: string): number | null {
  const match = /^(\d{1,9})([smhd])$/.exec(value.trim());
  if (!match) return null;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}
