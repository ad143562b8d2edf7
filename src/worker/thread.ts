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
  // The heartbeat proves the thread's event loop turns: a stuck loop (a bug spinning the CPU) is what
  // the supervisor restarts. A slow Plex is not a hang: every request has its own timeout.
  const heartbeat = setInterval(() => send({ type: 'heartbeat' }), 1_000);
  heartbeat.unref();
  runEngine(workerData as EngineInit, {
    elected: () => send({ type: 'elected' }),
    stopRequested,
  }).then(
    (reason) => {
      clearInterval(heartbeat);
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
