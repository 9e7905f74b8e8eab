/** The error-code catalogue as a Markdown page (docs/error-codes.md), one table per area. */
import { ERROR_CODES, type ErrorArea, type ErrorCodeInfo } from './error-codes.js';

const AREA_TITLES: Readonly<Record<ErrorArea, string>> = {
  api: 'Cloud API (answers of /api/v1, the staff pages and the terminals)',
  ingest: 'Cloud ingest (envelopes, dead letters, storage)',
  config: 'Configuration (edge and cloud)',
  runtime: 'Shared runtime',
  contracts: 'Wire contract',
  edge: 'Edge agent (broker, devices, linkage, outbox, uplink, cameras, doctor)',
  analytics: 'Video analytics',
  models: 'Models',
  firmware: 'Device profiles (firmware-configs)',
  dashboards: 'Dashboards as code',
  simulators: 'Simulators',
  tools: 'Command line tools',
};

const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function renderErrorCodesMarkdown(): string {
  const entries = Object.entries(ERROR_CODES) as Array<[string, ErrorCodeInfo]>;
  const lines = [
    '# Error codes',
    '',
    'Generated from `runtime/src/error-codes.ts` by `npm run docs:error-codes`; do not edit by hand (a test',
    'checks that this page matches the catalogue).',
    '',
    'Every error the project throws, answers or records carries one of these stable codes. **HTTP** is the',
    'status an HTTP answer with that code has; "–" means the code never is an HTTP answer (it is logged,',
    'dead-lettered, shown on health or by a command line tool). Codes of the cloud API answer in the shape',
    '`{ code, message, requestId, issues? }`.',
  ];
  for (const area of Object.keys(AREA_TITLES) as ErrorArea[]) {
    const rows = entries.filter(([, info]) => info.area === area).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (rows.length === 0) continue;
    lines.push('', `## ${AREA_TITLES[area]}`, '', '| code | HTTP | meaning |', '| --- | --- | --- |');
    for (const [code, info] of rows) lines.push(`| \`${code}\` | ${info.status ?? '–'} | ${cell(info.meaning)} |`);
  }
  return `${lines.join('\n')}\n`;
}
