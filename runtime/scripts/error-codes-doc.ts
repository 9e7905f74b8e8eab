/** Writes docs/error-codes.md from the error-code catalogue (`npm run docs:error-codes`). */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderErrorCodesMarkdown } from '../src/error-codes-doc.js';

const target = fileURLToPath(new URL('../../docs/error-codes.md', import.meta.url));
await writeFile(target, renderErrorCodesMarkdown());
console.log(`wrote ${target}`);
