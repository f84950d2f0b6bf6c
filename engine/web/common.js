// Sluice web UI: what every page shares — the API helper with its token handling,
// the error banner, and small formatters. No framework, no build step.
//
// Token: when the server answers 401, a small form asks for the token; it is kept in
// localStorage (sent as `Authorization: Bearer <token>` on every fetch) and in the cookie
// `sluice_token` (EventSource cannot set headers; the server accepts the cookie too).
'use strict';

(function () {
  const TOKEN_KEY = 'sluice_token';

  function getToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (_) { return ''; }
  }

  // The server reads the cookie's value as it is: the token goes in raw when it is made of
  // cookie-safe characters (any usual token is), else percent-encoded.
  function setCookie(token) {
    const safe = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/.test(token);
    document.cookie = 'sluice_token=' + (safe ? token : encodeURIComponent(token)) + '; path=/; SameSite=Strict';
  }

  function setToken(token) {
    try { localStorage.setItem(TOKEN_KEY, token); } catch (_) { /* private mode */ }
    setCookie(token);
  }

  // A stored token goes back into the (session) cookie on every page load, so that
  // EventSource streams carry it even after the browser dropped the cookie.
  if (getToken()) setCookie(getToken());

  class ApiError extends Error {
    constructor(status, error, hint) {
      super(error || ('HTTP ' + status));
      this.status = status;
      this.error = error || ('HTTP ' + status);
      this.hint = hint || '';
    }
  }

  async function readError(resp) {
    let error = '', hint = '';
    const text = await resp.text().catch(() => '');
    try {
      const body = JSON.parse(text);
      if (body && typeof body === 'object') {
        error = body.error != null ? String(body.error) : '';
        hint = body.hint != null ? String(body.hint) : '';
      }
    } catch (_) {
      error = text.trim().slice(0, 500);
    }
    return new ApiError(resp.status, error || (resp.status + ' ' + resp.statusText), hint);
  }

  // One token form for the whole page: every request that met a 401 waits on it.
  let tokenPrompt = null;
  const tokenListeners = [];

  function askToken(err) {
    if (tokenPrompt) {
      tokenPrompt.showError(err);
      return tokenPrompt.promise;
    }
    const overlay = document.createElement('div');
    overlay.className = 'token-overlay';
    overlay.innerHTML =
      '<form class="token-form" data-testid="token-form" autocomplete="off">' +
      '<h2>Token required</h2>' +
      '<p class="token-msg"></p>' +
      '<p class="token-hint"></p>' +
      '<label>API token <input type="password" name="token" data-testid="token-input" ' +
      'spellcheck="false" required></label>' +
      '<button type="submit" data-testid="token-submit">Use token</button>' +
      '</form>';
    document.body.appendChild(overlay);
    const form = overlay.querySelector('form');
    const input = form.querySelector('input');
    const showError = (e) => {
      form.querySelector('.token-msg').textContent = e ? e.error : '';
      form.querySelector('.token-hint').textContent = e && e.hint ? e.hint : '';
    };
    showError(err);
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      setToken(token);
      overlay.remove();
      tokenPrompt = null;
      tokenListeners.forEach((f) => { try { f(token); } catch (_) { /* ignore */ } });
      resolve(token);
    });
    tokenPrompt = { promise, showError };
    setTimeout(() => input.focus(), 0);
    return promise;
  }

  // fetch + JSON, with the bearer token; on 401 asks for the token and retries.
  // Rejects with ApiError {status, error, hint} on any other error status, or with
  // ApiError status 0 when the server cannot be reached.
  async function api(path, options) {
    const opts = Object.assign({}, options || {});
    for (;;) {
      const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
      const token = getToken();
      if (token) headers.Authorization = 'Bearer ' + token;
      let body = opts.body;
      if (body !== undefined && typeof body !== 'string') {
        body = JSON.stringify(body);
        headers['Content-Type'] = 'application/json';
      }
      let resp;
      try {
        resp = await fetch(path, Object.assign({}, opts, { headers, body, credentials: 'same-origin' }));
      } catch (e) {
        throw new ApiError(0, 'cannot reach the server: ' + (e && e.message ? e.message : e),
          'is `sluice serve` running?');
      }
      if (resp.status === 401) {
        await askToken(await readError(resp));
        continue;
      }
      if (!resp.ok) throw await readError(resp);
      const text = await resp.text();
      if (!text) return null;
      try { return JSON.parse(text); } catch (e) {
        throw new ApiError(resp.status, 'the server sent something that is not JSON', text.slice(0, 200));
      }
    }
  }

  // Shows {error, hint} in a banner element (creates it at the top of <main> if absent).
  function showError(err, where) {
    let el = where || document.querySelector('[data-testid="error"]');
    if (!el) {
      el = document.createElement('div');
      el.setAttribute('data-testid', 'error');
      el.className = 'error-banner';
      const main = document.querySelector('main') || document.body;
      main.insertBefore(el, main.firstChild);
    }
    if (!err) {
      el.hidden = true;
      el.textContent = '';
      return;
    }
    el.hidden = false;
    el.textContent = '';
    const msg = document.createElement('div');
    msg.className = 'error-msg';
    msg.textContent = err.error || err.message || String(err);
    el.appendChild(msg);
    if (err.hint) {
      const hint = document.createElement('div');
      hint.className = 'error-hint';
      hint.textContent = err.hint;
      el.appendChild(hint);
    }
  }

  // --- formatters -------------------------------------------------------------------

  function fmtNum(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return '—';
    if (typeof v !== 'number') return String(v);
    const d = digits === undefined ? (Number.isInteger(v) ? 0 : 1) : digits;
    return v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  }

  function fmtRate(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '—';
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 1e6) return (v / 1e6).toFixed(2) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(1) + 'k';
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }

  function fmtBytes(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let x = v, i = 0;
    while (Math.abs(x) >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (i === 0 ? String(Math.round(x)) : x.toFixed(x >= 100 ? 0 : 1)) + ' ' + units[i];
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
    const neg = ms < 0;
    let s = Math.abs(ms) / 1000;
    let out;
    if (s < 1) out = Math.round(s * 1000) + ' ms';
    else if (s < 60) out = s.toFixed(s < 10 ? 1 : 0) + ' s';
    else if (s < 3600) out = Math.floor(s / 60) + 'm ' + Math.floor(s % 60) + 's';
    else if (s < 86400) out = Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    else out = Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
    return (neg ? '-' : '') + out;
  }

  // "12 s ago" for an RFC 3339 time, against the browser's clock.
  function fmtAge(iso) {
    if (!iso) return '—';
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    const d = Date.now() - t;
    if (d < 0 && d > -5000) return 'just now';
    return fmtDuration(d) + ' ago';
  }

  // An RFC 3339 time shown short: "2016-11-10 00:05:00Z" (UTC, as the server sends it).
  function fmtTime(iso) {
    if (!iso) return '—';
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    return new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }

  // Sets text only when it changed (keeps selections and avoids layout churn).
  function setText(node, text) {
    const t = text === null || text === undefined ? '' : String(text);
    if (node.textContent !== t) node.textContent = t;
  }

  const STATES = ['CREATED', 'RUNNING', 'RESTARTING', 'STOPPING', 'STOPPED', 'FINISHED', 'FAILED'];

  function stateBadge(node, state) {
    setText(node, state);
    node.className = 'badge state-' + (STATES.includes(state) ? state.toLowerCase() : 'unknown');
  }

  // Last path segment, decoded ("/board/imooc" -> "imooc").
  function lastSegment() {
    const parts = location.pathname.split('/').filter(Boolean);
    return parts.length ? decodeURIComponent(parts[parts.length - 1]) : '';
  }

  // A chain of timeouts (never overlapping calls): fn runs, then again `ms` later.
  function poll(fn, ms) {
    let timer = null;
    let stopped = false;
    const run = async () => {
      timer = null;
      try { await fn(); } catch (e) { console.warn('poll:', e); }
      if (!stopped) timer = setTimeout(run, ms);
    };
    run();
    return {
      now() { if (timer) { clearTimeout(timer); run(); } },
      stop() { stopped = true; if (timer) clearTimeout(timer); },
    };
  }

  // --- live streams (Server-Sent Events) ---------------------------------------------
  //
  // stream(path, handlers) opens `new EventSource(path)` and calls
  //   handlers.open(), handlers.error(readyState) (EventSource.CLOSED = 2: it gave up),
  //   handlers.events[name](data) for each event `name` ('message' = unnamed events).
  // Returns {close()}.
  //
  // The EventSource runs in a small dedicated worker when the browser allows: a stream
  // that never ends, opened from the page itself, holds headless Chromium's virtual time
  // still (`--virtual-time-budget` waits for every pending fetch of the page), so a
  // screenshot or --dump-dom of a live page would never come. Opened in a worker it does
  // not; the page behaves the same. Without workers it is opened in the page.
  const WORKER_SRC = [
    'var es = null;',
    'onmessage = function (m) {',
    '  var d = m.data;',
    '  if (d.cmd === "open") {',
    '    es = new EventSource(d.url);',
    '    es.onopen = function () { postMessage({ t: "open" }); };',
    '    es.onerror = function () { postMessage({ t: "error", rs: es.readyState }); };',
    '    d.names.forEach(function (n) {',
    '      es.addEventListener(n, function (e) { postMessage({ t: "event", name: n, data: e.data }); });',
    '    });',
    '  } else if (d.cmd === "close" && es) { es.close(); es = null; }',
    '};',
  ].join('\n');
  let workerUrl = null;

  function stream(path, handlers) {
    const events = handlers.events || {};
    const names = Object.keys(events);
    const onOpen = () => { if (handlers.open) handlers.open(); };
    const onError = (rs) => { if (handlers.error) handlers.error(rs); };
    const onEvent = (name, data) => { if (events[name]) events[name](data); };
    const url = new URL(path, location.href).href;
    let worker = null;
    try {
      if (typeof Worker === 'function' && typeof Blob === 'function' && window.URL && URL.createObjectURL) {
        if (!workerUrl) workerUrl = URL.createObjectURL(new Blob([WORKER_SRC], { type: 'text/javascript' }));
        worker = new Worker(workerUrl);
      }
    } catch (e) {
      worker = null;
    }
    if (worker) {
      let closed = false;
      worker.onmessage = (m) => {
        if (closed) return;
        const d = m.data || {};
        if (d.t === 'open') onOpen();
        else if (d.t === 'error') onError(d.rs);
        else if (d.t === 'event') onEvent(d.name, d.data);
      };
      worker.onerror = (e) => {
        // The worker itself failed: say the stream is closed, so the page retries.
        if (e && e.preventDefault) e.preventDefault();
        if (!closed) onError(2);
      };
      worker.postMessage({ cmd: 'open', url, names });
      return {
        close() {
          closed = true;
          try { worker.postMessage({ cmd: 'close' }); } catch (_) { /* gone */ }
          worker.terminate();
        },
      };
    }
    const es = new EventSource(url);
    es.onopen = onOpen;
    es.onerror = () => onError(es.readyState);
    for (const n of names) es.addEventListener(n, (e) => onEvent(n, e.data));
    return { close() { es.close(); } };
  }

  window.Sluice = {
    api, ApiError, getToken, setToken, onToken: (f) => tokenListeners.push(f), stream,
    showError, fmtNum, fmtRate, fmtBytes, fmtDuration, fmtAge, fmtTime,
    el, setText, stateBadge, lastSegment, poll, STATES,
  };
})();
