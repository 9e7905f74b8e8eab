export { toRgb, checkRawFrame, isRawFrame, type RawFrame, type ImageInput } from './image.js';
export { iou, nms, type Box, type Detection } from './detection.js';
export { prepareFixed, planarize, type Prepared } from './preprocess.js';
export { InferencePool, type InferencePoolOptions, type RunResult } from './infer/pool.js';
export type { TensorData } from './infer/protocol.js';
export { MODEL_ALIASES, loadModel, openModelPool, type ModelPool, type ModelPoolOptions, type WantedModel } from './models.js';
export {
  OnnxDetector, createDetector, openRawSession,
  type Detector, type DetectorOptions, type DetectOptions,
} from './detector.js';
export { FaceDetector, type Face, type FaceDetectorOptions } from './faces.js';
export {
  PrivacyFilter, createPrivacyFilter, blurRegions, growBox, type PrivacyOptions, type Snapshot,
} from './privacy.js';
export {
  PlateReader, createPlateReader, type PlateRead, type PlateReaderOptions, type TextLine,
} from './plates/reader.js';
export { PLATE_GATE, passesGate, evidence, type PlateGate } from './plates/gate.js';
export { PlateGrammar, plateFormat, PROVINCES, type PlateChar, type PlateColour, type PlateDecode, type PlateFormat } from './plates/grammar.js';
export { orientedRect, homography, applyHomography, warpQuad, scaleQuad, type Quad, type Pt } from './plates/quad.js';
export { plateColour } from './plates/colour.js';
export { PlateVote, type PlateVoteOptions, type VotedPlate } from './plates/vote.js';
export { normalisePlateText, plateKey, isPlausiblePlate, maskPlate } from './plates/text.js';
export { ctcGreedy, type Recognised } from './plates/ctc.js';
export { dbRegions, type DbOptions, type TextRegion } from './plates/db.js';
