// Sluice job console: GET /api/v1/jobs every 2 s, GET /api/v1/info every 5 s.
'use strict';

(function () {
  const S = window.Sluice;
  const tbody = document.querySelector('[data-testid="jobs"] tbody');
  const infoEl = document.getElementById('info');
  const subEl = document.getElementById('jobs-sub');
  const connEl = document.getElementById('conn');
  const errorEl = document.querySelector('[data-testid="error"]');
  const rows = new Map(); // job id -> {tr, cells}

  const COLS = ['name', 'state', 'mode', 'in', 'out', 'records', 'watermark', 'kafka', 'checkpoint', 'restarts', 'error'];
  const NUMERIC = new Set(['in', 'out', 'records', 'kafka', 'restarts']);

  function setConn(state, text) {
    connEl.className = 'conn ' + state;
    S.setText(connEl, text);
  }

  function makeRow(job) {
    const tr = S.el('tr', { 'data-job-id': job.id });
    const cells = {};
    for (const c of COLS) {
      const td = S.el('td', { class: NUMERIC.has(c) ? 'num' : null });
      if (c === 'state') td.setAttribute('data-testid', 'job-state');
      if (c === 'error') td.className = 'err';
      cells[c] = td;
      tr.appendChild(td);
    }
    const link = S.el('a', { href: '/jobs/' + encodeURIComponent(job.id) });
    cells.name.appendChild(link);
    cells.name.appendChild(S.el('div', { class: 'sub mono' }));
    cells.state.appendChild(S.el('span', { class: 'badge' }));
    cells.error.appendChild(S.el('div', { class: 'err-text' }));
    return { tr, cells, link };
  }

  function watermarkCell(td, job) {
    td.textContent = '';
    if (!job.watermark) { td.appendChild(S.el('span', { class: 'muted', text: '—' })); return; }
    td.appendChild(document.createTextNode(S.fmtTime(job.watermark)));
    if (job.watermark_lag_ms !== null && job.watermark_lag_ms !== undefined) {
      td.appendChild(S.el('div', { class: 'sub', text: 'lag ' + S.fmtDuration(job.watermark_lag_ms) }));
    }
  }

  function checkpointCell(td, job) {
    const cp = job.last_checkpoint;
    td.textContent = '';
    if (!cp) {
      td.appendChild(S.el('span', { class: 'muted', text: job.checkpoints ? job.checkpoints + ' taken' : '—' }));
      td.removeAttribute('title');
      return;
    }
    td.appendChild(document.createTextNode('#' + cp.id + ' · ' + S.fmtAge(cp.at)));
    const extra = [];
    if (cp.duration_ms !== null && cp.duration_ms !== undefined) extra.push(S.fmtDuration(cp.duration_ms));
    if (cp.bytes !== null && cp.bytes !== undefined) extra.push(S.fmtBytes(cp.bytes));
    if (job.checkpoints !== undefined) extra.push(job.checkpoints + ' total');
    if (extra.length) td.appendChild(S.el('div', { class: 'sub', text: extra.join(' · ') }));
    td.title = 'checkpoint ' + cp.id + ' at ' + cp.at;
  }

  function fillRow(r, job) {
    const c = r.cells;
    S.setText(r.link, job.name || job.id);
    r.link.href = '/jobs/' + encodeURIComponent(job.id);
    S.setText(c.name.lastChild, job.id);
    S.stateBadge(c.state.firstChild, job.state || '');
    r.tr.setAttribute('data-state', job.state || '');
    S.setText(c.mode, job.mode || '—');
    const rate = job.rate || null;
    S.setText(c.in, rate ? S.fmtRate(rate.records_in_per_s) : '—');
    S.setText(c.out, rate ? S.fmtRate(rate.records_out_per_s) : '—');
    S.setText(c.records, S.fmtNum(job.records_in) + ' / ' + S.fmtNum(job.records_out));
    const extra = [];
    if (job.rows_rejected) extra.push(job.rows_rejected + ' rejected');
    if (job.late_rows) extra.push(job.late_rows + ' late');
    c.records.title = extra.join(', ');
    watermarkCell(c.watermark, job);
    S.setText(c.kafka, job.kafka_lag === null || job.kafka_lag === undefined ? '—' : S.fmtNum(job.kafka_lag));
    checkpointCell(c.checkpoint, job);
    S.setText(c.restarts, S.fmtNum(job.restarts || 0));
    const err = job.last_error ? String(job.last_error) : '';
    S.setText(c.error.firstChild, err.length > 80 ? err.slice(0, 79) + '…' : err);
    if (err) c.error.title = err; else c.error.removeAttribute('title');
  }

  function render(jobs) {
    const seen = new Set();
    let prev = null;
    for (const job of jobs) {
      if (!job || !job.id) continue;
      seen.add(job.id);
      let r = rows.get(job.id);
      if (!r) { r = makeRow(job); rows.set(job.id, r); }
      fillRow(r, job);
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== r.tr) tbody.insertBefore(r.tr, want);
      prev = r.tr;
    }
    for (const [id, r] of rows) {
      if (!seen.has(id)) { r.tr.remove(); rows.delete(id); }
    }
    let empty = tbody.querySelector('.empty-row');
    if (!jobs.length && !empty) {
      empty = S.el('tr', { class: 'empty-row' }, S.el('td', { colspan: COLS.length, text: 'no jobs yet: submit one with `sluice submit`' }));
      tbody.appendChild(empty);
    } else if (jobs.length && empty) {
      empty.remove();
    }
    const running = jobs.filter((j) => j.state === 'RUNNING').length;
    S.setText(subEl, jobs.length + ' job' + (jobs.length === 1 ? '' : 's') + ', ' + running + ' running');
  }

  function renderInfo(info) {
    infoEl.textContent = '';
    const parts = [
      ['version', info.version],
      ['profile', info.profile],
      ['catalog', info.catalog],
      ['uptime', info.uptime_s !== undefined && info.uptime_s !== null ? S.fmtDuration(info.uptime_s * 1000) : null],
      ['jobs', info.jobs],
    ];
    let first = true;
    for (const [k, v] of parts) {
      if (v === undefined || v === null) continue;
      if (!first) infoEl.appendChild(document.createTextNode('  ·  '));
      first = false;
      infoEl.appendChild(document.createTextNode(k + ' '));
      infoEl.appendChild(S.el('b', { 'data-info': k, text: String(v) }));
    }
  }

  S.poll(async () => {
    try {
      const jobs = await S.api('/api/v1/jobs');
      render(Array.isArray(jobs) ? jobs : []);
      S.showError(null, errorEl);
      setConn('live', 'live');
    } catch (e) {
      S.showError(e, errorEl);
      setConn('offline', 'offline');
    }
  }, 2000);

  S.poll(async () => {
    try { renderInfo(await S.api('/api/v1/info')); } catch (e) { /* the jobs poll shows errors */ }
  }, 5000);
})();
