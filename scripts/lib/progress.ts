/**
 * A one-line progress bar on stderr when it is a terminal (and nothing when it is not, so logs
 * and CI output stay clean). Redraws at most every 100 ms.
 */
export function createProgress(label: string, total: number | undefined, stream: NodeJS.WriteStream = process.stderr) {
  let last = 0;
  const draw = (done: number, force = false) => {
    if (!stream.isTTY) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const width = 30;
    const ratio = total ? Math.min(1, done / total) : 0;
    const bar = total
      ? `[${'#'.repeat(Math.round(ratio * width)).padEnd(width, '.')}] ${Math.round(ratio * 100)}%`
      : '';
    stream.write(`\r${label} ${bar} ${done}${total ? `/${total}` : ''}`);
  };
  return {
    update: (done: number) => draw(done),
    finish: (done: number) => {
      draw(done, true);
      if (stream.isTTY) stream.write('\n');
    },
  };
}
