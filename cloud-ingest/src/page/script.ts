/**
 * The alarm page's browser script, served as a static file (so the page can run under a CSP without
 * inline scripts). Plain ES2017 in a string: there is no bundler and the page needs no framework. All
 * text is set through textContent, never innerHTML, since alarm messages and comments are user input.
 */
export const ALARM_PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var KEY = 'safe-community.token';
  var body = document.body;
  var id = body.getAttribute('data-alarm-id');
  var api = body.getAttribute('data-api-base');
  var $ = function (s) { return document.getElementById(s); };
  var current = null;

  function token() { return sessionStorage.getItem(KEY); }
  function show(el, on) { $(el).hidden = !on; }
  function text(el, v) { $(el).textContent = v == null ? '' : String(v); }
  function error(msg) { text('error', msg || ''); }

  function call(method, path, payload) {
    var init = { method: method, headers: { authorization: 'Bearer ' + token() } };
    if (payload !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(payload); }
    return fetch(path, init).then(function (r) {
      if (r.status === 401) { sessionStorage.removeItem(KEY); signedOut('Your token was not accepted. Enter it again.'); throw new Error('unauthenticated'); }
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.code + ': ' + e.message); });
      return r;
    });
  }

  function signedOut(msg) {
    ['summary', 'details', 'snapshot', 'history'].forEach(function (s) { show(s, false); });
    show('login', true);
    text('who', '');
    error(msg);
  }

  function when(iso) { return iso ? new Date(iso).toLocaleString() : '—'; }

  function render(a) {
    current = a;
    show('login', false);
    ['summary', 'details', 'snapshot', 'history'].forEach(function (s) { show(s, true); });
    document.title = a.type + ' · ' + a.state;
    text('title', a.type + ' at ' + a.device);
    var sev = $('severity'); sev.className = 'badge sev-' + a.severity; sev.textContent = a.severity;
    var st = $('state'); st.className = 'badge st-' + a.state; st.textContent = a.state.replace('_', ' ');
    text('message', a.message);
    var facts = $('facts'); facts.textContent = '';
    var rows = [['Site', a.site], ['Device', a.device], ['Raised', when(a.raisedAt)], ['Last seen', when(a.lastSeenAt)], ['Occurrences', a.count],
     ['Acknowledged', a.acknowledgedAt ? when(a.acknowledgedAt) + ' by ' + a.acknowledgedBy : '—'], ['Assignee', a.assignee || '—'],
     ['Resolved', a.resolvedAt ? when(a.resolvedAt) + ' by ' + a.resolvedBy : '—'], ['Incident', a.incidentId || '—']];
    // Care alarms: the resident, and their last fix as the API gives it to this user (the resident's guard
    // team and admins; for anyone else the API removes it and sets tags.location_hidden).
    var tags = a.tags || {};
    if (tags.resident) rows.push(['Resident', tags.resident]);
    if (tags.last_lat && tags.last_lon) rows.push(['Last position', tags.last_lat + ', ' + tags.last_lon + (tags.last_fix_at ? ' at ' + when(tags.last_fix_at) : '')]);
    else if (tags.location_hidden === 'true') rows.push(['Last position', "withheld (only the resident's guard team and admins see it)"]);
    rows.forEach(function (f) { var dt = document.createElement('dt'); dt.textContent = f[0]; var dd = document.createElement('dd'); dd.textContent = String(f[1]); facts.appendChild(dt); facts.appendChild(dd); });
    var active = a.state === 'open' || a.state === 'acknowledged' || a.state === 'dispatched';
    $('ack').disabled = a.state !== 'open';
    $('resolve').disabled = !active;
    $('false-alarm').disabled = !active;
    list('audit', (a.audit || []).map(function (e) {
      var change = e.from && e.to && e.from !== e.to ? ' (' + e.from + ' → ' + e.to + ')' : '';
      var note = e.detail && typeof e.detail.note === 'string' ? ': ' + e.detail.note : '';
      return when(e.at) + ' · ' + e.actor + ' · ' + e.action + change + note;
    }));
    list('comments', (a.comments || []).map(function (c) { return when(c.at) + ' · ' + c.author + ': ' + c.text; }));
  }

  function list(el, items) {
    var ul = $(el); ul.textContent = '';
    if (items.length === 0) { var li = document.createElement('li'); li.className = 'muted'; li.textContent = 'none'; ul.appendChild(li); }
    items.forEach(function (t) { var li = document.createElement('li'); li.textContent = t; ul.appendChild(li); });
  }

  function loadSnapshot(a) {
    var has = a.evidence && a.evidence.snapshots && a.evidence.snapshots.length > 0;
    if (!has) return;
    call('GET', '/alarms/' + id + '/snapshot').then(function (r) { return r.blob(); }).then(function (b) {
      var img = document.createElement('img'); img.alt = 'snapshot'; img.id = 'snapshot-img';
      img.src = URL.createObjectURL(b);
      $('snapshot-note').replaceWith(img);
    }).catch(function (e) { text('snapshot-note', 'Snapshot not available (' + e.message + ')'); });
  }

  function load() {
    return call('GET', api + '/me').then(function (r) { return r.json(); }).then(function (me) {
      text('who', me.user + ' (' + me.role + ')');
      return call('GET', api + '/alarms/' + id);
    }).then(function (r) { return r.json(); }).then(function (a) { render(a); loadSnapshot(a); error(''); })
      .catch(function (e) { if (e.message !== 'unauthenticated') error(e.message); });
  }

  function act(path, payload) {
    error('');
    ['ack', 'resolve', 'false-alarm'].forEach(function (b) { $(b).disabled = true; });
    return call('POST', api + '/alarms/' + id + path, payload).then(function (r) { return r.json(); })
      .then(function (a) { $('note').value = ''; render(a); })
      .catch(function (e) { if (current) render(current); error(e.message); });
  }

  function note() { var n = $('note').value.trim(); return n ? { note: n } : {}; }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $('token').value.trim());
    $('token').value = '';
    load();
  });
  $('ack').addEventListener('click', function () { act('/ack', note()); });
  $('resolve').addEventListener('click', function () { act('/resolve', note()); });
  $('false-alarm').addEventListener('click', function () { var b = note(); b.falseAlarm = true; act('/resolve', b); });
  $('signout').addEventListener('click', function () { sessionStorage.removeItem(KEY); signedOut(''); });

  if (token()) load(); else signedOut('');
})();
`;
