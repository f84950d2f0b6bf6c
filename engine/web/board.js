// Sluice board page: GET /api/v1/boards/{name} for the first snapshot, then the SSE
// stream /api/v1/boards/{name}/events, whose `snapshot` events each carry a full
// snapshot. Charts are created once per panel and updated with setOption.
'use strict';

(function () {
  const S = window.Sluice;
  const boardName = S.lastSegment();
  const apiBase = '/api/v1/boards/' + encodeURIComponent(boardName);

  const boardEl = document.getElementById('board');
  const titleEl = document.getElementById('title');
  const updatedEl = document.getElementById('updated-at');
  const connEl = document.getElementById('conn');
  const errorEl = document.querySelector('[data-testid="error"]');

  const PALETTE = ['#4f9cf9', '#3ecf8e', '#f5b942', '#f26d6d', '#a78bfa', '#36cfc9', '#ff9f7f', '#9fe080'];
  const TEXT = '#c9d1de';
  const MUTED = '#8c97ab';
  const AXIS = '#33405a';
  const SPLIT = '#222c40';
  const FONT = '"Noto Sans CJK SC", "Noto Sans SC", sans-serif';

  const BASE = {
    backgroundColor: 'transparent',
    color: PALETTE,
    useUTC: true,
    textStyle: { color: TEXT, fontFamily: FONT },
    animationDurationUpdate: 400,
  };
  const TOOLTIP = {
    backgroundColor: 'rgba(14, 19, 29, .94)',
    borderColor: AXIS,
    textStyle: { color: '#e5e9f0', fontFamily: FONT, fontSize: 12.5 },
    confine: true,
  };

  function setConn(state, text) {
    connEl.className = 'conn ' + state;
    S.setText(connEl, text || state);
  }

  // --- the map -------------------------------------------------------------------------
  // Registered once; map panels wait for it.
  let mapPromise = null;
  function chinaMap() {
    if (!mapPromise) {
      mapPromise = S.api('/assets/china.json').then((geo) => {
        echarts.registerMap('china', geo);
        return true;
      });
      mapPromise.catch(() => { mapPromise = null; });
    }
    return mapPromise;
  }

  // --- helpers -------------------------------------------------------------------------

  function makeChart(container) {
    const chart = echarts.init(container, null, { renderer: 'canvas' });
    if (window.ResizeObserver) {
      const ro = new ResizeObserver(() => chart.resize());
      ro.observe(container);
      chart.__ro = ro;
    }
    return chart;
  }

  function disposeChart(chart) {
    if (!chart) return;
    if (chart.__ro) chart.__ro.disconnect();
    chart.dispose();
  }

  // How column 0 reads as an x axis: 'time' when every value is an RFC 3339 time,
  // 'value' when every value is a number, else 'category'.
  function xKind(rows) {
    if (!rows.length) return 'time';
    if (rows.every((r) => typeof r[0] === 'number')) return 'value';
    if (rows.every((r) => typeof r[0] === 'string' && !Number.isNaN(Date.parse(r[0])))) return 'time';
    return 'category';
  }

  function xValue(kind, v) {
    return kind === 'time' ? Date.parse(v) : v;
  }

  // Rows sorted by column 0 ascending (stable), for time or numeric x; categories keep order.
  function sortedByX(rows) {
    const kind = xKind(rows);
    if (kind === 'category') return { kind, rows: rows.slice() };
    const keyed = rows.map((r, i) => [xValue(kind, r[0]), i, r]);
    keyed.sort((a, b) => (a[0] - b[0]) || (a[1] - b[1]));
    return { kind, rows: keyed.map((k) => k[2]) };
  }

  function num(v) {
    if (v === null || v === undefined) return null;
    if (typeof v === 'number') return v;
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }

  function valueText(v) {
    return v === null || v === undefined ? '' : (typeof v === 'object' ? JSON.stringify(v) : String(v));
  }

  function attrName(col) {
    const base = String(col || 'key').toLowerCase().replace(/_/g, '-').replace(/[^a-z0-9-]/g, '-');
    return 'data-' + (base || 'key');
  }

  // --- panel kinds ---------------------------------------------------------------------
  // Each kind builds its body once (`build(panelObj)`) and redraws with `update(panelObj, p, rows)`.

  const KINDS = {};

  KINDS.line = {
    build(P) {
      P.chartEl = S.el('div', { class: 'chart', 'data-testid': P.id, 'data-points': '0' });
      P.body.appendChild(P.chartEl);
      P.chart = makeChart(P.chartEl);
      P.chart.setOption(Object.assign({}, BASE, {
        grid: { left: 56, right: 24, top: 34, bottom: 28 },
        legend: { top: 0, right: 8, textStyle: { color: TEXT }, icon: 'roundRect', itemWidth: 14, itemHeight: 8 },
        tooltip: Object.assign({ trigger: 'axis', axisPointer: { type: 'line', lineStyle: { color: MUTED } } }, TOOLTIP),
        xAxis: {
          type: 'time',
          axisLine: { lineStyle: { color: AXIS } },
          axisLabel: { color: MUTED, hideOverlap: true },
          splitLine: { show: false },
        },
        yAxis: {
          type: 'value',
          axisLabel: { color: MUTED },
          splitLine: { lineStyle: { color: SPLIT } },
        },
        series: [],
      }));
    },
    update(P, p, rows) {
      const { kind, rows: sorted } = sortedByX(rows);
      const cols = p.columns || [];
      const series = [];
      for (let c = 1; c < Math.max(cols.length, 2); c++) {
        const name = cols[c] !== undefined ? String(cols[c]) : 'value';
        series.push({
          id: 'col' + c + ':' + name, // matched on update: animated, not drawn anew
          name,
          type: 'line',
          showSymbol: sorted.length <= 2,
          symbolSize: 5,
          smooth: false,
          lineStyle: { width: 2 },
          areaStyle: c === 1 ? { opacity: 0.08 } : undefined,
          emphasis: { focus: 'series' },
          data: sorted.map((r) => [xValue(kind, r[0]), num(r[c])]),
        });
      }
      P.chart.setOption({
        xAxis: { type: kind, data: kind === 'category' ? sorted.map((r) => valueText(r[0])) : undefined },
        legend: { data: series.map((s) => s.name) },
        series,
      }, { replaceMerge: ['series'] });
      P.chartEl.setAttribute('data-points', String(rows.length));
      P.setSub(rows.length + (rows.length === 1 ? ' point' : ' points'));
    },
  };

  KINDS.bar = {
    build(P) {
      const wrap = S.el('div', { class: 'body-inner bar-body', style: 'position:absolute;inset:0' });
      const chartBox = S.el('div', { class: 'bar-chart' });
      P.chartEl = S.el('div', { class: 'chart' });
      chartBox.appendChild(P.chartEl);
      P.rankHead = S.el('div', { class: 'rank-head' }, S.el('span', { text: 'key' }), S.el('span', { text: 'value' }));
      P.list = S.el('ol', { class: 'rank', 'data-testid': P.id });
      const rankWrap = S.el('div', { class: 'rank-wrap' }, P.rankHead, P.list);
      wrap.appendChild(chartBox);
      wrap.appendChild(rankWrap);
      P.body.appendChild(wrap);
      P.chart = makeChart(P.chartEl);
      P.chart.setOption(Object.assign({}, BASE, {
        grid: { left: 8, right: 44, top: 6, bottom: 6, containLabel: true },
        tooltip: Object.assign({ trigger: 'axis', axisPointer: { type: 'shadow' } }, TOOLTIP),
        xAxis: { type: 'value', show: false },
        yAxis: {
          type: 'category',
          inverse: true,
          data: [],
          axisLine: { lineStyle: { color: AXIS } },
          axisTick: { show: false },
          axisLabel: { color: TEXT, width: 90, overflow: 'truncate', fontSize: 12 },
        },
        series: [{
          type: 'bar',
          barMaxWidth: 22,
          itemStyle: { borderRadius: [0, 4, 4, 0] },
          label: { show: true, position: 'right', color: TEXT, fontSize: 12 },
          data: [],
        }],
      }));
    },
    update(P, p, rows) {
      const cols = p.columns || [];
      const keyCol = cols[0] !== undefined ? String(cols[0]) : 'key';
      const valCol = cols[1] !== undefined ? String(cols[1]) : 'value';
      const attr = attrName(keyCol);
      S.setText(P.rankHead.firstChild, keyCol);
      S.setText(P.rankHead.lastChild, valCol);
      const keys = rows.map((r) => valueText(r[0]));
      const n = rows.length;
      P.chart.setOption({
        yAxis: { data: keys },
        series: [{
          data: rows.map((r, i) => ({
            value: num(r[1]),
            itemStyle: { color: i === 0 ? '#f5b942' : i < 3 ? '#4f9cf9' : '#3b6fb6' },
          })),
          barCategoryGap: n > 12 ? '25%' : '35%',
        }],
      });
      // The ranked list: one <li> per row, key in data-{col0}, text = the value only.
      const items = P.list.children;
      while (items.length > n) P.list.removeChild(P.list.lastChild);
      for (let i = 0; i < n; i++) {
        let li = items[i];
        if (!li) { li = document.createElement('li'); P.list.appendChild(li); }
        if (li.__attr && li.__attr !== attr) li.removeAttribute(li.__attr);
        li.__attr = attr;
        li.setAttribute(attr, keys[i]);
        li.setAttribute('data-key', keys[i]);
        li.title = keyCol + ' ' + keys[i] + ': ' + valueText(rows[i][1]);
        S.setText(li, valueText(rows[i][1]));
      }
      P.setSub(n ? 'top ' + n : '');
    },
  };

  KINDS.number = {
    build(P) {
      const wrap = S.el('div', { class: 'body-inner number-body', style: 'position:absolute;inset:0' });
      P.big = S.el('div', { class: 'big-number', 'data-testid': P.id });
      P.meta = S.el('div', { class: 'number-meta' });
      const spark = S.el('div', { class: 'sparkline' });
      P.chartEl = S.el('div', { class: 'chart' });
      spark.appendChild(P.chartEl);
      wrap.appendChild(P.big);
      wrap.appendChild(P.meta);
      wrap.appendChild(spark);
      P.body.appendChild(wrap);
      P.chart = makeChart(P.chartEl);
      P.chart.setOption(Object.assign({}, BASE, {
        grid: { left: 2, right: 2, top: 8, bottom: 2 },
        tooltip: Object.assign({ trigger: 'axis', axisPointer: { type: 'line', lineStyle: { color: MUTED } } }, TOOLTIP),
        xAxis: { type: 'time', show: false },
        yAxis: { type: 'value', show: false, scale: true },
        series: [{
          type: 'line',
          name: 'value',
          showSymbol: false,
          smooth: false,
          lineStyle: { width: 1.6, color: '#3ecf8e' },
          itemStyle: { color: '#3ecf8e' },
          areaStyle: {
            color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [
              { offset: 0, color: 'rgba(62, 207, 142, .35)' },
              { offset: 1, color: 'rgba(62, 207, 142, 0)' },
            ]),
          },
          data: [],
        }],
      }));
    },
    update(P, p, rows) {
      const { kind, rows: sorted } = sortedByX(rows);
      const cols = p.columns || [];
      const last = sorted.length ? sorted[sorted.length - 1] : null;
      S.setText(P.big, last ? valueText(last[1]) : '');
      P.big.title = last ? valueText(last[1]) : '';
      // Which row the number is (its time as the server sent it), so a reader can tell a
      // new window from an old one with the same count.
      P.big.setAttribute('data-latest', last ? valueText(last[0]) : '');
      // "as of <time>", and the change against the row before.
      P.meta.textContent = '';
      if (last) {
        P.meta.appendChild(document.createTextNode(
          (cols[1] !== undefined ? cols[1] + ' · ' : '') + 'as of ' + (kind === 'time' ? S.fmtTime(last[0]) : valueText(last[0]))));
        const prev = sorted.length > 1 ? num(sorted[sorted.length - 2][1]) : null;
        const cur = num(last[1]);
        if (prev !== null && cur !== null) {
          const d = cur - prev;
          const span = S.el('span', { class: d > 0 ? 'delta-up' : d < 0 ? 'delta-down' : '' },
            '  ' + (d > 0 ? '▲ +' : d < 0 ? '▼ ' : '± ') + S.fmtNum(d, Number.isInteger(d) ? 0 : 2));
          P.meta.appendChild(span);
        }
      }
      P.chart.setOption({
        xAxis: { type: kind, data: kind === 'category' ? sorted.map((r) => valueText(r[0])) : undefined },
        series: [{ name: cols[1] !== undefined ? String(cols[1]) : 'value', data: sorted.map((r) => [xValue(kind, r[0]), num(r[1])]) }],
      });
      P.setSub(rows.length > 1 ? rows.length + ' points' : '');
    },
  };

  KINDS.map = {
    build(P) {
      P.chartEl = S.el('div', { class: 'chart', 'data-testid': P.id, 'data-provinces': '0' });
      P.body.appendChild(P.chartEl);
      P.chart = makeChart(P.chartEl);
      P.ready = false;
      P.pending = null;
      chinaMap().then(() => {
        P.chart.setOption(Object.assign({}, BASE, {
          tooltip: Object.assign({
            trigger: 'item',
            formatter: (it) => {
              const v = it.value;
              const shown = v === undefined || v === null || Number.isNaN(v) ? 'no data' : S.fmtNum(v);
              return '<b>' + echarts.format.encodeHTML(it.name) + '</b><br>' +
                echarts.format.encodeHTML(P.valueName || 'value') + ': ' + shown;
            },
          }, TOOLTIP),
          visualMap: {
            type: 'continuous',
            min: 0,
            max: 1,
            left: 4,
            bottom: 6,
            itemWidth: 12,
            itemHeight: 110,
            calculable: false,
            text: ['', '0'],
            textStyle: { color: MUTED, fontSize: 11 },
            inRange: { color: ['#1e3a5f', '#2f6cb5', '#39a0d8', '#5fd0c0', '#f2c14e', '#f07a4a'] },
          },
          series: [{
            type: 'map',
            map: 'china',
            roam: false,
            top: 8,
            bottom: 8,
            left: 'center',
            selectedMode: false,
            label: {
              show: false,
              color: '#f2f5fa',
              fontSize: 11,
              fontFamily: FONT,
              textBorderColor: 'rgba(8, 12, 20, .85)',
              textBorderWidth: 2,
            },
            labelLayout: { hideOverlap: true },
            itemStyle: { areaColor: '#1a2233', borderColor: '#3e4c6b', borderWidth: 0.8 },
            emphasis: {
              label: { show: true, color: '#fff', fontSize: 12 },
              itemStyle: { areaColor: '#6c5ce7', borderColor: '#fff', borderWidth: 1 },
            },
            data: [],
          }],
        }));
        P.ready = true;
        if (P.pending) { const a = P.pending; P.pending = null; KINDS.map.update(P, a[0], a[1]); }
      }).catch((e) => {
        P.setError('cannot load the map: ' + (e.error || e.message || e));
      });
    },
    update(P, p, rows) {
      const cols = p.columns || [];
      P.valueName = cols[1] !== undefined ? String(cols[1]) : 'value';
      const withData = rows.filter((r) => { const v = num(r[1]); return v !== null && v > 0; });
      P.chartEl.setAttribute('data-provinces', String(withData.length));
      P.setSub(withData.length + (withData.length === 1 ? ' province' : ' provinces'));
      if (!P.ready) { P.pending = [p, rows]; return; }
      let max = 0;
      for (const r of rows) { const v = num(r[1]); if (v !== null && v > max) max = v; }
      P.chart.setOption({
        visualMap: { min: 0, max: max > 0 ? max : 1, range: [0, max > 0 ? max : 1], text: [max > 0 ? S.fmtNum(max) : '', '0'] },
        series: [{
          name: P.valueName,
          data: rows.map((r) => {
            const v = num(r[1]);
            return { name: valueText(r[0]), value: v === null ? NaN : v, label: { show: v !== null && v > 0 } };
          }),
        }],
      });
    },
  };

  KINDS.table = {
    build(P) {
      P.table = S.el('table', { class: 'grid', 'data-testid': P.id, 'data-rows': '0' });
      P.body.appendChild(P.table);
    },
    update(P, p, rows) {
      const cols = p.columns || [];
      const isNum = cols.map((_, c) => rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === 'number'));
      const thead = S.el('thead', null, S.el('tr', null, ...cols.map((c, i) => S.el('th', { class: isNum[i] ? 'num' : null, text: String(c) }))));
      const tbody = S.el('tbody');
      for (const r of rows) {
        const tr = S.el('tr');
        for (let c = 0; c < cols.length; c++) {
          const v = r[c];
          const cls = [isNum[c] ? 'num' : '', v === null || v === undefined ? 'null' : ''].join(' ').trim();
          tr.appendChild(S.el('td', { class: cls || null, text: valueText(v) }));
        }
        tbody.appendChild(tr);
      }
      P.table.replaceChildren(thead, tbody);
      P.table.setAttribute('data-rows', String(rows.length));
      P.setSub(rows.length + (rows.length === 1 ? ' row' : ' rows'));
    },
  };

  // --- panels ----------------------------------------------------------------------------

  const panels = new Map(); // id -> panel object

  function kindOf(p) {
    return Object.prototype.hasOwnProperty.call(KINDS, p.kind) ? p.kind : 'table';
  }

  function createPanel(p) {
    const kind = kindOf(p);
    const root = S.el('section', { class: 'panel kind-' + kind, 'data-panel': p.id, 'data-kind': p.kind || '' });
    const titleSpan = S.el('span', { class: 'title' });
    const subSpan = S.el('span', { class: 'sub' });
    root.appendChild(S.el('h2', null, titleSpan, subSpan));
    const body = S.el('div', { class: 'body' });
    const empty = S.el('div', { class: 'empty', text: 'no data yet' });
    const err = S.el('div', { class: 'panel-error', 'data-testid': p.id + '-error', hidden: true });
    root.appendChild(body);
    root.appendChild(err);
    // In the document before the charts are made: ECharts measures its container.
    boardEl.appendChild(root);
    const P = {
      id: p.id, kind, root, body, titleSpan, lastRows: null,
      setSub(t) { S.setText(subSpan, t); },
      setError(t) { err.hidden = !t; S.setText(err, t || ''); },
      setEmpty(on) {
        if (on && !empty.parentNode) body.appendChild(empty);
        if (!on && empty.parentNode) empty.remove();
      },
    };
    KINDS[kind].build(P);
    return P;
  }

  function disposePanel(P) {
    disposeChart(P.chart);
    P.root.remove();
  }

  function updatePanel(P, p) {
    S.setText(P.titleSpan, p.title || p.id);
    P.titleSpan.title = p.title || p.id;
    const error = p.error === null || p.error === undefined ? '' : String(p.error);
    P.setError(error);
    let rows = Array.isArray(p.rows) ? p.rows : [];
    // A failed query keeps the last data drawn.
    if (error && rows.length === 0 && P.lastRows) return;
    P.lastRows = rows.length ? rows : P.lastRows;
    P.setEmpty(rows.length === 0 && !error);
    try {
      KINDS[P.kind].update(P, p, rows);
    } catch (e) {
      console.error('panel ' + P.id + ':', e);
      P.setError('cannot draw this panel: ' + (e && e.message ? e.message : e));
    }
  }

  function render(snap) {
    if (!snap || typeof snap !== 'object') return;
    const title = snap.title || snap.name || boardName;
    S.setText(titleEl, title);
    if (document.title !== title) document.title = title;
    S.setText(updatedEl, snap.updated_at || '');
    updatedEl.title = snap.updated_at ? 'local time: ' + new Date(snap.updated_at).toLocaleString() : '';

    const list = Array.isArray(snap.panels) ? snap.panels : [];
    const seen = new Set();
    let prevNode = null;
    for (const p of list) {
      if (!p || p.id === undefined || p.id === null) continue;
      p.id = String(p.id);
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      let P = panels.get(p.id);
      if (P && P.kind !== kindOf(p)) { disposePanel(P); panels.delete(p.id); P = null; }
      if (!P) { P = createPanel(p); panels.set(p.id, P); }
      // Keep the DOM in the snapshot's order (move only when needed).
      const want = prevNode ? prevNode.nextSibling : boardEl.firstChild;
      if (want !== P.root) boardEl.insertBefore(P.root, want);
      prevNode = P.root;
      updatePanel(P, p);
    }
    for (const [id, P] of panels) {
      if (!seen.has(id)) { disposePanel(P); panels.delete(id); }
    }
  }

  // --- loading and the live stream -----------------------------------------------------

  let es = null;
  let starting = false;
  let retryTimer = null;

  async function loadSnapshot() {
    try {
      const snap = await S.api(apiBase);
      S.showError(null, errorEl);
      render(snap);
      return true;
    } catch (e) {
      S.showError(e, errorEl);
      setConn('offline', e.status === 404 ? 'no such board' : 'offline');
      return false;
    }
  }

  function openStream() {
    if (es) es.close();
    setConn('connecting', 'connecting');
    const onSnapshot = (data) => {
      if (es !== src) return;
      let snap;
      try { snap = JSON.parse(data); } catch (e) { console.warn('bad snapshot event', e); return; }
      if (!snap || !Array.isArray(snap.panels)) return;
      setConn('live', 'live');
      S.showError(null, errorEl);
      render(snap);
    };
    const src = S.stream(apiBase + '/events', {
      open() { if (es === src) setConn('live', 'live'); },
      error(readyState) {
        if (es !== src) return;
        setConn('reconnecting', 'reconnecting');
        if (readyState === 2 /* EventSource.CLOSED */) {
          // The stream was refused (401, 404, 5xx): EventSource gives up. Fetch the
          // snapshot again (which asks for a token on 401), then reopen.
          src.close();
          es = null;
          scheduleStart(3000);
        }
      },
      // `snapshot` events; unnamed ones carrying a snapshot are taken too.
      events: { snapshot: onSnapshot, message: onSnapshot },
    });
    es = src;
  }

  function scheduleStart(ms) {
    if (retryTimer) return;
    retryTimer = setTimeout(() => { retryTimer = null; start(); }, ms);
  }

  async function start() {
    if (starting) return;
    starting = true;
    try {
      const ok = await loadSnapshot();
      if (ok) openStream();
      else scheduleStart(5000);
    } finally {
      starting = false;
    }
  }

  if (!boardName) {
    S.showError({ error: 'no board name in the address', hint: 'open /board/{name}' }, errorEl);
    setConn('offline', 'offline');
    return;
  }
  S.setText(titleEl, boardName);
  chinaMap().catch(() => { /* shown in the map panel */ });
  start();
})();
