/** Simulated devices for the demo, tests and benchmarks (cameras live in ./camera, exported as @safe-community/simulators/camera). */
export * from './devices/index.js';
export * from './care/index.js';
