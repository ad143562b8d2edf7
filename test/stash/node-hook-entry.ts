// Test-only entry: the Node hook as a process (`node --import tsx test/stash/node-hook-entry.ts <dataDir>`),
// the way the bundle's `hook` command runs it.
import { runNodeHook } from '../../src/hook/node-hook';
import { createStashLogger, writeResult } from '../../src/stash/log';

const dataDir = process.argv[2] ?? '';
const chunks: Buffer[] = [];
process.stdin.on('data', (c: Buffer) => chunks.push(c));
process.stdin.on('end', () => {
  void runNodeHook(Buffer.concat(chunks), dataDir).then(({ json, exitCode }) => {
    if (json.error) createStashLogger().error(json.error);
    writeResult(json);
    process.exitCode = exitCode;
  });
});
