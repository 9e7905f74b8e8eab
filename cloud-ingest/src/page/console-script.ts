/**
 * The alarm console's script (/console.js): the open alarms of the user's sites, most severe and newest
 * first, kept up to date by the live feed without reloading; filters by site, building and kind; a tone for
 * each new critical alarm (counted in body[data-beeps], so it can be checked without speakers).
 */
export const CONSOLE_SCRIPT = String.raw`(function () {
  'use strict';
  var $ = SC.$;
  var api = document.body.getAttribute('data-api-base');
  var RANK = { critical: 4, major: 3, minor: 2, info: 1 };
  var ACTIVE = { open: true, acknowledged: true, dispatched: true };
  var alarms = {};
  var fresh = {};
  var loaded = false;
  var audio = null;
  var beeps = 0;

  function where(a) {
    var t = a.tags || {};
    return [a.site, t.building && 'building ' + t.building, t.zone && 'zone ' + t.zone, t.unit && 'unit ' + t.unit].filter(Boolean).join(' · ');
  }

  function beep() {
    beeps++;
    document.body.setAttribute('data-beeps', String(beeps));
    if (!$('sound').checked) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var o = audio.createOscillator(); var g = audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.2; o.connect(g); g.connect(audio.destination);
      o.start(); o.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio device: the flashing row still shows it */ }
  }

  function fill(select, values) {
    var keep = select.value;
    while (select.options.length > 1) select.remove(1);
    values.sort().forEach(function (v) { var o = SC.el('option', v); o.value = v; select.appendChild(o); });
    select.value = values.indexOf(keep) >= 0 ? keep : '';
  }

  function render() {
    var list = Object.keys(alarms).map(function (k) { return alarms[k]; });
    var uniq = function (f) { var s = {}; list.forEach(function (a) { var v = f(a); if (v) s[v] = true; }); return Object.keys(s); };
    fill($('f-site'), uniq(function (a) { return a.site; }));
    fill($('f-building'), uniq(function (a) { return (a.tags || {}).building; }));
    fill($('f-kind'), uniq(function (a) { return a.type; }));
    var fs = $('f-site').value, fb = $('f-building').value, fk = $('f-kind').value;
    var shown = list.filter(function (a) {
      return (!fs || a.site === fs) && (!fb || (a.tags || {}).building === fb) && (!fk || a.type === fk);
    }).sort(function (x, y) {
      return (RANK[y.severity] - RANK[x.severity]) || (Date.parse(y.raisedAt) - Date.parse(x.raisedAt));
    });
    var body = $('alarms'); body.textContent = '';
    shown.forEach(function (a) {
      var tr = SC.el('tr', null, fresh[a.id] ? 'new' : '');
      tr.setAttribute('data-alarm-id', a.id);
      var sev = SC.el('td'); sev.appendChild(SC.el('span', a.severity, 'badge sev-' + a.severity)); tr.appendChild(sev);
      var what = SC.el('td'); var link = SC.el('a', SC.kind(a.type) + ' · ' + a.device); link.href = '/alarms/' + a.id; what.appendChild(link);
      if (a.count > 1) what.appendChild(SC.el('span', ' ×' + a.count, 'muted'));
      tr.appendChild(what);
      tr.appendChild(SC.el('td', where(a)));
      var st = SC.el('td'); st.appendChild(SC.el('span', a.state.replace('_', ' '), 'badge st-' + a.state)); tr.appendChild(st);
      tr.appendChild(SC.el('td', SC.when(a.raisedAt)));
      tr.addEventListener('click', function (ev) { if (ev.target.tagName !== 'A') location.href = '/alarms/' + a.id; });
      body.appendChild(tr);
    });
    SC.text('count', shown.length);
    SC.show('empty', shown.length === 0);
  }

  function onAlarm(a) {
    var known = !!alarms[a.id];
    if (ACTIVE[a.state]) {
      alarms[a.id] = a;
      if (!known && loaded) { fresh[a.id] = true; if (a.severity === 'critical') beep(); }
    } else {
      delete alarms[a.id];
    }
    render();
  }

  function load() {
    return SC.call('GET', api + '/alarms?state=open,acknowledged,dispatched&limit=500').then(function (r) { return r.json(); }).then(function (b) {
      alarms = {};
      b.alarms.forEach(function (a) { alarms[a.id] = a; });
      loaded = true;
      SC.text('live', 'live');
      render();
      SC.error('');
    }).catch(function (e) { SC.error(e.message); });
  }

  ['f-site', 'f-building', 'f-kind'].forEach(function (id) { $(id).addEventListener('change', render); });
  SC.session().then(function () {
    SC.live(onAlarm, load);
  }).catch(function (e) { SC.error(e.message); });
})();
`;
