/** All of stdin. Stash writes one JSON object and closes the pipe (reference/stash-plugin-protocol.md §2.1). */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
