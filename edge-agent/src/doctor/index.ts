/** Installer checks and measurements behind `edge-agent doctor` and `edge-agent capacity`. */
export { runDoctor, formatDoctorReport, type DoctorOptions } from './doctor.js';
export { runCapacity, planCapacity, formatCapacity, type CapacityOptions as CapacityRunOptions, type CapacityReport, type CapacityScenario } from './capacity.js';
export { checkCamera, type CameraCheck } from './camera-check.js';
export { checkBrokerPort, checkUplink, checkDisk, checkClock } from './system-checks.js';
export { measureInference, type InferenceFigures, type MeasureInferenceOptions } from './inference.js';
export { grabFrame, measureDecode, ERR_FFMPEG, type DecodeCost } from './ffmpeg.js';
export { formatTable } from './table.js';
export type { CheckResult, CheckStatus, DoctorReport, Progress } from './types.js';
