// Sluice job page: GET /api/v1/jobs/{id} every 2 s, its checkpoints every 5 s, its log
// live over SSE; Stop and Restart buttons.
'use strict';

(function () {
  const S = window.Sluice;
  const jobId = S.lastSegment();
  const base = '/api/v1/jobs/' + encodeURIComponent(jobId);
  const $ = (id) => document.getElementById(id);

  const errorEl = document.querySelector('[data-testid="error"]');
  const connEl = $('conn');
  const stateEl = $('job-state');
  const stopBtn = $('stop');
  const restartBtn = $('restart');
  const stopResult = $('stop-result');
  const restartResult = $('restart-result');
  const logEl = $('log');
  const logState = $('log-state');

  const TERMINAL = new Set(['STOPPED', 'FAILED', 'FINISHED']);
  const STOPPABLE = new Set(['RUNNING', 'RESTARTING']);
  const MAX_LOG_LINES = 500;

  let state = null;      // the job's state as last seen
  let busy = false;      // a Stop or Restart request is under way
  let logSource = null;  // the log's EventSource, while open
  let logRetry = null;

  function setConn(cls, text) {
    connEl.className = 'conn ' + cls;
    S.setText(connEl, text);
  }

  function updateButtons() {
    stopBtn.disabled = busy || !STOPPABLE.has(state);
    restartBtn.disabled = busy || !TERMINAL.has(state);
  }

  // --- facts -------------------------------------------------------------------------

  function renderFacts(job) {
    const facts = [
      ['records in', S.fmtNum(job.records_in)],
      ['records out', S.fmtNum(job.records_out)],
      ['rows rejected', S.fmtNum(job.rows_rejected)],
      ['late rows', S.fmtNum(job.late_rows)],
      ['watermark', job.watermark ? S.fmtTime(job.watermark) : '—', job.watermark || ''],
      ['watermark lag', S.fmtDuration(job.watermark_lag_ms)],
      ['kafka lag', job.kafka_lag === null || job.kafka_lag === undefined ? '—' : S.fmtNum(job.kafka_lag)],
      ['checkpoints', S.fmtNum(job.checkpoints)],
      ['last checkpoint', job.last_checkpoint
        ? '#' + job.last_checkpoint.id + ' · ' + S.fmtAge(job.last_checkpoint.at) : '—',
      job.last_checkpoint ? job.last_checkpoint.at : ''],
      ['restarts', S.fmtNum(job.restarts || 0)],
      ['submitted', S.fmtTime(job.submitted_at), job.submitted_at || ''],
      ['started', job.started_at ? S.fmtTime(job.started_at) : '—', job.started_at || ''],
      ['profile', job.profile || '—'],
    ];
    const dl = $('facts');
    if (dl.children.length !== facts.length) {
      dl.textContent = '';
      for (const [k] of facts) {
        dl.appendChild(S.el('div', null, S.el('dt', { text: k }), S.el('dd', { 'data-fact': k.replace(/ /g, '-') })));
      }
    }
    facts.forEach(([, v, title], i) => {
      const dd = dl.children[i].lastChild;
      S.setText(dd, v);
      dd.title = title || v;
    });
  }

  // --- rates chart ---------------------------------------------------------------------

  let ratesChart = null;
  const axisRate = (v) => (Math.abs(v) >= 1e4 ? S.fmtRate(v) : String(+v.toFixed(2)));
  function renderRates(rates) {
    const box = $('rates-chart');
    if (!ratesChart) {
      ratesChart = echarts.init(box, null, { renderer: 'canvas' });
      if (window.ResizeObserver) new ResizeObserver(() => ratesChart.resize()).observe(box);
      ratesChart.setOption({
        backgroundColor: 'transparent',
        color: ['#4f9cf9', '#3ecf8e'],
        useUTC: true,
        textStyle: { color: '#c9d1de', fontFamily: '"Noto Sans CJK SC", sans-serif' },
        grid: { left: 56, right: 50, top: 30, bottom: 26 },
        legend: { top: 0, right: 6, textStyle: { color: '#c9d1de' } },
        tooltip: {
          trigger: 'axis', confine: true,
          backgroundColor: 'rgba(14, 19, 29, .94)', borderColor: '#33405a',
          textStyle: { color: '#e5e9f0' },
          valueFormatter: (v) => (v === null || v === undefined ? '—' : S.fmtRate(v) + '/s'),
        },
        xAxis: {
          type: 'time',
          axisLine: { lineStyle: { color: '#33405a' } },
          axisLabel: { color: '#8c97ab', hideOverlap: true },
          splitLine: { show: false },
        },
        // in/s on the left axis, out/s (often far smaller) on the right one.
        yAxis: [{
          type: 'value',
          axisLabel: { color: '#4f9cf9', formatter: axisRate },
          splitLine: { lineStyle: { color: '#222c40' } },
        }, {
          type: 'value',
          axisLabel: { color: '#3ecf8e', formatter: axisRate },
          splitLine: { show: false },
        }],
        series: [
          { name: 'in/s', type: 'line', yAxisIndex: 0, showSymbol: false, areaStyle: { opacity: 0.1 }, data: [] },
          { name: 'out/s', type: 'line', yAxisIndex: 1, showSymbol: false, data: [] },
        ],
      });
    }
    const list = (Array.isArray(rates) ? rates : []).slice().sort((a, b) => a.at_ms - b.at_ms);
    ratesChart.setOption({
      series: [
        { data: list.map((r) => [r.at_ms, r.records_in_per_s]) },
        { data: list.map((r) => [r.at_ms, r.records_out_per_s]) },
      ],
    });
    box.setAttribute('data-points', String(list.length));
    $('rates-empty').hidden = list.length > 0;
  }

  // --- operators ---------------------------------------------------------------------

  let prevOps = null; // {t, byKey: Map(key -> op)}

  function pct(v) {
    if (v === null || !Number.isFinite(v)) return '';
    return v < 0.1 && v > 0 ? '<0.1%' : v.toFixed(v < 10 ? 1 : 0) + '%';
  }

  function renderOperators(ops, t) {
    const tbody = document.querySelector('#operators tbody');
    const byKey = new Map();
    const counts = new Map();
    const dt = prevOps ? (t - prevOps.t) / 1000 : 0;
    const trs = [];
    for (const op of Array.isArray(ops) ? ops : []) {
      const k0 = (op.kind || '') + '\u0000' + (op.name || '');
      const n = (counts.get(k0) || 0) + 1;
      counts.set(k0, n);
      const key = k0 + '\u0000' + n;
      byKey.set(key, op);
      const prev = prevOps && dt > 0 ? prevOps.byKey.get(key) : null;
      let rowsPerS = null;
      if (prev && typeof op.rows === 'number' && typeof prev.rows === 'number' && op.rows >= prev.rows) {
        rowsPerS = (op.rows - prev.rows) / dt;
      }
      let blockedPct = null;
      if (prev && typeof op.blocked_s === 'number' && typeof prev.blocked_s === 'number' && op.blocked_s >= prev.blocked_s) {
        blockedPct = (op.blocked_s - prev.blocked_s) / dt * 100;
      }
      const has = (v) => v !== null && v !== undefined;
      const bp = has(op.blocked_s)
        ? S.el('span', null, op.blocked_s.toFixed(op.blocked_s < 10 ? 2 : 1) + ' s',
          blockedPct !== null ? S.el('span', {
            class: 'sub', 'data-blocked-pct': blockedPct.toFixed(2),
          }, ' · ' + pct(blockedPct)) : null)
        : '—';
      const tr = S.el('tr', { 'data-operator': op.name || '', 'data-kind': op.kind || '' },
        S.el('td', null, S.el('span', { class: 'badge state-' + (op.kind === 'source' ? 'created' : op.kind === 'sink' ? 'finished' : 'restarting'), text: op.kind || '?' })),
        S.el('td', { class: 'mono', text: op.name || '' }),
        S.el('td', { class: 'num', text: has(op.rows) ? S.fmtNum(op.rows) : '—' }),
        S.el('td', { class: 'num', 'data-rows-per-s': rowsPerS !== null ? rowsPerS.toFixed(2) : null, text: rowsPerS !== null ? S.fmtRate(rowsPerS) : '—' }),
        S.el('td', { class: 'num', text: has(op.bytes) ? S.fmtBytes(op.bytes) : '—' }),
        S.el('td', { class: 'num' }, bp),
        S.el('td', { class: 'num', title: has(op.state_bytes) ? op.state_bytes + ' bytes' : null, text: has(op.state_bytes) ? S.fmtBytes(op.state_bytes) : '—' }),
        S.el('td', { title: op.watermark || null, text: op.watermark ? S.fmtTime(op.watermark) : '—' }),
      );
      trs.push(tr);
    }
    if (!trs.length) trs.push(S.el('tr', { class: 'empty-row' }, S.el('td', { colspan: 8, text: 'no operator figures (the job is not running)' })));
    tbody.replaceChildren(...trs);
    prevOps = { t, byKey };
  }

  // --- history, settings, checkpoints ------------------------------------------------

  function renderHistory(history) {
    const ul = $('history');
    const items = (Array.isArray(history) ? history : []).slice().reverse().map((h) => {
      const badge = S.el('span', { class: 'badge' });
      S.stateBadge(badge, h.state || '');
      return S.el('li', { 'data-state': h.state || '' },
        S.el('span', { class: 'at', title: h.at || '', text: S.fmtTime(h.at) }),
        badge,
        h.reason ? S.el('span', { class: 'reason', text: h.reason }) : null);
    });
    if (!items.length) items.push(S.el('li', { class: 'muted', text: 'no transitions yet' }));
    const sig = JSON.stringify(history || []);
    if (ul.__sig !== sig) { ul.__sig = sig; ul.replaceChildren(...items); }
  }

  function renderSettings(settings) {
    const tbody = document.querySelector('#settings tbody');
    const entries = Object.entries(settings || {});
    const sig = JSON.stringify(entries);
    if (tbody.__sig === sig) return;
    tbody.__sig = sig;
    const trs = entries.map(([k, v]) => S.el('tr', { 'data-setting': k }, S.el('td', { text: k }), S.el('td', { text: String(v) })));
    if (!trs.length) trs.push(S.el('tr', { class: 'empty-row' }, S.el('td', { colspan: 2, text: 'no settings' })));
    tbody.replaceChildren(...trs);
  }

  function renderCheckpoints(list) {
    const tbody = document.querySelector('#checkpoints tbody');
    const cps = (Array.isArray(list) ? list : []).slice().sort((a, b) => b.id - a.id);
    const trs = cps.map((c) => S.el('tr', { 'data-checkpoint-id': c.id },
      S.el('td', { class: 'num', text: '#' + c.id }),
      S.el('td', { title: c.at || '' }, S.fmtTime(c.at), S.el('span', { class: 'sub', text: '  ' + S.fmtAge(c.at) })),
      S.el('td', { class: 'num', text: c.duration_ms === null || c.duration_ms === undefined ? '—' : S.fmtDuration(c.duration_ms) }),
      S.el('td', { class: 'num', title: c.bytes + ' bytes', text: S.fmtBytes(c.bytes) })));
    if (!trs.length) trs.push(S.el('tr', { class: 'empty-row' }, S.el('td', { colspan: 4, text: 'no checkpoints yet' })));
    tbody.replaceChildren(...trs);
  }

  // --- the whole job -------------------------------------------------------------------

  function render(job, t) {
    $('job-body').hidden = false;
    const name = job.name || job.id;
    S.setText($('job-name'), name);
    if (document.title !== name + ' · Sluice') document.title = name + ' · Sluice';
    S.setText($('job-id'), job.id || jobId);
    S.setText($('job-mode'), job.mode ? job.mode + ' job' : '');
    S.stateBadge(stateEl, job.state || '');
    const was = state;
    state = job.state || null;
    updateButtons();

    const lastErr = $('last-error');
    if (job.last_error) {
      lastErr.hidden = false;
      S.setText(lastErr, 'last error: ' + job.last_error);
    } else {
      lastErr.hidden = true;
    }
    renderFacts(job);
    renderRates(job.rates);
    renderHistory(job.history);
    renderOperators(job.operators, t);
    S.setText($('explain'), job.explain || '(no operator graph: the job has not been planned in this server run)');
    S.setText($('sql'), job.sql || '');
    renderSettings(job.settings);
    S.setText($('checkpoint-dir'), job.checkpoint_dir ? String(job.checkpoint_dir) : '');
    $('checkpoint-dir').title = 'checkpoint directory';

    // The log stream follows the job back when it runs again.
    if (was !== null && TERMINAL.has(was) && !TERMINAL.has(state) && !logSource) openLog();
  }

  const detailPoll = S.poll(async () => {
    try {
      const job = await S.api(base);
      render(job, performance.now());
      S.showError(null, errorEl);
      setConn('live', 'live');
      S.setText($('polled'), 'polled ' + new Date().toISOString().slice(11, 19) + 'Z');
    } catch (e) {
      S.showError(e, errorEl);
      setConn('offline', e.status === 404 ? 'no such job' : 'offline');
    }
  }, 2000);

  const checkpointPoll = S.poll(async () => {
    try { renderCheckpoints(await S.api(base + '/checkpoints')); } catch (e) { /* the detail poll shows errors */ }
  }, 5000);

  // --- actions ---------------------------------------------------------------------

  function showResult(elm, ok, text) {
    elm.className = 'action-result ' + (ok ? 'ok' : 'bad');
    elm.textContent = text;
  }

  async function act(button, path, body, resultEl, describe) {
    busy = true;
    updateButtons();
    resultEl.className = 'action-result';
    resultEl.textContent = button.textContent + '…';
    try {
      const out = await S.api(base + path, { method: 'POST', body });
      showResult(resultEl, true, describe(out || {}));
      if (out && out.state) {
        state = out.state;
        S.stateBadge(stateEl, out.state);
      }
    } catch (e) {
      showResult(resultEl, false, e.error + (e.hint ? ' (hint: ' + e.hint + ')' : ''));
    } finally {
      busy = false;
      updateButtons();
      detailPoll.now();
      checkpointPoll.now();
    }
  }

  stopBtn.addEventListener('click', () => {
    restartResult.textContent = '';
    act(stopBtn, '/stop', { mode: 'checkpoint' }, stopResult, (out) => {
      const parts = [];
      if (out.message) parts.push(out.message);
      parts.push(out.checkpoint === null || out.checkpoint === undefined
        ? 'no checkpoint' : 'checkpoint ' + out.checkpoint);
      if (out.state) parts.push('state ' + out.state);
      return parts.join(' · ');
    });
  });

  restartBtn.addEventListener('click', () => {
    stopResult.textContent = '';
    act(restartBtn, '/restart', {}, restartResult, (out) => 'restarted · state ' + (out.state || '?'));
    // A restarted job logs again.
    if (!logSource) setTimeout(openLog, 500);
  });

  // --- the log -------------------------------------------------------------------------

  function atBottom() {
    return logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 8;
  }

  function appendLog(text, notice) {
    const stick = atBottom();
    const span = document.createElement('span');
    if (notice) {
      span.className = 'notice';
    } else {
      const m = /^\S+\s+(ERROR|WARN|INFO|DEBUG|TRACE)\b/.exec(text);
      if (m) span.className = 'lvl-' + m[1].toLowerCase();
    }
    span.textContent = text + '\n';
    logEl.appendChild(span);
    while (logEl.childNodes.length > MAX_LOG_LINES) logEl.removeChild(logEl.firstChild);
    logEl.setAttribute('data-lines', String(logEl.childNodes.length));
    if (stick) logEl.scrollTop = logEl.scrollHeight;
  }

  function openLog() {
    if (logRetry) { clearTimeout(logRetry); logRetry = null; }
    if (logSource) logSource.close();
    S.setText(logState, 'connecting…');
    const src = S.stream(base + '/logs?follow=true&tail=200', {
      open() {
        if (logSource !== src) return;
        // Each connection starts with the tail again: start from it.
        logEl.textContent = '';
        logEl.setAttribute('data-lines', '0');
        S.setText(logState, 'last ' + MAX_LOG_LINES + ' lines, live');
      },
      error(readyState) {
        if (logSource !== src) return;
        if (state && TERMINAL.has(state)) {
          // The job is over: its log ends here (Restart follows it again).
          src.close();
          logSource = null;
          S.setText(logState, 'the job is ' + state + ': log ended');
          return;
        }
        if (readyState === 2 /* EventSource.CLOSED */) {
          src.close();
          logSource = null;
          S.setText(logState, 'disconnected, retrying…');
          logRetry = setTimeout(openLog, 5000);
        } else {
          S.setText(logState, 'reconnecting…');
        }
      },
      events: {
        message(data) { if (logSource === src) appendLog(data, false); },
        skipped(data) { if (logSource === src) appendLog(data, true); },
      },
    });
    logSource = src;
  }

  S.onToken(() => { if (!logSource) openLog(); });

  if (!jobId) {
    S.showError({ error: 'no job id in the address', hint: 'open /jobs/{id}' }, errorEl);
    return;
  }
  S.setText($('job-id'), jobId);
  openLog();
})();
