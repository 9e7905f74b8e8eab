/**
 * Plate text rules. Plate numbers are personal data (they identify a vehicle's keeper): keep them only where
 * an access decision needs them, and log the masked form.
 */

/** Province abbreviations and special prefixes of mainland plates (GA 36-2018). */
const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领';
/** Issuer letter, then 5 (ordinary) or 6 (new-energy) characters; I and O are not used, last may be a suffix. */
const PLATE = new RegExp(`^[${PROVINCES}][A-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]$`);

/** OCR text → printed form: whitespace removed, dot-like separators written as the middle dot. */
export function normalisePlateText(text: string): string {
  return text.replace(/\s+/g, '').replace(/[•・∙.]/g, '·');
}

/** The number without separators, for allow/block-list matching (沪B·9X77Q → 沪B9X77Q). */
export function plateKey(text: string): string {
  return normalisePlateText(text).replace(/·/g, '').toUpperCase();
}

export function isPlausiblePlate(text: string): boolean {
  return PLATE.test(plateKey(text));
}

/** For logs: province, issuer and the last two characters only (京A12345 → 京A***45). */
export function maskPlate(text: string): string {
  const key = plateKey(text);
  if (key.length <= 4) return '*'.repeat(key.length);
  return `${key.slice(0, 2)}***${key.slice(-2)}`;
}
