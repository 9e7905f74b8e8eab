/**
 * One inference worker: owns one onnxruntime session per model key and runs requests one at a time.
 * Sessions are built from bytes the main thread already checked against the manifest sha256.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromWorker, ToWorker, WorkerInit, TensorData } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('infer/worker.ts must run in a worker thread');
const init = workerData as WorkerInit;
const sessions = new Map<string, ort.InferenceSession>();

function send(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

async function open(): Promise<void> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: init.settings.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // 3 = error: the older exports print one warning per initializer otherwise (PROVENANCE.md).
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: init.settings.allowSpinning ? '1' : '0' } } },
  };
  const inputs: Record<string, string[]> = {};
  const outputs: Record<string, string[]> = {};
  for (const [key, bytes] of Object.entries(init.models)) {
    const session = await ort.InferenceSession.create(bytes, options);
    sessions.set(key, session);
    inputs[key] = [...session.inputNames];
    outputs[key] = [...session.outputNames];
  }
  send({ type: 'ready', inputs, outputs });
}

/** A standalone copy of the output so its buffer can be transferred without touching ORT's memory. */
function own(tensor: ort.Tensor): TensorData {
  const data = tensor.data as Float32Array;
  return { data: new Float32Array(data), dims: [...tensor.dims] };
}

async function run(msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const session = sessions.get(msg.model);
  if (!session) {
    send({ type: 'failed', id: msg.id, message: `no model "${msg.model}" in this worker` });
    return;
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  const t0 = performance.now();
  try {
    const result = await session.run(feeds);
    const outputs: Record<string, TensorData> = {};
    for (const [name, tensor] of Object.entries(result)) outputs[name] = own(tensor);
    send({ type: 'result', id: msg.id, outputs, ms: performance.now() - t0 },
      Object.values(outputs).map((o) => o.data.buffer as ArrayBuffer));
  } catch (err) {
    send({ type: 'failed', id: msg.id, message: (err as Error).message });
  }
}

// The runs queued here, one at a time in arrival order (the pool hands over the next before this one
// ends, so no run waits on the main thread); sessions are released only after them, never under them.
let current: Promise<void> = Promise.resolve();

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'run') {
    current = current.then(() => run(msg));
  } else {
    void current
      .then(() => Promise.all([...sessions.values()].map((s) => s.release())))
      .then(() => send({ type: 'closed' }), (err: Error) => send({ type: 'closed', error: err.message }));
  }
});

open().catch((err: Error) => send({ type: 'init-failed', message: err.message }));
