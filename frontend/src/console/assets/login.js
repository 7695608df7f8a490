// The sign-in page of a link `mconsole` printed: posting the link's query
// (not opening the link) is what signs in, so a link preview that fetches
// the URL does not use it up. Then the query is dropped from history.
'use strict';

(function () {
  const query = window.location.search.replace(/^\?/, '');
  const button = document.getElementById('login-button');
  const error = document.getElementById('login-error');
  const params = new URLSearchParams(query);
  const keyId = params.get('keyId') || '';
  const login = keyId.split('/')[1] || '';
  document.getElementById('login-account').textContent =
    login ? 'Account: ' + login : 'This link names no account.';
  button.disabled = !query;
  button.addEventListener('click', async function () {
    button.disabled = true;
    error.textContent = '';
    try {
      const r = await fetch('/console/api/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'text/plain' },
        body: query,
      });
      if (!r.ok) {
        let msg = r.status + ' ' + r.statusText;
        try {
          const e = await r.json();
          msg = e.code + ': ' + e.message;
        } catch (_) { /* not JSON */ }
        error.textContent = msg;
        return;
      }
      window.history.replaceState(null, '', '/console/login');
      window.location.assign('/console/#/objects');
    } catch (e) {
      error.textContent = String(e);
      button.disabled = false;
    }
  });
})();
