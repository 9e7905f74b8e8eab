/**
 * Severity order in SQL, from the one list in contracts: `severityRank(expr)` ranks a severity column or
 * parameter (1 = info … 4 = critical), `higherSeverity(a, b)` picks the higher of two.
 */
import { SEVERITIES } from '@safe-community/contracts';

const LIST = `ARRAY[${SEVERITIES.map((s) => `'${s}'`).join(',')}]`;

export const severityRank = (expr: string): string => `array_position(${LIST}, ${expr})`;

export const higherSeverity = (a: string, b: string): string =>
  `CASE WHEN ${severityRank(b)} > ${severityRank(a)} THEN ${b} ELSE ${a} END`;
