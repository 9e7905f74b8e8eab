/**
 * The browser helpers every staff page shares (served as /staff-common.js, so pages run under a CSP without
 * inline scripts): the session (or a redirect to sign-in), API calls that carry the CSRF token on writes,
 * and small DOM helpers. All text goes in through textContent, never innerHTML: alarm messages, comments
 * and names are other people's input.
 */
import { KIND_WORDS } from '../api/alarm-context.js';

export const COMMON_SCRIPT = String.raw`(function () {
  'use strict';
  var csrf = null;
  var SC = {};
  SC.$ = function (s) { return document.getElementById(s); };
  SC.text = function (el, v) { SC.$(el).textContent = v == null ? '' : String(v); };
  SC.show = function (el, on) { SC.$(el).hidden = !on; };
  SC.error = function (msg) { var e = SC.$('error'); if (e) e.textContent = msg || ''; };
  SC.when = function (iso) { return iso ? new Date(iso).toLocaleString() : '—'; };
  SC.el = function (tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = String(text); if (cls) e.className = cls; return e; };

  /** Back to the sign-in page, returning here afterwards. */
  SC.signIn = function () {
    location.replace('/sign-in?next=' + encodeURIComponent(location.pathname + location.search));
    return new Promise(function () {});
  };

  /** The signed-in user (and the CSRF token for writes); not signed in → the sign-in page. */
  SC.session = function () {
    return fetch('/auth/session', { credentials: 'same-origin' }).then(function (r) {
      if (r.status === 401) return SC.signIn();
      if (!r.ok) throw new Error('session check failed (' + r.status + ')');
      return r.json();
    }).then(function (s) {
      csrf = s.csrf;
      SC.text('who', s.user.user + ' (' + s.user.role + ')');
      var out = SC.$('signout');
      out.hidden = false;
      out.onclick = function () { fetch('/auth/sign-out', { method: 'POST', credentials: 'same-origin' }).then(function () { location.replace('/sign-in'); }); };
      return s.user;
    });
  };

  SC.call = function (method, path, payload) {
    var init = { method: method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET') init.headers['x-csrf-token'] = csrf;
    if (payload !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(payload); }
    return fetch(path, init).then(function (r) {
      if (r.status === 401) return SC.signIn();
      if (!r.ok) return r.json().then(function (e) { throw new Error(e.code + ': ' + e.message); });
      return r;
    });
  };

  /** Live alarm changes; calls onReady after each (re)connect, so the page reloads what it shows. */
  SC.live = function (onAlarm, onReady) {
    var es = new EventSource('/api/v1/alarms/events');
    es.addEventListener('ready', function () { document.body.setAttribute('data-live', 'on'); onReady(); });
    es.addEventListener('alarm', function (ev) { onAlarm(JSON.parse(ev.data)); });
    es.onerror = function () {
      document.body.setAttribute('data-live', 'off');
      // A stream refused for want of a session: go and sign in; otherwise EventSource retries by itself.
      fetch('/auth/session', { credentials: 'same-origin' }).then(function (r) { if (r.status === 401) { es.close(); SC.signIn(); } });
    };
    return es;
  };

  var KINDS = __KINDS__;
  SC.kind = function (type) {
    if (KINDS[type]) return KINDS[type];
    var w = type.replace(/[._]+/g, ' ').trim();
    return w.charAt(0).toUpperCase() + w.slice(1);
  };
  window.SC = SC;
})();
`.replace('__KINDS__', JSON.stringify(KIND_WORDS));
