/**
 * The alarm page's script (/alarm-page.js): what happened, where, who was called and who responded, what
 * the linkage did with each device, the pictures; Acknowledge, Dispatch, Resolve, False alarm; kept up to
 * date by the live feed. Video clips (issue 16) play in the page from the API with the session cookie, as
 * the pictures do; a clip still on its way from the edge is named as such until it arrives. The exact position is shown only when the API gives it (the resident's team and
 * admins); the place in words (building, floor, zone, unit) is for every staff member of the site.
 */
export const ALARM_PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var $ = SC.$;
  var id = document.body.getAttribute('data-alarm-id');
  var api = document.body.getAttribute('data-api-base');
  var ACTIVE = { open: true, acknowledged: true, dispatched: true };
  var me = null;
  var current = null;
  var shownPictures = '';
  var shownClips = '';
  var waiting = null;

  function list(el, items) {
    var ul = $(el); ul.textContent = '';
    if (items.length === 0) ul.appendChild(SC.el('li', 'none', 'muted'));
    items.forEach(function (t) { ul.appendChild(SC.el('li', t)); });
  }

  function facts(el, rows) {
    var dl = $(el); dl.textContent = '';
    rows.forEach(function (f) { if (f[1] == null || f[1] === '') return; dl.appendChild(SC.el('dt', f[0])); dl.appendChild(SC.el('dd', f[1])); });
  }

  function render(a) {
    current = a;
    var c = a.context;
    ['summary', 'where', 'response', 'history'].forEach(function (s) { SC.show(s, true); });
    document.title = c.kind + ' · ' + a.state.replace('_', ' ');
    SC.text('title', c.title);
    var sev = $('severity'); sev.className = 'badge sev-' + a.severity; sev.textContent = a.severity;
    var st = $('state'); st.className = 'badge st-' + a.state; st.textContent = a.state.replace('_', ' ');
    SC.text('raised', 'raised ' + SC.when(a.raisedAt) + (a.count > 1 ? ' · ' + a.count + ' times' : ''));
    SC.text('message', a.message);

    var t = a.tags || {};
    var position = null;
    if (t.last_lat && t.last_lon) position = t.last_lat + ', ' + t.last_lon + (t.last_fix_at ? ' at ' + SC.when(t.last_fix_at) : '');
    else if (t.location_hidden === 'true') position = "only the resident's guard team and admins see the exact position";
    facts('place', [['Site', c.place.site], ['Building', c.place.building], ['Floor', c.place.floor], ['Zone', c.place.zone], ['Unit', c.place.unit],
      ['Resident', c.resident ? c.resident.name : null], ['Device', a.device + (c.device.kind ? ' (' + c.device.kind.replace('_', ' ') + ')' : '')],
      ['Exact position', position]]);

    var calls = c.calls.map(function (k) { return SC.when(k.at) + ' · called ' + (k.channels.join(', ') || 'duty') + (k.level > 0 ? ' (level ' + k.level + ')' : ''); });
    if (a.acknowledgedAt) calls.push(SC.when(a.acknowledgedAt) + ' · acknowledged by ' + a.acknowledgedBy);
    if (a.resolvedAt) calls.push(SC.when(a.resolvedAt) + ' · ' + (a.state === 'false_alarm' ? 'closed as a false alarm' : 'resolved') + ' by ' + a.resolvedBy);
    list('calls', calls);
    list('dispatches', (a.dispatches || []).map(function (d) {
      return SC.when(d.sentAt) + ' · ' + d.terminal + ' by ' + d.sentBy + ' · ' + d.status + (d.note ? ': ' + d.note : '') + (d.feedback ? ' · "' + d.feedback + '"' : '');
    }));

    SC.show('linkage-box', c.linkage.length > 0 || c.resets.length > 0);
    SC.text('resets', c.resets.map(function (r) { return r.kind + ' at ' + SC.when(r.at); }).join('; '));
    var lb = $('linkage'); lb.textContent = '';
    c.linkage.forEach(function (s) {
      var tr = SC.el('tr');
      tr.appendChild(SC.el('td', s.device + (s.deviceKind ? ' (' + s.deviceKind.replace('_', ' ') + ')' : '')));
      tr.appendChild(SC.el('td', s.action.replace(/_/g, ' ')));
      tr.appendChild(SC.el('td', s.status + (s.attempts > 1 ? ' after ' + s.attempts + ' tries' : ''), s.status === 'confirmed' ? 'ok' : 'bad'));
      tr.appendChild(SC.el('td', s.confirmedAfterMs != null ? s.confirmedAfterMs + ' ms' : '—'));
      lb.appendChild(tr);
    });

    // No picture panel for alarms that can never have one (an SOS from a wearable).
    var snaps = (a.evidence && a.evidence.snapshots) || [];
    SC.show('pictures-box', c.picturesPossible);
    if (c.picturesPossible && snaps.join('|') !== shownPictures) {
      shownPictures = snaps.join('|');
      var box = $('pictures'); box.textContent = '';
      snaps.forEach(function (ref, i) {
        var img = SC.el('img'); img.alt = ref; img.className = 'picture';
        img.onerror = function () { img.replaceWith(SC.el('p', 'Picture ' + (i + 1) + ' is not available (expired or not uploaded).', 'muted')); };
        img.src = '/alarms/' + id + '/snapshots/' + i;
        box.appendChild(img);
      });
      SC.text('pictures-note', snaps.length === 0 ? 'No picture yet: it appears here when the camera\'s snapshot arrives.' : '');
    }

    var clips = (a.evidence && a.evidence.clips) || [];
    SC.show('clips-box', clips.length > 0);
    var clipsNow = clips.map(function (k) { return k.clip + ':' + k.status; }).join('|');
    if (clipsNow !== shownClips) {
      shownClips = clipsNow;
      var cb = $('clips'); cb.textContent = '';
      clips.forEach(function (k) {
        var fig = SC.el('figure');
        var label = k.camera + ' · from ' + SC.when(k.startAt) + ' · ' + Math.round(k.durationMs / 1000) + ' s' + (k.blurred === false ? ' · faces not blurred' : '');
        if (k.status === 'ready') {
          var v = SC.el('video'); v.controls = true; v.preload = 'metadata'; v.src = k.url; v.setAttribute('data-clip', k.clip);
          v.onerror = function () { v.replaceWith(SC.el('p', 'This clip is not available (expired or removed).', 'muted')); };
          fig.appendChild(v);
        } else {
          fig.appendChild(SC.el('p', 'Clip being uploaded from the camera\'s building; it appears here when it arrives.', 'muted pending-clip'));
        }
        fig.appendChild(SC.el('figcaption', label, 'muted'));
        cb.appendChild(fig);
      });
    }

    // Evidence the edge sends after the alarm (the linkage's record, the camera's picture, the panel's reset)
    // writes no alarm history, so the live feed does not announce it: a young alarm still missing some is
    // read again shortly, any other active one every 15 s.
    var young = Date.now() - Date.parse(a.raisedAt) < 120000;
    var missing = (c.picturesPossible && snaps.length === 0) || c.linkage.length === 0 || clips.some(function (k) { return k.status !== 'ready'; });
    if (!waiting && ACTIVE[a.state]) waiting = setTimeout(function () { waiting = null; load(); }, young && missing ? 3000 : 15000);

    var active = !!ACTIVE[a.state];
    var acts = me && (me.role === 'security' || me.role === 'admin');
    $('ack').disabled = !acts || a.state !== 'open';
    $('dispatch').disabled = !acts || !active;
    $('resolve').disabled = !acts || !active || a.state === 'open';
    $('false-alarm').disabled = !acts || !active || a.state === 'open';
    var dl = $('dispatch-targets'); dl.textContent = '';
    var seen = {};
    ((me && me.teams) || []).concat((a.dispatches || []).map(function (d) { return d.terminal; })).forEach(function (v) {
      if (seen[v]) return; seen[v] = true; var o = SC.el('option'); o.value = v; dl.appendChild(o);
    });
    list('audit', (a.audit || []).map(function (e) {
      var change = e.from && e.to && e.from !== e.to ? ' (' + e.from + ' → ' + e.to + ')' : '';
      var d = e.detail || {};
      var extra = typeof d.note === 'string' ? ': ' + d.note : d.terminal ? ' → ' + d.terminal : d.channels ? ' → ' + d.channels.join(', ') : d.channel ? ' → ' + d.channel : '';
      return SC.when(e.at) + ' · ' + e.actor + ' · ' + e.action + change + extra;
    }));
    list('comments', (a.comments || []).map(function (k) { return SC.when(k.at) + ' · ' + k.author + ': ' + k.text; }));
  }

  function load() {
    return SC.call('GET', api + '/alarms/' + id).then(function (r) { return r.json(); })
      .then(function (a) { render(a); SC.error(''); })
      .catch(function (e) { SC.error(e.message); });
  }

  function act(path, payload) {
    SC.error('');
    ['ack', 'dispatch', 'resolve', 'false-alarm'].forEach(function (b) { $(b).disabled = true; });
    return SC.call('POST', api + '/alarms/' + id + path, payload)
      .then(function () { $('note').value = ''; return load(); })
      .catch(function (e) { if (current) render(current); SC.error(e.message); });
  }

  function note() { var n = $('note').value.trim(); return n ? { note: n } : {}; }

  $('ack').addEventListener('click', function () { act('/ack', note()); });
  $('dispatch').addEventListener('click', function () {
    var to = $('dispatch-to').value.trim();
    if (!to) { SC.error('Name the guard team or terminal to dispatch to.'); return; }
    var b = note(); b.terminal = to; act('/dispatch', b);
  });
  $('resolve').addEventListener('click', function () { act('/resolve', note()); });
  $('false-alarm').addEventListener('click', function () { var b = note(); b.falseAlarm = true; act('/resolve', b); });

  SC.session().then(function (user) {
    me = user;
    // Changes by anyone (another guard, an escalation call, a terminal's report) redraw the page.
    SC.live(function (a) { if (a.id === id) load(); }, load);
  }).catch(function (e) { SC.error(e.message); });
})();
`;
