/**
 * Plate text rules. Plate numbers are personal data (they identify a vehicle's keeper): keep them only where
 * an access decision needs them, and log the masked form.
 */
import { plateFormat } from './grammar.js';

/** OCR text → printed form: whitespace removed, dot-like separators written as the middle dot. */
export function normalisePlateText(text: string): string {
  return text.replace(/\s+/g, '').replace(/[•・∙.]/g, '·');
}

/** The number without separators, for allow/block-list matching (沪B·9X77Q → 沪B9X77Q). */
export function plateKey(text: string): string {
  return normalisePlateText(text).replace(/·/g, '').toUpperCase();
}

/** The text fits one of the plate formats (grammar.ts), e.g. for plates a barrier reads itself. */
export function isPlausiblePlate(text: string): boolean {
  return plateFormat(plateKey(text)) !== null;
}

/** For logs: province, issuer and the last two characters only (京A12345 → 京A***45). */
export function maskPlate(text: string): string {
  const key = plateKey(text);
  if (key.length <= 4) return '*'.repeat(key.length);
  return `${key.slice(0, 2)}***${key.slice(-2)}`;
}
