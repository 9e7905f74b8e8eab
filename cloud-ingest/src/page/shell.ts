/**
 * The frame every staff page shares (sign-in, console, alarm page): head, styles, header with the user, and
 * the common script. Pages carry no data in their HTML: their scripts fetch it with the session, so the
 * pages themselves are public and every piece of data stays behind the API's auth and site scoping.
 */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Only the page's own scripts run; data comes from its own origin; pictures are blob: URLs or same-origin. */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; media-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

export const COMMON_SCRIPT_URL = '/staff-common.js';

const STYLE = `
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2430; }
  header { background: #1d2430; color: #fff; padding: 10px 20px; display: flex; justify-content: space-between; align-items: center; gap: 12px; }
  header a { color: #cbd5e1; }
  main { max-width: 1100px; margin: 16px auto; padding: 0 16px; display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  main.narrow { max-width: 420px; grid-template-columns: 1fr; }
  main.list { grid-template-columns: 1fr; }
  section { background: #fff; border-radius: 6px; padding: 14px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  section.wide { grid-column: 1 / -1; }
  h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 15px; margin: 0 0 8px; color: #4a5568; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; } dt { color: #6b7280; }
  label { display: block; margin: 6px 0; }
  .badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600; font-size: 13px; }
  .sev-critical { background: #b91c1c; color: #fff; } .sev-major { background: #ea580c; color: #fff; }
  .sev-minor { background: #facc15; } .sev-info { background: #e5e7eb; }
  .st-open { background: #fee2e2; color: #991b1b; } .st-acknowledged { background: #fef3c7; color: #92400e; }
  .st-dispatched { background: #dbeafe; color: #1e40af; } .st-resolved, .st-false_alarm { background: #dcfce7; color: #166534; }
  .ok { color: #166534; font-weight: 600; } .bad { color: #b91c1c; font-weight: 600; }
  button { font: inherit; padding: 6px 14px; border-radius: 4px; border: 1px solid #1d2430; background: #1d2430; color: #fff; cursor: pointer; margin-right: 6px; }
  button.secondary { background: #fff; color: #1d2430; } button:disabled { opacity: .4; cursor: default; }
  input, textarea, select { font: inherit; padding: 5px 8px; border: 1px solid #c5cad3; border-radius: 4px; box-sizing: border-box; }
  textarea { width: 100%; min-height: 48px; margin: 6px 0; }
  table { width: 100%; border-collapse: collapse; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e5e7eb; }
  tr.new { animation: flash 2s; } @keyframes flash { from { background: #fee2e2; } to { background: transparent; } }
  .pictures img { max-width: 100%; border-radius: 4px; margin-bottom: 8px; }
  .clips figure { display: inline-block; margin: 0 12px 10px 0; vertical-align: top; } .clips video { width: 480px; max-width: 100%; background: #000; border-radius: 4px; }
  #error { grid-column: 1 / -1; margin: 0; color: #b91c1c; font-weight: 600; }
  ul { margin: 0; padding-left: 18px; } .muted { color: #6b7280; }
`;

export function pageShell(p: { title: string; script: string; body: string; data?: Record<string, string> }): string {
  const data = Object.entries(p.data ?? {}).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(p.title)}</title>
<style>${STYLE}</style>
</head>
<body${data}>
<header><strong>Community safety · <a href="/console">Alarm console</a></strong><span><span id="who" class="muted"></span> <button id="signout" class="secondary" hidden>Sign out</button></span></header>
${p.body}
<script src="${COMMON_SCRIPT_URL}"></script>
<script src="${esc(p.script)}"></script>
</body>
</html>`;
}
