// The page a password-reset mail links to (RESET_PASSWORD_URL defaults to ${PUBLIC_BASE_URL}/reset-password).
// It is deliberately tiny: a form and a same-origin script (the production CSP forbids inline script) that posts
// the token from the link and the new password as JSON to /auth/reset-password and shows the outcome.
//
// The token sits in the URL, so the page leaks it nowhere: no third-party resource, `Referrer-Policy: no-referrer`,
// `Cache-Control: no-store`, and the script drops the token from the address bar as soon as it has read it.
import type { Express, RequestHandler } from 'express';

export const RESET_PAGE_PATH = '/reset-password';
export const RESET_SCRIPT_PATH = '/reset-password/reset-password.js';

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Choose a new password</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; }
  label { display: block; margin-top: 1rem; }
  input { width: 100%; padding: .5rem; box-sizing: border-box; }
  button { margin-top: 1.25rem; padding: .5rem 1rem; }
  #outcome { margin-top: 1.25rem; }
  .error { color: #b00020; } .ok { color: #1b5e20; }
</style>
</head>
<body>
<h1>Choose a new password</h1>
<form id="reset-form" novalidate>
  <label for="password">New password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
  <label for="confirm">New password, again</label>
  <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="8" required>
  <button id="submit" type="submit">Set password</button>
</form>
<p id="outcome" role="status" aria-live="polite"></p>
<script src="${RESET_SCRIPT_PATH}"></script>
</body>
</html>
`;

const SCRIPT = `'use strict';
(function () {
  var params = new URLSearchParams(window.location.search);
  var token = params.get('token') || '';
  // The token has been read: take it out of the address bar and the history entry.
  if (window.history && window.history.replaceState) window.history.replaceState(null, '', window.location.pathname);
  var form = document.getElementById('reset-form');
  var outcome = document.getElementById('outcome');
  function show(text, ok) {
    outcome.textContent = text;
    outcome.className = ok ? 'ok' : 'error';
  }
  if (!token) show('This link has no reset token. Ask for a new reset email.', false);
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var password = document.getElementById('password').value;
    var confirm = document.getElementById('confirm').value;
    if (password.length < 8) return show('The password needs at least 8 characters.', false);
    if (password !== confirm) return show('The two passwords differ.', false);
    document.getElementById('submit').disabled = true;
    fetch('/auth/reset-password', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      body: JSON.stringify({ token: token, password: password })
    }).then(function (res) {
      if (res.ok) {
        form.hidden = true;
        return show('Your password has been changed. You can sign in with it now.', true);
      }
      return res.json().catch(function () { return {}; }).then(function (body) {
        var code = body && body.code;
        if (code === 'RESET_PASSWORD_BAD_TOKEN') show('This link has expired or was already used. Ask for a new reset email.', false);
        else if (code === 'RATE_LIMITED') show('Too many attempts. Wait a little and try again.', false);
        else show('The password could not be changed. Check it and try again.', false);
        document.getElementById('submit').disabled = false;
      });
    }, function () {
      show('The server could not be reached. Try again.', false);
      document.getElementById('submit').disabled = false;
    });
  });
})();
`;

function send(type: string, body: string): RequestHandler {
  return (_req, res) => {
    res.set({ 'Content-Type': type, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.send(body);
  };
}

/** Serves the page and its script at the root (not under /api/v1: it is a browser page, like /docs). */
export function mountResetPasswordPage(app: Express): void {
  app.get(RESET_PAGE_PATH, send('text/html; charset=utf-8', HTML));
  app.get(RESET_SCRIPT_PATH, send('text/javascript; charset=utf-8', SCRIPT));
}
