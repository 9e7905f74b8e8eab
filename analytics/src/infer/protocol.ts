/** Messages between the inference pool (main thread) and its workers. Tensors travel as transferred buffers. */

export interface TensorData {
  data: Float32Array;
  dims: number[];
}

export interface SessionSettings {
  intraOpNumThreads: number;
  /** Spinning threads steal the only other core on a 2-core box; off keeps 2-thread latency steady. */
  allowSpinning: boolean;
}

export interface WorkerInit {
  models: Record<string, Uint8Array>;
  settings: SessionSettings;
}

export interface RunRequest {
  type: 'run';
  id: number;
  model: string;
  feeds: Record<string, TensorData>;
}

export type ToWorker = RunRequest | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; inputs: Record<string, string[]>; outputs: Record<string, string[]> }
  | { type: 'init-failed'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, TensorData>; ms: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed'; error?: string };
