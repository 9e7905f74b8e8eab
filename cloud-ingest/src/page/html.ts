/**
 * The alarm page's and the console's HTML bodies (inside pageShell). They carry no alarm data: the scripts
 * fetch it with the session, so every piece of data stays behind the API's auth and site scoping.
 */
import { pageShell } from './shell.js';

export function alarmPageHtml(alarmId: string, apiBase: string, scriptUrl: string): string {
  return pageShell({
    title: `Alarm ${alarmId.slice(0, 8)}`, script: scriptUrl, data: { 'alarm-id': alarmId, 'api-base': apiBase },
    body: `<main>
  <p id="error" role="alert"></p>
  <section class="wide" id="summary" hidden>
    <h1 id="title"></h1>
    <div><span id="severity" class="badge"></span> <span id="state" class="badge"></span> <span id="raised" class="muted"></span></div>
    <p id="message"></p>
    <div id="actions">
      <textarea id="note" placeholder="Note (optional)" maxlength="2000"></textarea>
      <button id="ack">Acknowledge</button>
      <label style="display:inline">Dispatch to <input id="dispatch-to" list="dispatch-targets" placeholder="guard team or terminal" maxlength="64" size="22"></label>
      <datalist id="dispatch-targets"></datalist>
      <button id="dispatch">Dispatch</button>
      <button id="resolve">Resolve</button><button id="false-alarm" class="secondary">False alarm</button>
    </div>
  </section>
  <section id="where" hidden><h2>Where</h2><dl id="place"></dl></section>
  <section id="response" hidden><h2>Who was called, who responded</h2><ul id="calls"></ul><h2 style="margin-top:10px">Dispatched</h2><ul id="dispatches"></ul></section>
  <section id="linkage-box" hidden><h2>What the linkage did</h2><table><thead><tr><th>Device</th><th>Action</th><th>Result</th><th>Confirmed after</th></tr></thead><tbody id="linkage"></tbody></table><p id="resets" class="ok"></p></section>
  <section id="clips-box" class="wide clips" hidden><h2>Video</h2><div id="clips"></div></section>
  <section id="pictures-box" class="pictures" hidden><h2>Pictures</h2><div id="pictures"></div><p class="muted" id="pictures-note"></p></section>
  <section class="wide" id="history" hidden><h2>History</h2><ul id="audit"></ul><h2 style="margin-top:10px">Comments</h2><ul id="comments"></ul></section>
</main>`,
  });
}

export function consoleHtml(apiBase: string, scriptUrl: string): string {
  return pageShell({
    title: 'Alarm console', script: scriptUrl, data: { 'api-base': apiBase },
    body: `<main class="list">
  <p id="error" role="alert"></p>
  <section>
    <h1>Open alarms <span id="count" class="badge sev-info">0</span> <span id="live" class="muted">connecting…</span></h1>
    <div>
      <label style="display:inline">Site <select id="f-site"><option value="">all</option></select></label>
      <label style="display:inline">Building <select id="f-building"><option value="">all</option></select></label>
      <label style="display:inline">Kind <select id="f-kind"><option value="">all</option></select></label>
      <label style="display:inline"><input type="checkbox" id="sound" checked> Sound for new critical alarms</label>
    </div>
    <table><thead><tr><th>Severity</th><th>What</th><th>Where</th><th>State</th><th>Raised</th></tr></thead><tbody id="alarms"></tbody></table>
    <p class="muted" id="empty">No open alarms.</p>
  </section>
</main>`,
  });
}
