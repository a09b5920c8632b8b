/*
 * The porthole dashboard: everything over the SockJS event-bus bridge at /eventbus, pushed live, no
 * polling. Bus API: verticles.md, "The event-bus bridge". Rows are updated in place, one per event.
 */
(function () {
  'use strict';

  var A = {
    start: 'porthole.tunnels.start',
    list: 'porthole.tunnels.list',
    get: 'porthole.tunnels.get',
    stop: 'porthole.tunnels.stop',
    events: 'porthole.events.list',
    lifecycle: 'porthole.tunnels.lifecycle',
    captured: 'porthole.requests.captured',
    requests: 'porthole.requests.list',
    request: 'porthole.requests.get',
    replay: 'porthole.requests.replay'
  };
  var TOKEN_KEY = 'porthole.token';
  var MAX_ROWS = 2000;        // stopped rows beyond this are dropped, oldest first
  var MAX_EVENTS = 300;
  var MAX_REQUESTS = 200;

  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };

  var state = {
    eb: null,
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    open: false,
    everOpen: false,
    generation: 0,
    tunnels: new Map(),     // id -> {data, row, cells, opts: [option…]}
    eventFilter: '',
    requestFilter: '',
    selectedRequest: null,
    detail: null
  };

  // ------------------------------------------------------------------ time and text

  /** RFC 3339 with up to 9 fraction digits → a string that sorts by time. */
  function sortable(t) {
    if (!t) return '';
    var m = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(t);
    return m ? m[1] + '.' + ((m[2] || '') + '000000000').slice(0, 9) + m[3] : t;
  }
  function clock(t) {
    if (!t) return '';
    var d = new Date(t);
    return isNaN(d) ? t : d.toLocaleString();
  }
  // One formatter for every cell: toLocaleTimeString() builds a new one per call, which with 1 000
  // rows took a good part of the first render (bench D1). Same options as toLocaleTimeString's.
  var TIME = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: 'numeric', second: 'numeric' });
  function timeEl(t) {
    var e = el('time', null, t ? TIME.format(new Date(t)) : '');
    if (t) { e.dateTime = t; e.title = t; }
    return e;
  }
  function describeError(err) {
    if (!err) return 'unknown error';
    if (err.message) return err.message;
    if (err.body) return String(err.body);
    return JSON.stringify(err);
  }

  // ------------------------------------------------------------------ the bridge

  function bridgeUrl() {
    return '/eventbus' + (state.token ? '?access_token=' + encodeURIComponent(state.token) : '');
  }

  function connect() {
    var old = state.eb;
    if (old) {
      old.onclose = null;
      old.enableReconnect(false);
      try { old.close(); } catch (e) { /* already closed */ }
    }
    var gen = ++state.generation;
    setConn('connecting', 'Connecting…');
    var eb = new EventBus(bridgeUrl(), {
      // SockJS gives a transport twice its measured round trip (300 ms at least) to open, then falls
      // back to the next one: the first WebSocket of an app-server just started can take longer than
      // that (its upgrade path is not compiled yet), and the page then ran over XHR streaming, a
      // second later and slower for as long as it stayed open (bench D1's cold load). A WebSocket that
      // is refused still falls back at once.
      timeout: 5000,
      vertxbus_ping_interval: 5000,
      vertxbus_reconnect_delay_min: 500,
      vertxbus_reconnect_delay_max: 3000
    });
    eb.enableReconnect(true);
    eb.onopen = function () { if (gen === state.generation) onOpen(eb); };
    eb.onclose = function () { if (gen === state.generation) onClose(eb, gen); };
    eb.onerror = function (err) {
      // A refusal is answered with its reason first; vert.x's own "rejected" that follows adds nothing.
      if (err && (err.body === 'rejected' || err.body === 'access_denied')) return;
      showTunnelMessage(describeError(err));
    };
    state.eb = eb;
  }

  /** Request/reply over the bridge, as a promise; fails with {message, failureCode}. */
  function ask(address, body) {
    return new Promise(function (resolve, reject) {
      var eb = state.eb;
      if (!eb || !state.open) {
        reject({ message: 'not connected to the app-server' });
        return;
      }
      try {
        eb.send(address, body || {}, function (err, msg) {
          if (err) reject(err); else resolve(msg.body);
        });
      } catch (e) {
        reject({ message: 'not connected to the app-server' });
      }
    });
  }

  function onOpen(eb) {
    state.open = true;
    state.everOpen = true;
    hideBanner();
    setConn('live', 'Live');
    closeTokenDialog();
    // Handlers belong to the socket: register them on every (re)open, then read the state again.
    eb.registerHandler(A.lifecycle, function (err, msg) { if (!err) onLifecycle(msg.body); });
    eb.registerHandler(A.captured, function (err, msg) { if (!err) onCaptured(msg.body); });
    refreshAll();
  }

  function onClose(eb, gen) {
    var wasOpen = state.open;
    state.open = false;
    // Why did it close (or not open)? The bridge's own door answers plainly over HTTP.
    fetch('/eventbus/info' + (state.token ? '?access_token=' + encodeURIComponent(state.token) : ''),
        { cache: 'no-store', credentials: 'omit' })
      .then(function (resp) {
        if (gen !== state.generation) return;
        if (resp.status === 401) {
          eb.enableReconnect(false);
          setConn('down', 'Needs a token');
          hideBanner();
          openTokenDialog(state.token ? 'The app-server refused this token.' : '');
        } else if (resp.status === 403) {
          eb.enableReconnect(false);
          return resp.json().catch(function () { return {}; }).then(function (b) {
            setConn('down', 'Refused');
            showBanner('The app-server refused this page: ' + (b.message || 'forbidden') + '.');
          });
        } else {
          setConn('down', 'Reconnecting…');
          showBanner(wasOpen || state.everOpen ? 'Lost the connection to the app-server. Reconnecting…'
            : 'Cannot reach the app-server. Retrying…');
        }
      }, function () {
        if (gen !== state.generation) return;
        setConn('down', 'Reconnecting…');
        showBanner('The app-server is not reachable (stopped?). Reconnecting when it is back…');
      });
  }

  function setConn(s, text) {
    var c = $('conn');
    c.dataset.state = s;
    c.textContent = text;
  }
  function showBanner(text) {
    var b = $('banner');
    if (b.textContent !== text) b.textContent = text;
    b.hidden = false;
  }
  function hideBanner() {
    var b = $('banner');
    b.hidden = true;
    b.textContent = '';
  }

  // ------------------------------------------------------------------ token

  function openTokenDialog(error) {
    var d = $('token-dialog');
    $('token-error').textContent = error || '';
    $('token-input').value = '';
    if (!d.open) d.showModal();
    $('token-input').focus();
  }
  function closeTokenDialog() {
    var d = $('token-dialog');
    if (d.open) d.close();
  }
  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = $('token-input').value.trim();
    if (!t) {
      $('token-error').textContent = 'Enter a token.';
      return;
    }
    state.token = t;
    sessionStorage.setItem(TOKEN_KEY, t);
    $('token-error').textContent = '';
    connect();
  });
  $('token-cancel').addEventListener('click', function () { closeTokenDialog(); });
  $('token-open').addEventListener('click', function () { openTokenDialog(''); });

  // ------------------------------------------------------------------ refresh

  function refreshAll() {
    ask(A.list, {}).then(function (reply) {
      reconcile(reply.tunnels || []);
      if (!refreshAll.marked) {
        refreshAll.marked = true;
        performance.mark('porthole-first-render');
      }
      $('tunnel-table').dataset.loaded = 'true';
    }, function (err) { showTunnelMessage('Could not list the tunnels: ' + describeError(err)); });
    loadEvents();
    loadRequests();
  }

  // ------------------------------------------------------------------ tunnels table

  // The row of one tunnel (index.html's template): cells in this order.
  var ROW = $('row-template').content.firstElementChild;
  var COLUMNS = ['status', 'tunnel', 'type', 'url', 'target', 'pool', 'started', 'error', 'expires', 'actions'];

  function makeRow(id) {
    var tr = ROW.cloneNode(true);
    tr.dataset.id = id;
    var td = tr.children, cells = {};
    for (var i = 0; i < COLUMNS.length; i++) cells[COLUMNS[i]] = td[i];
    cells.statusBadge = cells.status.firstChild;
    cells.name = cells.tunnel.firstChild;
    cells.tunnel.lastChild.textContent = id;
    var buttons = cells.actions.children;
    cells.stop = buttons[0];
    buttons[0].setAttribute('aria-label', 'Stop tunnel ' + id);
    buttons[1].setAttribute('aria-label', 'Requests of tunnel ' + id);
    buttons[2].setAttribute('aria-label', 'Events of tunnel ' + id);
    return { id: id, row: tr, cells: cells, shown: {} };
  }

  /** True, and remembers it, when a cell's value is not what the row shows. */
  function changed(entry, key, value) {
    if (entry.shown[key] === value) return false;
    entry.shown[key] = value;
    return true;
  }

  function label(t) {
    return t.name || t.subdomain || t.id;
  }

  /** Writes what changed of one tunnel into its row: no other row is touched. */
  function render(entry) {
    var t = entry.data, c = entry.cells, v;
    v = t.status || '';
    if (changed(entry, 'status', v)) {
      c.statusBadge.textContent = v;
      c.statusBadge.dataset.status = v;
      entry.row.dataset.status = v;
      c.stop.disabled = v === 'stopped';
    }
    v = t.name || t.subdomain || '';
    if (changed(entry, 'name', v)) c.name.textContent = v;
    v = t.type || '';
    if (changed(entry, 'type', v)) c.type.textContent = v;
    v = t.tunnel_url || '';
    if (changed(entry, 'url', v)) {
      c.url.textContent = '';
      if (v) {
        var shown;
        if (/^https?:\/\//.test(v)) {
          shown = el('a', null, v);
          shown.href = v;
          shown.rel = 'noreferrer';
          shown.target = '_blank';
        } else {
          shown = el('span', 'mono', v);
        }
        var copy = el('button', 'quiet copy', 'Copy');
        copy.type = 'button';
        copy.dataset.action = 'copy';
        copy.setAttribute('aria-label', 'Copy the URL of tunnel ' + entry.id);
        c.url.appendChild(shown);
        c.url.appendChild(copy);
      }
    }
    v = t.type === 'stub' ? 'stub' + (t.response_format ? ' (' + t.response_format + ')' : '') : (t.host || '') + ':' + (t.port || '');
    if (changed(entry, 'target', v)) c.target.textContent = v;
    v = t.pool_size != null ? String(t.pool_size) : '';
    if (changed(entry, 'pool', v)) c.pool.textContent = v;
    v = t.started_at || '';
    if (changed(entry, 'started', v)) {
      c.started.textContent = '';
      if (v) c.started.appendChild(timeEl(v));
    }
    v = t.last_error || '';
    if (changed(entry, 'error', v)) c.error.textContent = v;
    v = t.expires_at || '';
    if (changed(entry, 'expires', v)) {
      c.expires.textContent = '';
      if (v) c.expires.appendChild(timeEl(v));
    }
  }

  function upsert(status, atTop) {
    var entry = state.tunnels.get(status.id);
    if (!entry) {
      entry = makeRow(status.id);
      entry.data = status;
      state.tunnels.set(status.id, entry);
      var body = $('tunnel-rows');
      if (atTop) body.insertBefore(entry.row, body.firstChild); else body.appendChild(entry.row);
      addFilterOption(status);
      trim();
      counts();
    } else if (sortable(entry.data.updated_at) > sortable(status.updated_at)) {
      return entry; // an event already moved this row past what the answer shows
    } else {
      entry.data = status;
    }
    render(entry);
    return entry;
  }

  /** After (re)connecting: the list is the truth; rows no longer listed go. */
  function reconcile(list) {
    var seen = new Set();
    var body = $('tunnel-rows');
    var fresh = document.createDocumentFragment();
    var freshOpts = FILTERS.map(function () { return document.createDocumentFragment(); });
    var fresher = state.tunnels.size === 0;
    list.forEach(function (s) {
      seen.add(s.id);
      if (fresher) {
        var entry = makeRow(s.id);
        entry.data = s;
        state.tunnels.set(s.id, entry);
        render(entry);
        fresh.appendChild(entry.row);
        addFilterOption(s, freshOpts);
      } else {
        upsert(s, false);
      }
    });
    if (fresher) {
      FILTERS.forEach(function (sel, i) { sel.appendChild(freshOpts[i]); });
      body.appendChild(fresh);
    }
    Array.from(state.tunnels.keys()).forEach(function (id) {
      if (!seen.has(id)) removeTunnel(id);
    });
    counts();
  }

  function removeTunnel(id) {
    var entry = state.tunnels.get(id);
    if (!entry) return;
    entry.row.remove();
    (entry.opts || []).forEach(function (o) { o.remove(); });
    state.tunnels.delete(id);
  }

  /** Bounded: past MAX_ROWS, the rows of stopped tunnels go, least recently updated first. */
  function trim() {
    if (state.tunnels.size <= MAX_ROWS) return;
    var stopped = [];
    state.tunnels.forEach(function (e, id) { if (e.data.status === 'stopped') stopped.push([sortable(e.data.updated_at), id]); });
    stopped.sort();
    for (var i = 0; i < stopped.length && state.tunnels.size > MAX_ROWS; i++) removeTunnel(stopped[i][1]);
  }

  function counts() {
    var n = state.tunnels.size, running = 0;
    state.tunnels.forEach(function (e) { if (e.data.status === 'running') running++; });
    $('tunnel-count').textContent = n ? '(' + running + ' running of ' + n + ')' : '';
    $('no-tunnels').hidden = n > 0;
  }

  var countsPending = false;
  function countsSoon() {
    if (countsPending) return;
    countsPending = true;
    requestAnimationFrame(function () { countsPending = false; counts(); });
  }

  var FILTERS = [$('event-filter'), $('request-filter')];

  /** The tunnel's option in each filter, appended to into (the selects, or one fragment each). */
  function addFilterOption(t, into) {
    var entry = state.tunnels.get(t.id);
    if (!entry || entry.opts) return;
    var text = label(t) + ' (' + t.id.slice(-6) + ')';
    entry.opts = (into || FILTERS).map(function (parent) {
      var o = el('option', null, text);
      o.value = t.id;
      parent.appendChild(o);
      return o;
    });
  }

  var STATUS_OF = { started: 'running', reconnected: 'running', unhealthy: 'unhealthy', failed: 'failed', stopped: 'stopped' };

  function onLifecycle(e) {
    var entry = state.tunnels.get(e.tunnel_id);
    if (!entry) {
      // A tunnel made elsewhere: a row from the event now, the whole status right after.
      entry = upsert({ id: e.tunnel_id, name: e.name, status: STATUS_OF[e.type] || e.type, type: e.connection_type,
        host: e.host, port: e.port, subdomain: e.subdomain, remote_port: e.remote_port, tunnel_url: e.tunnel_url,
        started_at: e.at, updated_at: e.at, last_error: e.error }, true);
      ask(A.get, { id: e.tunnel_id }).then(function (s) { upsert(s, true); }, function () { /* gone again */ });
    } else {
      var t = Object.assign({}, entry.data);
      t.status = STATUS_OF[e.type] || t.status;
      t.updated_at = e.at;
      if (e.type === 'started' || e.type === 'reconnected') {
        if (e.remote_port) t.remote_port = e.remote_port;
        if (e.tunnel_url) t.tunnel_url = e.tunnel_url;
        delete t.last_error;
      } else if (e.type === 'unhealthy' || e.type === 'failed') {
        if (e.error) t.last_error = e.error;
      } else if (e.type === 'stopped') {
        t.stopped_at = e.at;
      }
      entry.data = t;
      render(entry);
    }
    countsSoon();
    addEvent(e, true);
  }

  // Clicks in the table: one listener for every row.
  $('tunnel-rows').addEventListener('click', function (ev) {
    var btn = ev.target.closest('button[data-action]');
    if (!btn) return;
    var id = btn.closest('tr').dataset.id;
    var entry = state.tunnels.get(id);
    if (!entry) return;
    var action = btn.dataset.action;
    if (action === 'copy') copyText(entry.data.tunnel_url, btn);
    else if (action === 'stop') stopTunnel(id, btn);
    else if (action === 'requests') { selectFilter('request-filter', id); $('requests').scrollIntoView(); $('request-filter').focus(); }
    else if (action === 'events') { selectFilter('event-filter', id); $('events').scrollIntoView(); $('event-filter').focus(); }
  });

  function stopTunnel(id, btn) {
    btn.disabled = true;
    showTunnelMessage('');
    ask(A.stop, { id: id }).then(function (s) { upsert(s, false); countsSoon(); }, function (err) {
      btn.disabled = false;
      showTunnelMessage('Could not stop ' + id + ': ' + describeError(err));
    });
  }

  function showTunnelMessage(text) {
    $('tunnel-message').textContent = text;
  }

  function copyText(text, btn) {
    var done = function () {
      btn.textContent = 'Copied';
      $('copy-status').textContent = 'Copied ' + text;
      setTimeout(function () { btn.textContent = 'Copy'; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }
  function fallbackCopy(text) {
    var ta = el('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand('copy'); } catch (e) { /* nothing more to try */ }
    ta.remove();
  }

  // ------------------------------------------------------------------ create

  var createForm = $('create-form');
  $('create-type').addEventListener('change', function () { createForm.dataset.type = this.value; });
  createForm.dataset.type = $('create-type').value;

  createForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    $('create-error').textContent = '';
    $('create-result').textContent = '';
    var type = $('create-type').value;
    var body = { type: type };
    var text = function (id, key) { var v = $(id).value.trim(); if (v) body[key] = v; };
    var number = function (id, key) {
      var v = $(id).value.trim();
      if (v === '') return;
      // Sent as typed when it is not a number: the API's own message says what is wrong.
      body[key] = /^-?\d+$/.test(v) ? Number(v) : v;
    };
    text('create-subdomain', 'subdomain');
    text('create-name', 'name');
    if (type === 'stub') {
      text('create-format', 'response_format');
      var tmpl = $('create-tmpl').value;
      if (tmpl) body.response_tmpl = tmpl;
    } else {
      text('create-host', 'host');
      number('create-port', 'port');
      number('create-pool', 'pool_size');
    }
    var submit = $('create-submit');
    submit.disabled = true;
    ask(A.start, body).then(function (s) {
      submit.disabled = false;
      upsert(s, true);
      countsSoon();
      $('create-result').textContent = 'Created ' + label(s) + ' (' + s.status + ')' + (s.tunnel_url ? ': ' + s.tunnel_url : '');
    }, function (err) {
      submit.disabled = false;
      $('create-error').textContent = describeError(err);
    });
  });

  // ------------------------------------------------------------------ events timeline

  function selectFilter(id, value) {
    var sel = $(id);
    if (sel.value !== value) {
      sel.value = value;
      sel.dispatchEvent(new Event('change'));
    }
  }

  $('event-filter').addEventListener('change', function () {
    state.eventFilter = this.value;
    loadEvents();
  });

  function loadEvents() {
    var filter = state.eventFilter;
    ask(A.events, { tunnel_id: filter, since: 0 }).then(function (reply) {
      if (filter !== state.eventFilter) return;
      var list = $('event-list');
      list.textContent = '';
      (reply.events || []).forEach(function (e) { addEvent(e, false); });
      $('no-events').hidden = list.childElementCount > 0;
    }, function () { /* the banner says why */ });
  }

  function addEvent(e, live) {
    if (state.eventFilter && state.eventFilter !== e.tunnel_id) return;
    var list = $('event-list');
    var li = el('li');
    li.dataset.tunnel = e.tunnel_id;
    li.dataset.type = e.type;
    li.appendChild(timeEl(e.at));
    var type = el('span', 'ev-type', e.type);
    type.dataset.type = e.type;
    li.appendChild(type);
    li.appendChild(el('span', null, (e.name || e.subdomain || e.tunnel_id) + (e.tunnel_url ? ' → ' + e.tunnel_url : '')));
    if (e.reason) li.appendChild(el('span', 'meta', ' (' + e.reason + ')'));
    if (e.error) li.appendChild(el('span', 'error', ' ' + e.error));
    list.insertBefore(li, list.firstChild);
    while (list.childElementCount > MAX_EVENTS) list.lastElementChild.remove();
    if (live) $('no-events').hidden = true;
  }

  // ------------------------------------------------------------------ request inspector

  $('request-filter').addEventListener('change', function () {
    state.requestFilter = this.value;
    loadRequests();
  });

  function loadRequests() {
    var filter = state.requestFilter;
    var q = { limit: 100 };
    if (filter) q.tunnel_id = filter;
    ask(A.requests, q).then(function (reply) {
      if (filter !== state.requestFilter) return;
      $('requests-state').textContent = '';
      var list = $('request-list');
      list.textContent = '';
      (reply.requests || []).slice().reverse().forEach(function (r) { addRequest(r); });
      $('no-requests').hidden = list.childElementCount > 0;
    }, function (err) {
      $('requests-state').textContent = 'Request log: ' + describeError(err);
    });
  }

  function onCaptured(r) {
    if (state.requestFilter && r.tunnel_id !== state.requestFilter) return;
    addRequest(r);
    $('no-requests').hidden = true;
  }

  function addRequest(r) {
    var list = $('request-list');
    var li = el('li');
    li.dataset.id = r.id;
    var b = el('button');
    b.type = 'button';
    b.dataset.id = r.id;
    var code = el('span', 'code', String(r.status || ''));
    code.dataset['class'] = String(r.status || '').charAt(0);
    b.appendChild(code);
    b.appendChild(timeEl(r.logged_at));
    b.appendChild(el('span', 'method', r.method));
    b.appendChild(el('span', 'path', r.url));
    if (r.is_replayed) b.appendChild(el('span', 'meta', ' (replay)'));
    b.setAttribute('aria-label', r.method + ' ' + r.url + ', status ' + r.status + (r.is_replayed ? ', replayed' : ''));
    if (state.selectedRequest === r.id) b.setAttribute('aria-current', 'true');
    li.appendChild(b);
    list.insertBefore(li, list.firstChild);
    while (list.childElementCount > MAX_REQUESTS) list.lastElementChild.remove();
  }

  $('request-list').addEventListener('click', function (ev) {
    var b = ev.target.closest('button[data-id]');
    if (b) showRequest(b.dataset.id);
  });

  function showRequest(id) {
    state.selectedRequest = id;
    Array.prototype.forEach.call($('request-list').querySelectorAll('button[aria-current]'), function (b) {
      b.removeAttribute('aria-current');
    });
    var current = $('request-list').querySelector('button[data-id="' + CSS.escape(id) + '"]');
    if (current) current.setAttribute('aria-current', 'true');
    $('replay-result').textContent = '';
    $('replay-error').textContent = '';
    ask(A.request, { id: id }).then(function (d) {
      if (state.selectedRequest !== id) return;
      state.detail = d;
      renderDetail(d);
    }, function (err) {
      $('replay-error').textContent = describeError(err);
    });
  }

  function renderDetail(d) {
    var box = $('request-detail');
    box.hidden = false;
    box.dataset.id = d.id;
    $('detail-title').textContent = d.method + ' ' + d.url;
    $('detail-meta').textContent = 'status ' + d.status + ' · ' + d.duration_ms + ' ms · ' + d.host + ' · ' + clock(d.logged_at)
      + (d.is_replayed ? ' · replay of ' + (d.parent_id || '?') : '') + ' · id ' + d.id;
    headersTable($('detail-req-headers'), d.headers);
    headersTable($('detail-resp-headers'), d.response_headers);
    $('detail-req-body').textContent = bodyText(d.body, d.body_text, d.body_truncated, d.bytes_in);
    $('detail-resp-body').textContent = bodyText(d.response_body, d.response_body_text, d.response_body_truncated, d.bytes_out);
    $('edit-method').value = d.method;
    $('edit-url').value = d.url;
    $('edit-headers').value = JSON.stringify(d.headers || {}, null, 2);
    var binary = !d.body_text && d.body;
    $('edit-body').value = d.body_text || '';
    $('edit-body').disabled = !!binary;
    $('edit-note').textContent = binary ? 'The stored body is binary: it is replayed as stored.' : '';
  }

  function headersTable(table, headers) {
    var body = table.tBodies[0];
    body.textContent = '';
    Object.keys(headers || {}).forEach(function (name) {
      var v = headers[name];
      var tr = el('tr');
      tr.appendChild(el('td', null, name));
      tr.appendChild(el('td', null, Array.isArray(v) ? v.join(', ') : String(v)));
      body.appendChild(tr);
    });
  }

  function bodyText(b64, text, truncated, total) {
    var size = b64 ? Math.floor(b64.length * 3 / 4) - (/==$/.test(b64) ? 2 : /=$/.test(b64) ? 1 : 0) : 0;
    var cut = truncated ? '\n… cut at ' + size + ' of ' + total + ' bytes' : '';
    if (text != null && text !== '') {
      try {
        var parsed = JSON.parse(text);
        if (parsed !== null && typeof parsed === 'object') return JSON.stringify(parsed, null, 2) + cut;
      } catch (e) { /* not JSON: as text */ }
      return text + cut;
    }
    if (size > 0) return '(binary, ' + size + ' bytes' + (truncated ? ' of ' + total : '') + ')';
    return '(empty)';
  }

  function replayDone(d) {
    $('replay-result').textContent = 'Replayed as ' + d.id + ': status ' + d.status;
  }

  $('replay').addEventListener('click', function () {
    if (!state.detail) return;
    var btn = this;
    btn.disabled = true;
    $('replay-result').textContent = '';
    $('replay-error').textContent = '';
    ask(A.replay, { id: state.detail.id }).then(function (d) { btn.disabled = false; replayDone(d); }, function (err) {
      btn.disabled = false;
      $('replay-error').textContent = describeError(err);
    });
  });

  $('edit-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!state.detail) return;
    $('replay-result').textContent = '';
    $('replay-error').textContent = '';
    var edit = { id: state.detail.id, method: $('edit-method').value.trim(), url: $('edit-url').value.trim() };
    var raw = $('edit-headers').value.trim();
    if (raw) {
      try {
        edit.headers = JSON.parse(raw);
      } catch (e) {
        $('replay-error').textContent = 'Headers are not JSON: ' + e.message;
        return;
      }
    }
    if (!$('edit-body').disabled) edit.body = toBase64($('edit-body').value);
    var btn = $('edit-submit');
    btn.disabled = true;
    ask(A.replay, edit).then(function (d) { btn.disabled = false; replayDone(d); }, function (err) {
      btn.disabled = false;
      $('replay-error').textContent = describeError(err);
    });
  });

  function toBase64(text) {
    var bytes = new TextEncoder().encode(text);
    var s = '';
    for (var i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  // ------------------------------------------------------------------ go

  counts();
  $('no-events').hidden = false;
  $('no-requests').hidden = false;
  connect();
})();
