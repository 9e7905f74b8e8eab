import { validator } from './validate.js';
import { Event, Telemetry, Command, CommandResult, DeviceStatus, Alarm, LinkageExecution } from './messages.js';
import { AnyEnvelope } from './envelope.js';
import { DownMessage } from './down.js';
import { SignedDown } from './down-auth.js';

/** Ready-compiled validators for every canonical message. */
export const validators = Object.freeze({
  event: validator('Event', Event),
  telemetry: validator('Telemetry', Telemetry),
  command: validator('Command', Command),
  commandResult: validator('CommandResult', CommandResult),
  deviceStatus: validator('DeviceStatus', DeviceStatus),
  alarm: validator('Alarm', Alarm),
  linkage: validator('LinkageExecution', LinkageExecution),
  /** Both envelope versions (v1, and v2 with its columnar telemetry). */
  envelope: validator('Envelope', AnyEnvelope),
  down: validator('DownMessage', DownMessage),
  signedDown: validator('SignedDown', SignedDown),
});
