/*! signal.js: journey tracking for SignalFunctions.
 * <script src="https://app/api/signal.js" data-endpoint="https://app/api" data-content-id="UUID" async></script>
 * signal.track({event_type, target_type, target_id, source_component, content_id?, content_type?, metadata?})
 *   returns the event's id; signal.signalId() is the journey's id (e.g. to carry it into a booking).
 *
 * Delivery is at least once, the effect exactly once: every event gets its UUID when tracked and
 * keeps it through every resend, and the API stores an id once. So any doubt is settled by resending.
 */
(function () {
  'use strict';
  var w = window, P = 'signal:', Q = P + 'q:', RETRY = P + 'retry', MAX_QUEUED = 500, MAX_BATCH = 100,
    MAX_CHARS = 30000, SESSION_IDLE = 18e5, BEACON_GRACE = 1e4, MAX_DELAY = 3e5;
  var early = w.signal;
  if (early && early.loaded) return; // included twice
  var api = w.signal = { loaded: true, track: function () {}, signalId: function () {}, flush: function () {} };

  // Without first-party storage there is no journey, and an event that cannot be kept cannot be
  // promised: do nothing rather than send events that belong to no journey.
  var ls;
  try { ls = w.localStorage; ls.setItem(P + 'probe', '1'); ls.removeItem(P + 'probe'); } catch (e) { return; }

  var script = document.currentScript || document.querySelector('script[data-endpoint],script[src*="/signal.js"]');
  var attr = function (name) { return script && script.getAttribute(name); };
  var url = (attr('data-endpoint') || (script ? new URL(script.src, location.href).origin : '') + '/api')
    .replace(/\/+$/, '') + '/signal/events';
  var contentId = attr('data-content-id');
  var busy = {};   // id -> until when this tab counts it as on its way (Infinity while a fetch is open)
  var warned, timer = 0, due = 0;

  var read = function (k) { try { return JSON.parse(ls.getItem(k)); } catch (e) { return null; } };
  var write = function (k, v) { try { ls.setItem(k, JSON.stringify(v)); return true; } catch (e) { return false; } };
  var guard = function (f) { return function (a) { try { return f(a); } catch (e) { /* never into the page */ } }; };

  function uuid() {
    var c = w.crypto, b = new Uint8Array(16), h = '', i;
    if (c && c.randomUUID) return c.randomUUID(); // secure contexts only: plain-http sites fall through
    if (c && c.getRandomValues) c.getRandomValues(b); else for (i = 0; i < 16; i++) b[i] = Math.random() * 256;
    b[6] = b[6] & 15 | 64; b[8] = b[8] & 63 | 128;
    for (i = 0; i < 16; i++) h += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + (b[i] + 256).toString(16).slice(1);
    return h;
  }

  // A journey lives until a distribution link (?d=…) lands a visitor again. A reload or back/forward
  // of that landing page is the same landing, not a new journey.
  var journey = read(P + 'journey');
  var d = new URLSearchParams(location.search).get('d');
  var nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
  if (!journey || !journey.id || (d && (journey.d !== d || !nav || nav.type === 'navigate'))) {
    journey = { id: uuid(), d: d || undefined };
    write(P + 'journey', journey);
  }

  function sessionId() {
    var s = read(P + 'session'), now = Date.now();
    if (!s || !s.id || now - s.t > SESSION_IDLE) s = { id: uuid() };
    s.t = now;
    write(P + 'session', s);
    return s.id;
  }

  // Each event under its own key: tabs of one site share the queue, and a read-modify-write of
  // one list would let one tab overwrite an event another tab just added.
  function queued() {
    var list = [], k, e, i;
    for (i = 0; i < ls.length; i++) {
      k = ls.key(i);
      if (k && k.indexOf(Q) === 0 && (e = read(k)) && e.id) list.push(e);
    }
    return list.sort(function (a, b) { return (a.occurred_at || '') < (b.occurred_at || '') ? -1 : 1; });
  }
  var forget = function (batch) { batch.forEach(function (e) { ls.removeItem(Q + e.id); }); };

  function track(ev) {
    ev = ev || {};
    // Another tab may have started a newer journey since this page loaded.
    journey = read(P + 'journey') || journey;
    var meta = ev.metadata, all = queued();
    // The journey remembers which distribution started it, so every event can be credited to it.
    if (journey.d && (!meta || typeof meta === 'object') && !(meta && 'distribution_id' in meta)) {
      meta = Object.assign({ distribution_id: journey.d }, meta);
    }
    var e = {
      id: uuid(), signal_id: journey.id, session_id: sessionId(), content_id: ev.content_id || contentId,
      content_type: ev.content_type, target_type: ev.target_type, target_id: ev.target_id,
      event_type: ev.event_type, source_component: ev.source_component, user_id: ev.user_id,
      metadata: meta, occurred_at: new Date().toISOString()
    };
    if (all.length >= MAX_QUEUED) forget(all.slice(0, all.length - MAX_QUEUED + 1)); // oldest go first
    // Unstorable (quota): still sent now, only without a second chance.
    if (!write(Q + e.id, e)) send([e]);
    schedule(0);
    return e.id;
  }

  function schedule(ms) {
    var at = Date.now() + ms;
    if (timer && due <= at) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(guard(flush), ms);
  }

  function batches(list) {
    var out = [], cur = [], size = 0, n;
    list.forEach(function (e) {
      n = JSON.stringify(e).length;
      // keepalive and sendBeacon share a 64 KiB in-flight budget, so no batch takes all of it.
      if (cur.length && (cur.length === MAX_BATCH || size + n > MAX_CHARS)) { out.push(cur); cur = []; size = 0; }
      cur.push(e); size += n;
    });
    if (cur.length) out.push(cur);
    return out;
  }

  var ready = function (now) { return queued().filter(function (e) { return !(busy[e.id] > now); }); };

  function flush() {
    timer = 0;
    var now = Date.now(), r = read(RETRY);
    if (r && r.url === url && r.at > now) return schedule(r.at - now);
    batches(ready(now)).forEach(send);
  }

  function send(batch) {
    var mark = function (v) { batch.forEach(function (e) { if (v) busy[e.id] = v; else delete busy[e.id]; }); };
    mark(Infinity);
    // text/plain keeps this a CORS "simple" request: no preflight. keepalive lets it outlive the page.
    Promise.resolve().then(function () {
      return fetch(url, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(batch) });
    }).then(function (res) {
      mark();
      if (res.ok) {
        forget(batch);
        if (read(RETRY)) { ls.removeItem(RETRY); schedule(0); } // the API is back: what waited goes now
        return;
      }
      if (res.status !== 400 && res.status !== 413) return fail(res);
      // A batch is all or nothing: halve it until the bad events stand alone, so none of their
      // neighbours is lost with them.
      if (batch.length > 1) return [batch.slice(0, batch.length >> 1), batch.slice(batch.length >> 1)].forEach(send);
      return res.json().catch(function () { return {}; }).then(function (problem) { rejected(batch[0], problem); });
    }, function () { mark(); fail(); }).catch(function () {});
  }

  function rejected(e, problem) {
    var keys = Object.keys((problem && problem.errors) || {});
    // The device's clock is off (the API takes 5 minutes ahead, 30 days behind), yet the event is
    // fresh by that same clock: let the server's clock stamp it rather than lose it.
    if (e.occurred_at && keys.length && keys.every(function (k) { return /occurred_at$/.test(k); })
        && Date.now() - Date.parse(e.occurred_at) < 864e5) {
      delete e.occurred_at;
      write(Q + e.id, e);
      return send([e]);
    }
    forget([e]); // resending what the API refused would fail forever
    if (!warned) { warned = true; console.warn('signal.js: event rejected and dropped', problem); }
  }

  // 429, 503, other errors and network failures: back off exponentially with jitter, shared by the
  // site's tabs and the next page loads through storage, honouring Retry-After when CORS shows it.
  function fail(res) {
    var now = Date.now(), r = read(RETRY), n, ms;
    if (r && r.url === url && r.at > now) return schedule(r.at - now); // a sibling request already backed off
    n = r && r.url === url ? r.n + 1 : 0;
    ms = Math.min(MAX_DELAY, 1000 * Math.pow(2, n)) * (0.75 + Math.random() / 2);
    ms = Math.max(ms, 1000 * (+(res && res.headers.get('Retry-After')) || 0));
    write(RETRY, { url: url, n: n, at: now + ms });
    schedule(ms);
  }

  // The page is going away or may be frozen: hand everything not already on its way (keepalive
  // fetches are) to sendBeacon, ignoring backoff since this is the last chance. The events stay
  // queued; the next page load resends them and the API's dedupe absorbs the overlap.
  function beacon() {
    var now = Date.now();
    if (!navigator.sendBeacon) return;
    batches(ready(now)).every(function (batch) {
      var ok = navigator.sendBeacon(url, JSON.stringify(batch));
      if (ok) batch.forEach(function (e) { busy[e.id] = now + BEACON_GRACE; });
      if (ok) schedule(BEACON_GRACE); // the page may live on (tab switch, bfcache): resend if still queued then
      return ok;
    });
  }

  api.track = guard(track);
  api.flush = guard(flush);
  api.signalId = function () { return journey.id; };
  w.addEventListener('pagehide', guard(beacon));
  document.addEventListener('visibilitychange', guard(function () { if (document.visibilityState === 'hidden') beacon(); }));
  w.addEventListener('online', guard(flush));
  // Calls made before this async script arrived: <script>window.signal={q:[],track:function(e){this.q.push(e)}}</script>
  ((early && early.q) || []).forEach(api.track);
  schedule(0); // what earlier pages left unsent
})();
