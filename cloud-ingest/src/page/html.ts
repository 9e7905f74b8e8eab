/**
 * The alarm page's HTML. It carries no alarm data: the script fetches the alarm with the token the user
 * enters (kept in sessionStorage, so it is gone when the tab closes), which keeps the page itself public
 * and cacheable and every piece of data behind the API's auth and site scoping.
 */
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function alarmPageHtml(alarmId: string, apiBase: string, scriptUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Alarm ${esc(alarmId.slice(0, 8))}</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2430; }
  header { background: #1d2430; color: #fff; padding: 10px 20px; display: flex; justify-content: space-between; align-items: center; }
  main { max-width: 960px; margin: 16px auto; padding: 0 16px; display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  section { background: #fff; border-radius: 6px; padding: 14px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  section.wide { grid-column: 1 / -1; }
  h1 { font-size: 20px; margin: 0 0 6px; } h2 { font-size: 15px; margin: 0 0 8px; color: #4a5568; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; } dt { color: #6b7280; }
  .badge { display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600; font-size: 13px; }
  .sev-critical { background: #b91c1c; color: #fff; } .sev-major { background: #ea580c; color: #fff; }
  .sev-minor { background: #facc15; } .sev-info { background: #e5e7eb; }
  .st-open { background: #fee2e2; color: #991b1b; } .st-acknowledged { background: #fef3c7; color: #92400e; }
  .st-dispatched { background: #dbeafe; color: #1e40af; } .st-resolved, .st-false_alarm { background: #dcfce7; color: #166534; }
  button { font: inherit; padding: 6px 14px; border-radius: 4px; border: 1px solid #1d2430; background: #1d2430; color: #fff; cursor: pointer; margin-right: 6px; }
  button.secondary { background: #fff; color: #1d2430; } button:disabled { opacity: .4; cursor: default; }
  input, textarea { font: inherit; padding: 5px 8px; border: 1px solid #c5cad3; border-radius: 4px; box-sizing: border-box; }
  textarea { width: 100%; min-height: 48px; margin: 6px 0; }
  #snapshot img { max-width: 100%; border-radius: 4px; } #error { grid-column: 1 / -1; margin: 0; color: #b91c1c; font-weight: 600; }
  ul { margin: 0; padding-left: 18px; } .muted { color: #6b7280; }
</style>
</head>
<body data-alarm-id="${esc(alarmId)}" data-api-base="${esc(apiBase)}">
<header><strong>Community safety · alarm</strong><span id="who" class="muted"></span></header>
<main>
  <p id="error" role="alert"></p>
  <section class="wide" id="login" hidden>
    <h2>Sign in</h2>
    <form id="token-form"><label>Access token <input id="token" type="password" autocomplete="off" size="48" required></label>
    <button type="submit">Open alarm</button></form>
  </section>
  <section class="wide" id="summary" hidden>
    <h1 id="title"></h1>
    <div><span id="severity" class="badge"></span> <span id="state" class="badge"></span></div>
    <p id="message"></p>
    <div id="actions">
      <textarea id="note" placeholder="Note (optional)"></textarea>
      <button id="ack">Acknowledge</button><button id="resolve">Resolve</button><button id="false-alarm" class="secondary">False alarm</button>
      <button id="signout" class="secondary">Sign out</button>
    </div>
  </section>
  <section id="details" hidden><h2>Details</h2><dl id="facts"></dl></section>
  <section id="snapshot" hidden><h2>Snapshot</h2><p class="muted" id="snapshot-note">No snapshot.</p></section>
  <section class="wide" id="history" hidden><h2>History</h2><ul id="audit"></ul><h2 style="margin-top:10px">Comments</h2><ul id="comments"></ul></section>
</main>
<script src="${esc(scriptUrl)}"></script>
</body>
</html>`;
}
