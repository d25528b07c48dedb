// The ops console. It reads the app's own JSON APIs, passing on the ?code= it was opened with,
// and renders every value from them as text (textContent, never markup): data may hold anything.
'use strict';

(() => {
  const STAGES = ['off', 'dual_write', 'shadow', 'live', 'rampdown', 'complete'];
  const REFRESH_MS = 5000;
  const code = new URLSearchParams(location.search).get('code');
  const pathLimit = Number(document.body.dataset.pathLimit);
  const $ = (id) => document.getElementById(id);

  // ---- helpers -------------------------------------------------------------------------------

  /** An app URL: path is relative to /api (the page is /api/console); the key goes along. */
  function appUrl(path, params) {
    const url = new URL(path, location.href);
    for (const [name, value] of params || []) {
      url.searchParams.append(name, value);
    }
    if (code) {
      url.searchParams.set('code', code);
    }
    return url;
  }

  /** An element with attributes and children; strings become text nodes, never markup. */
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (name === 'class') {
        element.className = value;
      } else {
        element.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) {
        element.append(child instanceof Node ? child : String(child));
      }
    }
    return element;
  }

  /** GET as JSON; an error answer's problem+json (or the health report's 503 body) is kept too. */
  async function getJson(url) {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch (error) {
      return { ok: false, status: 0, body: null, error: `the app did not answer (${error.message})` };
    }
    let body = null;
    if ((response.headers.get('Content-Type') || '').includes('json')) {
      try {
        body = await response.json();
      } catch {
        body = null;
      }
    }
    return { ok: response.ok, status: response.status, body, error: response.ok ? null : problemText(response.status, body) };
  }

  function problemText(status, body) {
    if (body && body.errors) {
      return Object.entries(body.errors).map(([field, messages]) => `${field}: ${[].concat(messages).join(' ')}`).join('; ');
    }
    const words = body ? [body.title, body.detail].filter(Boolean).join(': ') : '';
    if (status === 401 || status === 403) {
      return `HTTP ${status}: the function key is missing or wrong (open the console with ?code=FUNCTION_KEY)`;
    }
    return `HTTP ${status}${words ? ` (${words})` : ''}`;
  }

  const number = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 }));

  /** 2025-01-01 12:00:00 (UTC), or with milliseconds. */
  function time(iso, withMs) {
    if (!iso) {
      return '—';
    }
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toISOString().replace('T', ' ').slice(0, withMs ? 23 : 19);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) {
      return '—';
    }
    const s = Math.max(0, Math.round(seconds));
    if (s < 90) {
      return `${s} s`;
    }
    if (s < 5400) {
      return `${Math.floor(s / 60)} min ${s % 60} s`;
    }
    if (s < 172800) {
      return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    }
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }

  /** "3 min 5 s ago", kept current by tick() between refreshes. */
  function ago(iso) {
    return h('span', { class: 'ago', 'data-at': iso, title: time(iso, true) }, agoText(iso));
  }

  function agoText(iso) {
    return iso ? `${duration((Date.now() - new Date(iso).getTime()) / 1000)} ago` : '—';
  }

  function tick() {
    for (const element of document.querySelectorAll('.ago[data-at]')) {
      element.textContent = agoText(element.dataset.at);
    }
  }

  const badge = (text, kind) => h('span', { class: `badge ${kind || ''}` }, text);

  function table(headings, rows, attributes) {
    return h('table', attributes,
      h('thead', null, h('tr', null, headings.map((heading) => h('th', { scope: 'col' }, heading)))),
      h('tbody', null, rows));
  }

  function status(id, text, isError) {
    const element = $(id);
    element.textContent = text;
    element.classList.toggle('error', Boolean(isError));
  }

  /**
   * Replaces container's children by the new elements, keeping a child whose data didn't change
   * as it is, and the open or closed state of every <details> by its data-key: a refresh must not
   * collapse what the reader opened or move what they are reading.
   */
  function reconcile(container, elements) {
    const open = new Set([...container.querySelectorAll('details[data-key]')].filter((d) => d.open).map((d) => d.dataset.key));
    const current = new Map([...container.children].map((child) => [child.dataset.key, child]));
    let previous = null;
    for (const element of elements) {
      const existing = current.get(element.dataset.key);
      let node = element;
      if (existing && existing.dataset.json === element.dataset.json) {
        node = existing;
      } else {
        for (const details of element.querySelectorAll('details[data-key]')) {
          details.open = open.has(details.dataset.key);
        }
        if (existing) {
          existing.replaceWith(element);
        }
      }
      current.delete(element.dataset.key);
      const expectedPosition = previous ? previous.nextSibling : container.firstChild;
      if (expectedPosition !== node) {
        container.insertBefore(node, expectedPosition);
      }
      previous = node;
    }
    for (const stale of current.values()) {
      stale.remove();
    }
  }

  // ---- migrations ----------------------------------------------------------------------------

  function stepBar(m) {
    const at = STAGES.indexOf(m.stage);
    const partial = m.percent < 100 && at > 0;
    return h('ol', { class: 'steps', 'aria-label': 'stages' }, STAGES.map((stage, i) => {
      let state = i < at ? 'done' : i === at ? 'current' : 'todo';
      let share = null;
      if (partial && i === at) {
        share = `${m.percent} %`;
      } else if (partial && i === at - 1) {
        state = 'partial';
        share = `${100 - m.percent} %`;
      }
      return h('li', { class: state, 'data-stage': stage, 'aria-current': i === at ? 'step' : null },
        h('span', { class: 'step-name' }, stage), share && h('span', { class: 'step-share' }, share));
    }));
  }

  function backfillFacts(b) {
    if (!b) {
      return 'not a declared migration';
    }
    if (b.rows_scanned === 0 && !b.completed && b.rows_total === null) {
      return 'not started (the Backfill timer starts it at dual_write)';
    }
    if (b.completed) {
      return [badge('complete', 'ok'), ` ${number(b.rows_copied)} rows copied of ${number(b.rows_scanned)} scanned`];
    }
    const parts = [
      h('progress', { max: 100, value: b.percent ?? 0 }, `${number(b.percent)} %`),
      h('span', { 'data-field': 'backfill-rows' }, `${number(b.rows_scanned)} of ${number(b.rows_total)} rows scanned (${number(b.percent)} %), ${number(b.rows_copied)} copied`),
      h('span', { 'data-field': 'backfill-rate' }, b.rows_per_second === null ? 'rate —' : `${number(b.rows_per_second)} rows/s`),
      h('span', { 'data-field': 'backfill-eta' }, `ETA ${duration(b.eta_seconds)}`),
    ];
    if (b.last_error) {
      parts.push(h('span', { class: 'error-text', 'data-field': 'backfill-error' }, `last batch failed ${agoText(b.last_error_at)}: ${b.last_error}`));
    }
    return parts;
  }

  function parityFacts(m) {
    const p = m.parity;
    if (!p) {
      return 'no report yet (./run.sh parity ' + m.migration + ')';
    }
    const verdict = p.clean
      ? badge('clean', 'ok')
      : badge(`differences: ${number(p.missing)} missing, ${number(p.extra)} extra, ${number(p.different)} different`, p.missing + p.extra + p.different > 0 ? 'bad' : 'warn');
    const rules = (p.validation || []).filter((r) => r.violations > 0);
    const keyLists = [['missing', p.missing_keys], ['extra', p.extra_keys], ['different', p.different_keys]].filter(([, keys]) => keys && keys.length);
    return [
      h('span', { 'data-field': 'parity-verdict' }, verdict),
      h('span', null, `report #${p.id}, finished `, ago(p.finished_at), `, ${number(p.rows_compared)} rows compared in ${number(p.duration_seconds)} s`),
      rules.length > 0 && h('ul', { class: 'rules', 'data-field': 'parity-rules' },
        rules.map((r) => h('li', null, badge(r.severity, r.severity === 'error' ? 'bad' : 'warn'), ` ${r.name}: ${number(r.violations)} — ${r.description}`))),
      p.repair_error && h('span', { class: 'error-text' }, `repair could not fix it: ${p.repair_error}`),
      keyLists.length > 0 && h('details', { 'data-key': `parity-keys:${m.migration}` },
        h('summary', null, 'keys (the first of each kind)'),
        keyLists.map(([kind, keys]) => h('p', { class: 'keys', 'data-kind': kind }, h('strong', null, `${kind}: `), keys.join(', ')))),
    ];
  }

  function guardFacts(m) {
    const g = m.guard || {};
    const last = g.last_action;
    const state = !g.enabled ? badge('off (Guard__Enabled=false)', 'warn')
      : g.watching ? badge('watching', 'ok') : badge('idle: nothing to judge before dual_write', null);
    return [
      h('span', { 'data-field': 'guard-state' }, state),
      h('span', { 'data-field': 'guard-last' }, last
        ? [`last stepped back ${last.from_stage} → ${last.to_stage} `, ago(last.acted_at),
          `: ${last.rule} ${number(last.measured)} over ${number(last.threshold)} (sample ${number(last.sample)}). ${last.reason}`]
        : 'no step back yet'),
    ];
  }

  function nextStage(m) {
    if (m.next_stage === null) {
      return h('div', { class: 'next', 'data-field': 'next-stage' }, 'At the last stage: nothing to move to.');
    }
    const blocked = m.next_stage_blocked_by || [];
    const command = `./run.sh stage ${m.migration} ${m.next_stage}`;
    return h('div', { class: `next ${blocked.length ? 'blocked' : 'passes'}`, 'data-field': 'next-stage' },
      h('p', null, 'Next stage ', h('strong', null, m.next_stage), ': ',
        blocked.length ? badge(`blocked (${blocked.length})`, 'bad') : badge('gate passes', 'ok')),
      blocked.length > 0 && h('ul', { class: 'blockers' }, blocked.map((reason) => h('li', null, reason))),
      h('p', null, 'To move it, run ', h('code', { class: 'command' }, command)));
  }

  function historyTable(m) {
    const rows = (m.history || []).map((c) => h('tr', null,
      h('td', null, time(c.changed_at)), h('td', null, `${c.from_stage} → ${c.to_stage}`), h('td', null, `${c.percent} %`),
      h('td', null, c.actor), h('td', null, c.forced ? 'forced' : ''), h('td', null, c.reason || '')));
    return h('details', { 'data-key': `history:${m.migration}`, 'data-field': 'history' },
      h('summary', null, `Last stage changes (${rows.length})`),
      rows.length ? table(['when', 'change', 'share', 'by', '', 'reason'], rows) : h('p', { class: 'muted' }, 'none yet'));
  }

  function migrationCard(m) {
    const json = JSON.stringify(m);
    const card = h('article', { class: 'card', 'data-key': `migration:${m.migration}`, 'data-migration': m.migration },
      h('header', null,
        h('h3', null, m.migration),
        badge(m.stage, `stage stage-${m.stage}`),
        m.percent < 100 && badge(`${m.percent} % (rest ${m.previous_stage})`, 'warn'),
        h('span', { class: 'muted' }, `flag v${m.version}, set `, ago(m.updated_at))),
      stepBar(m),
      h('dl', { class: 'facts' },
        h('dt', null, 'Backfill'), h('dd', { 'data-field': 'backfill' }, backfillFacts(m.backfill)),
        h('dt', null, 'Parity'), h('dd', { 'data-field': 'parity' }, parityFacts(m)),
        h('dt', null, 'Repair queue'), h('dd', { 'data-field': 'repair' },
          m.repair_pending > 0 ? badge(`${number(m.repair_pending)} pending`, 'warn') : badge('empty', 'ok')),
        h('dt', null, 'Guard'), h('dd', { 'data-field': 'guard' }, guardFacts(m)),
        h('dt', null, 'Cut-over'), h('dd', { 'data-field': 'cutover' },
          m.cut_over ? badge('cut over: the old table is a view over the new side', 'warn') : 'not cut over')),
      nextStage(m),
      historyTable(m));
    card.dataset.json = json;
    return card;
  }

  async function refreshMigrations() {
    const result = await getJson(appUrl('migrations'));
    if (!result.ok) {
      status('migrations-status', `Refresh failed: ${result.error}. Showing what was last read.`, true);
      return;
    }
    reconcile($('migrations-list'), result.body.map(migrationCard));
    status('migrations-status', `${result.body.length} migrations · refreshed ${time(new Date().toISOString())} · every ${REFRESH_MS / 1000} s`);
    showPartitions(result.body.map((m) => m.partitions).find(Boolean));
  }

  // ---- event partitions ----------------------------------------------------------------------

  /** As the CLI prints a range: MINVALUE/MAXVALUE for an open end. */
  const range = (lower, upper) => `${lower ? time(lower) : 'MINVALUE'} .. ${upper ? time(upper) : 'MAXVALUE'}`;

  function size(bytes) {
    if (bytes === null || bytes === undefined) {
      return '—';
    }
    return bytes >= 1048576 ? `${number(bytes / 1048576)} MB` : `${number(bytes / 1024)} kB`;
  }

  function retentionText(p) {
    if (!p.retire_before) {
      return 'none: every partition is kept (Events__RetentionMonths=0)';
    }
    const action = p.retention_action === 'drop' ? 'dropped'
      : p.archive_directory ? `archived to ${p.archive_directory}, then dropped` : 'archived once Events__ArchiveDirectory is set (till then only reported)';
    return `${p.retention_months} months: partitions ending on or before ${time(p.retire_before).slice(0, 10)} are ${action}`;
  }

  function partitionsView(p) {
    if (!p.partitioned) {
      return [h('p', { 'data-field': 'partitions-plain' }, `${p.table} is not partitioned: a table that held rows before partitioning came is converted as docs/partitions.md says.`)];
    }
    const due = new Set(p.due.map((d) => d.name));
    const rows = p.partitions.map((x) => h('tr', { 'data-partition': x.name },
      h('td', null, h('code', null, x.name)),
      h('td', { class: 'nowrap', 'data-field': 'range' }, range(x.lower, x.upper)),
      h('td', { class: 'num', 'data-field': 'rows' }, x.rows < 0 ? '—' : number(x.rows)),
      h('td', { class: 'num' }, size(x.bytes)),
      h('td', { 'data-field': 'state' }, x.detach_pending ? badge('detach pending', 'warn')
        : due.has(x.name) ? badge(p.kept_because ? 'due, kept' : 'due', p.kept_because ? 'bad' : 'warn') : '')));
    const archives = p.archives.map((a) => h('tr', { 'data-archive': a.partition },
      h('td', { class: 'nowrap' }, time(a.started_at)),
      h('td', null, h('code', null, a.partition)),
      h('td', { class: 'nowrap', 'data-field': 'range' }, range(a.range_from, a.range_to)),
      h('td', { 'data-field': 'state' }, badge(a.state, a.state === 'dropped' ? 'ok' : 'warn')),
      h('td', { class: 'num', 'data-field': 'rows' }, a.rows === null ? '—' : number(a.rows)),
      h('td', { class: 'wrap', 'data-field': 'file' }, a.file ? [h('code', null, a.file), ` ${size(a.file_bytes)}`] : 'not archived'),
      h('td', { class: 'wrap', 'data-field': 'sha256' }, a.sha256 ? h('code', null, a.sha256) : '')));
    return [
      h('p', { 'data-field': 'covered' }, `Covered ${range(p.covered_from, p.covered_to)}, ${p.partitions.length} partitions, ${p.months_ahead} months ahead of this one.`),
      h('p', { 'data-field': 'retention' }, `Retention: ${retentionText(p)}.`),
      p.kept_because && h('p', { class: 'error-text', 'data-field': 'kept-because' }, `Due but kept: ${p.kept_because}`),
      table(['partition', 'range (UTC)', 'rows (est.)', 'size', ''], rows, { class: 'partitions-table' }),
      h('h3', null, 'Archived and dropped (the last 5)'),
      archives.length
        ? table(['started', 'partition', 'range (UTC)', 'state', 'rows', 'file', 'sha256'], archives, { class: 'archives-table' })
        : h('p', { class: 'muted', 'data-field': 'no-archives' }, 'Nothing retired yet.'),
    ].filter(Boolean);
  }

  function showPartitions(p) {
    if (!p) {
      $('partitions-result').replaceChildren();
      status('partitions-status', 'Shown with the signal-events migration, which has no stage flag yet.');
      return;
    }
    $('partitions-result').replaceChildren(...partitionsView(p));
    status('partitions-status', `${p.table} · refreshed ${time(new Date().toISOString())} · every ${REFRESH_MS / 1000} s`);
  }

  // ---- health --------------------------------------------------------------------------------

  function sideCells(side) {
    const reachable = side.reachable === null ? '—' : side.reachable ? 'yes' : `no (${(side.unreachable || []).join(', ')})`;
    return [
      h('td', { 'data-field': 'reachable' }, reachable),
      h('td', { 'data-field': 'write-failures', class: side.write_failures > 0 ? 'bad' : null }, number(side.write_failures)),
      h('td', { 'data-field': 'recent-errors', class: side.recent_errors > 0 ? 'bad' : null }, number(side.recent_errors)),
      h('td', { 'data-field': 'last-error', class: 'wrap' }, side.last_error ? [side.last_error, ' (', ago(side.last_failure_at), ')'] : ''),
    ];
  }

  function healthView(report) {
    const db = report.database;
    const flags = report.flags;
    const level = (l) => badge(l, l === 'ok' ? 'ok' : l === 'warning' ? 'warn' : 'bad');
    const rejected = Object.entries(flags.rejected || {});
    const rows = Object.entries(report.migrations).map(([name, m]) => h('tr', { 'data-migration': name },
      h('th', { scope: 'row' }, name), h('td', null, level(m.level)), h('td', null, (m.critical_sides || []).join(', ')),
      h('td', { 'data-side': 'legacy' }, h('table', { class: 'inner' }, h('tr', null, sideCells(m.legacy)))),
      h('td', { 'data-side': 'new' }, h('table', { class: 'inner' }, h('tr', null, sideCells(m.new)))),
      h('td', { 'data-field': 'repair-pending' }, number(m.repair_pending)),
      h('td', null, m.parity_age_seconds === null ? '—' : duration(m.parity_age_seconds)),
      h('td', null, m.cut_over ? 'yes' : 'no')));
    const comparisons = Object.entries(report.read_comparisons || {});
    return [
      h('div', { class: 'summary' },
        h('p', null, 'Status ', badge(report.status, report.status === 'healthy' ? 'ok' : report.status === 'degraded' ? 'warn' : 'bad')),
        h('p', { 'data-field': 'database' }, 'Database ',
          db.reachable ? badge('reachable', 'ok') : badge('unreachable', 'bad'),
          db.latency_ms !== null && db.latency_ms !== undefined ? ` ${number(db.latency_ms)} ms` : '',
          db.error ? h('span', { class: 'error-text' }, ` ${db.error}`) : ''),
        h('p', { 'data-field': 'flags' }, 'Flags from ',
          h('strong', { 'data-field': 'flag-source' }, flags.source || 'nowhere yet'),
          flags.loaded ? '' : badge('not loaded', 'bad'),
          ', read ', h('span', { 'data-field': 'flag-age' }, flags.age_seconds === null ? '—' : `${duration(flags.age_seconds)} ago`),
          flags.label ? `, label ${flags.label}` : '',
          flags.last_error ? h('span', { class: 'error-text' }, ` last error: ${flags.last_error}`) : '')),
      (report.alerts || []).length > 0 && h('ul', { class: 'alerts', 'data-field': 'alerts' }, report.alerts.map((a) => h('li', null, a))),
      rejected.length > 0 && h('ul', { class: 'alerts' }, rejected.map(([key, why]) => h('li', null, `flag ${key} rejected: ${why}`))),
      table(['migration', 'level', 'relies on',
        h('span', null, 'legacy side', h('small', null, 'reachable · write failures · errors 15 min · last error')),
        h('span', null, 'new side', h('small', null, 'reachable · write failures · errors 15 min · last error')),
        'repair queue', 'parity age', 'cut over'], rows, { class: 'health-table' }),
      comparisons.length > 0 && table(['shadow reads', 'compared', 'differed', 'last difference'],
        comparisons.map(([name, c]) => h('tr', null, h('th', { scope: 'row' }, name), h('td', null, number(c.compared)),
          h('td', null, number(c.mismatches)), h('td', { class: 'wrap' }, c.last_mismatch || '')))),
    ];
  }

  async function refreshHealth() {
    const result = await getJson(appUrl('health/details'));
    // An unhealthy app answers 503 with the same report: show it, that is when it matters most.
    if (!result.body || !result.body.migrations) {
      status('health-status', `Refresh failed: ${result.error}. Showing what was last read.`, true);
      return;
    }
    $('health-result').replaceChildren(...healthView(result.body).filter(Boolean));
    status('health-status', `refreshed ${time(new Date().toISOString())} · every ${REFRESH_MS / 1000} s`);
  }

  // ---- signal path ---------------------------------------------------------------------------

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  let pathRequest = 0;

  async function showPath(signalId) {
    $('path-signal-id').value = signalId;
    const request = ++pathRequest;
    const result = await getJson(appUrl(`signal/${encodeURIComponent(signalId)}/path`));
    if (request !== pathRequest) {
      return;
    }
    if (!result.ok) {
      $('path-result').replaceChildren();
      status('path-status', `Could not read the journey: ${result.error}`, true);
      return;
    }
    const path = result.body;
    const cut = path.events.length >= pathLimit;
    const rows = path.events.map((e, i) => h('tr', null,
      h('td', { class: 'num' }, i + 1), h('td', { class: 'nowrap' }, time(e.created_at, true)),
      h('td', null, badge(e.event_type, `event event-${e.event_type}`)), h('td', null, e.source_component),
      h('td', null, h('small', null, e.content_type), ' ', h('code', null, e.content_id)),
      h('td', null, h('small', null, e.target_type), ' ', h('code', null, e.target_id)),
      h('td', null, e.session_id || ''), h('td', null, e.user_id ? h('code', null, e.user_id) : ''),
      h('td', { class: 'wrap' }, h('code', { class: 'json' }, JSON.stringify(e.metadata)))));
    $('path-result').replaceChildren(...[
      h('p', { class: 'lede', 'data-field': 'path-summary' },
        `${number(path.events.length)} events of journey `, h('code', null, path.signal_id), ', served from the ',
        h('strong', { 'data-field': 'read-from' }, path.read_from), ` side (stage ${path.stage}: the side it reads).`),
      cut && h('p', { class: 'error-text', 'data-field': 'path-cut' },
        `The list stops at its limit of ${number(pathLimit)} events: the journey may have more, later ones are not shown.`),
      rows.length
        ? table(['#', 'time', 'event', 'source component', 'content', 'target', 'session', 'user', 'metadata'], rows, { class: 'path-table' })
        : h('p', { class: 'muted' }, 'No events for this signal_id on that side.'),
    ].filter(Boolean));
    status('path-status', `read ${time(new Date().toISOString())}`);
  }

  /** #path=ID (a link into the viewer) or ?signal_id=ID. */
  function pathFromAddress() {
    const fromHash = /^#path=(.+)$/.exec(location.hash);
    if (fromHash) {
      return decodeURIComponent(fromHash[1]);
    }
    return new URLSearchParams(location.search).get('signal_id');
  }

  function wirePath() {
    $('path-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const signalId = $('path-signal-id').value.trim();
      if (!UUID.test(signalId)) {
        status('path-status', 'A signal_id is a UUID such as 0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20.', true);
        return;
      }
      const hash = `#path=${signalId}`;
      if (location.hash === hash) {
        showPath(signalId);
      } else {
        location.hash = hash;
      }
    });
    window.addEventListener('hashchange', () => {
      const signalId = pathFromAddress();
      if (signalId && location.hash.startsWith('#path=')) {
        showPath(signalId);
      }
    });
    const linked = pathFromAddress();
    if (linked) {
      showPath(linked).then(() => $('path').scrollIntoView());
    }
  }

  // ---- clicks --------------------------------------------------------------------------------

  // The page's cursors: [null, after page 1, after page 2, …]; the last is the page shown.
  const clicks = { filters: [], limit: '100', cursors: [null], next: null, request: 0 };

  /** The form's filters as the API takes them: the list and the export read the same ones. */
  function clickFilters() {
    const form = $('clicks-form');
    const filters = [...form.querySelectorAll('input[name=event_type]:checked')].map((box) => ['event_type', box.value]);
    if (form.elements.from.value) {
      filters.push(['last_activity_from', form.elements.from.value]);
    }
    if (form.elements.to.value) {
      // "to" is the last day shown, the API's bound is exclusive: the day after it.
      const day = new Date(`${form.elements.to.value}T00:00:00Z`);
      day.setUTCDate(day.getUTCDate() + 1);
      filters.push(['last_activity_to', day.toISOString().slice(0, 10)]);
    }
    filters.push(['sort', form.elements.sort.value]);
    return filters;
  }

  /** The chronology in order; a status update says what it set. Entries the cap let go are counted first. */
  function timeline(c) {
    const entries = (c.events || []).map((e) => h('li', null,
      badge(e.event, `event event-${e.event}`), ' ', h('time', null, time(e.timestamp)),
      'qualified' in e ? h('small', null, ` ${e.qualified ? 'qualified' : 'not qualified'}, score ${e.score}`) : null));
    return h('ol', { class: 'timeline' },
      c.events_dropped > 0 && h('li', { class: 'muted' }, `${number(c.events_dropped)} older dropped`),
      entries);
  }

  function clickRow(c) {
    const utm = ['utm_medium', 'utm_campaign', 'utm_term', 'utm_content']
      .filter((field) => c[field] !== null && c[field] !== undefined && c[field] !== '')
      .map((field) => h('div', null, h('small', null, `${field.slice(4)} `), c[field]));
    return h('tr', { 'data-click-id': c.click_id },
      h('td', { 'data-field': 'click-id', class: 'wrap' }, h('code', null, c.click_id)),
      h('td', { 'data-field': 'utm', class: 'wrap' }, utm),
      h('td', { 'data-field': 'qualified' }, c.qualified ? badge(`qualified · ${c.score}`, 'ok') : `score ${c.score}`),
      h('td', { 'data-field': 'created', class: 'nowrap' }, time(c.date_created)),
      h('td', { 'data-field': 'last-activity', class: 'nowrap' }, time(c.last_activity)),
      h('td', { 'data-field': 'events' }, timeline(c)));
  }

  async function loadClicks() {
    const page = clicks.cursors.length;
    const after = clicks.cursors[page - 1];
    const params = [...clicks.filters, ['limit', clicks.limit]];
    if (after) {
      params.push(['after', after]);
    }
    status('clicks-status', 'Loading…');
    const request = ++clicks.request;
    const result = await getJson(appUrl('clicks', params));
    if (request !== clicks.request) {
      return;
    }
    if (!result.ok) {
      status('clicks-status', `Could not read the clicks: ${result.error}`, true);
      return;
    }
    const rows = result.body.clicks.map(clickRow);
    $('clicks-result').replaceChildren(rows.length
      ? table(['click', 'utm', 'qualified', 'created', 'last activity (UTC)', 'events'], rows, { class: 'clicks-table' })
      : h('p', { class: 'muted' }, 'No clicks match.'));
    clicks.next = result.body.next;
    $('clicks-next').disabled = !clicks.next;
    $('clicks-prev').disabled = page <= 1;
    $('clicks-page').textContent = `page ${page}`;
    status('clicks-status', `${number(rows.length)} clicks on this page · read ${time(new Date().toISOString())}`);
  }

  function applyClickFilters() {
    clicks.filters = clickFilters();
    clicks.limit = $('clicks-limit').value;
    clicks.cursors = [null];
    $('clicks-export').href = appUrl('clicks/export.csv', clicks.filters).href;
    return loadClicks();
  }

  function wireClicks() {
    $('clicks-form').addEventListener('submit', (event) => {
      event.preventDefault();
      applyClickFilters();
    });
    $('clicks-next').addEventListener('click', () => {
      if (clicks.next) {
        clicks.cursors.push(clicks.next);
        loadClicks();
      }
    });
    $('clicks-prev').addEventListener('click', () => {
      if (clicks.cursors.length > 1) {
        clicks.cursors.pop();
        loadClicks();
      }
    });
    applyClickFilters();
  }

  // ---- start ---------------------------------------------------------------------------------

  /** A refresh that fails for any reason says so in its section and leaves the loop running. */
  async function guarded(statusId, refresh) {
    try {
      await refresh();
    } catch (error) {
      status(statusId, `Refresh failed: ${error.message}. Showing what was last read.`, true);
    }
  }

  async function refreshLoop() {
    if (!document.hidden) {
      await Promise.all([guarded('migrations-status', refreshMigrations), guarded('health-status', refreshHealth)]);
      tick();
    }
    setTimeout(refreshLoop, REFRESH_MS);
  }

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      tick();
    }
  });

  wirePath();
  wireClicks();
  refreshLoop();
})();
