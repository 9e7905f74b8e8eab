/** The sign-in page's script (/sign-in.js): password form, or the one-time link in the URL's fragment. */
export const SIGN_IN_SCRIPT = String.raw`(function () {
  'use strict';
  var $ = SC.$;
  var params = new URLSearchParams(location.search);
  // Only a path of this site: an open redirect would let a link send a guard anywhere after signing in.
  var next = params.get('next');
  if (!next || next.charAt(0) !== '/' || next.charAt(1) === '/' || next.charAt(1) === '\\') next = '/console';

  function signIn(body) {
    SC.error('');
    return fetch('/auth/sign-in', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(function (r) {
        if (r.ok) { location.replace(next); return; }
        return r.json().then(function (e) { SC.error(e.code === 'ERR_UNAUTHENTICATED' ? 'That did not work: check the user name and password, or ask for a new link.' : e.code + ': ' + e.message); });
      }, function (e) { SC.error(e.message); });
  }

  var m = /(?:^#|&)link=([^&]+)/.exec(location.hash);
  if (m) {
    var token = decodeURIComponent(m[1]);
    // The token leaves the address bar at once (history, screen sharing); it is spent on the button.
    history.replaceState(null, '', location.pathname + location.search);
    SC.show('password-form-box', false);
    SC.show('link-box', true);
    $('use-link').addEventListener('click', function () { signIn({ link: token }); });
  }
  $('password-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    signIn({ user: $('user').value.trim(), password: $('password').value });
  });
})();
`;
