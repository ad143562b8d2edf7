import { parentPort, workerData } from 'node:worker_threads';
import type { EngineInit, EngineMessage, SupervisorMessage } from './messages';
import { runEngine } from './engine';

/** Runs inside the engine thread: wires the engine to the supervisor's messages. */
export function startEngineThread(): void {
  const port = parentPort;
  if (!port) throw new Error('startEngineThread must run in a worker thread');
  const send = (msg: EngineMessage) => port.postMessage(msg);
  let requestStop: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  port.on('message', (msg: SupervisorMessage) => {
    if (msg.type === 'stop') requestStop();
  });
  let lastBeat = 0;
  runEngine(workerData as EngineInit, {
    beat: () => {
      const now = Date.now();
      if (now - lastBeat >= 1_000) {
        lastBeat = now;
        send({ type: 'heartbeat' });
      }
    },
    elected: () => send({ type: 'elected' }),
    stopRequested,
  }).then(
    (reason) => {
      send({ type: 'exit', reason });
      port.close();
    },
    (err: unknown) => {
      // Let the supervisor see it as a crash (it logs the error and restarts us).
      setImmediate(() => {
        throw err;
      });
    },
  );
}
