/** The line the worker logs when the DLQ is not empty: at start-up and again every few dozen completed jobs. */
export function dlqSummaryLine(byClass: Record<string, number>, examples: { sceneId: string }[]): string {
  const total = Object.values(byClass).reduce((a, b) => a + b, 0);
  const classes = Object.entries(byClass)
    .sort((a, b) => b[1] - a[1])
    .map(([cls, n]) => `${n} ${cls}`)
    .join(', ');
  const scenes = examples.map((e) => e.sceneId).join(', ');
  return `${total} job(s) in the DLQ (${classes}), e.g. scenes ${scenes}; run the "Process DLQ" task once the cause is fixed`;
}
