/* Krate console: live lists from the watch stream, confirmations for forms
 * with data-confirm, the org switcher submitting on change, copy buttons for
 * clone URLs, the dispatch form's branch list and a run's live transcript.
 * Pages work without this file; it only keeps them current. */
(function () {
  'use strict';

  document.documentElement.classList.add('js');

  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
      e.preventDefault();
    }
  }, true);

  /* Copy buttons (button[data-copy=ID]) copy the value of input#ID. */
  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('button[data-copy]');
    var input = b && document.getElementById(b.dataset.copy);
    if (!input) return;
    input.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(function () { b.textContent = 'Copied'; }, function () {});
    }
  });

  var orgSelect = document.getElementById('org-select');
  if (orgSelect) {
    orgSelect.addEventListener('change', function () {
      if (orgSelect.value) orgSelect.form.submit();
    });
  }

  function age(ts) {
    var s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
    if (isNaN(s)) return ts;
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm';
    if (s < 86400) return Math.floor(s / 3600) + 'h';
    if (s < 365 * 86400) return Math.floor(s / 86400) + 'd';
    return Math.floor(s / (365 * 86400)) + 'y';
  }

  function cell(tr, cls) {
    var td = document.createElement('td');
    td.className = cls;
    tr.appendChild(td);
    return td;
  }

  /* The same markup as the server's rows (page_resources.c render_row). */
  function buildRow(table, obj) {
    var md = obj.metadata || {}, st = obj.status || {};
    var tr = document.createElement('tr'), td, el;
    tr.dataset.name = md.name;
    el = document.createElement('a');
    el.href = table.dataset.base + encodeURIComponent(md.name);
    el.textContent = md.name;
    cell(tr, 'name').appendChild(el);
    td = cell(tr, 'phase');
    if (typeof st.phase === 'string') {
      el = document.createElement('span');
      el.className = 'badge';
      el.dataset.phase = st.phase;
      el.textContent = st.phase;
      td.appendChild(el);
    }
    td = cell(tr, 'age');
    if (md.creationTimestamp) {
      el = document.createElement('time');
      el.dateTime = md.creationTimestamp;
      el.title = md.creationTimestamp;
      el.textContent = age(md.creationTimestamp);
      td.appendChild(el);
    }
    return tr;
  }

  function findRow(body, name) {
    for (var i = 0; i < body.rows.length; i++) {
      if (body.rows[i].dataset.name === name) return body.rows[i];
    }
    return null;
  }

  function syncEmpty(table) {
    var block = table.parentNode, empty = block.querySelector('.empty-state');
    var n = table.tBodies[0].rows.length;
    table.classList.toggle('is-empty', n === 0);
    if (n && empty) {
      empty.parentNode.removeChild(empty);
    } else if (!n && !empty) {
      empty = document.createElement('p');
      empty.className = 'empty-state';
      empty.textContent = table.dataset.empty || 'Nothing here yet.';
      block.appendChild(empty);
    }
  }

  function tableFor(root, kind) {
    if (root.tagName === 'TABLE') return root.dataset.kind === kind ? root : null;
    var tables = root.querySelectorAll('table[data-kind]');
    for (var i = 0; i < tables.length; i++) {
      if (tables[i].dataset.kind === kind) return tables[i];
    }
    return null;
  }

  function apply(root, ev) {
    var obj = ev.object || {}, name = obj.metadata && obj.metadata.name;
    var table = name && tableFor(root, obj.kind);
    if (!table) return;
    var body = table.tBodies[0], row = findRow(body, name);
    if (ev.type === 'DELETED') {
      if (row) body.removeChild(row);
    } else {
      var fresh = buildRow(table, obj);
      if (row) {
        body.replaceChild(fresh, row);
      } else {
        var next = null;
        for (var i = 0; i < body.rows.length && !next; i++) {
          if (body.rows[i].dataset.name > name) next = body.rows[i];
        }
        body.insertBefore(fresh, next);
      }
      fresh.classList.add('changed');
    }
    syncEmpty(table);
  }

  /* One stream per element. The server prefers ?resourceVersion over
   * Last-Event-ID, so reconnects reopen the URL with the last id seen. */
  function watch(root) {
    var last = root.dataset.rv || '0', delay = 1000;
    function open() {
      var es = new EventSource(root.dataset.watch + '?resourceVersion=' + encodeURIComponent(last));
      es.addEventListener('krate', function (m) {
        if (m.lastEventId) last = m.lastEventId;
        delay = 1000;
        try {
          apply(root, JSON.parse(m.data));
        } catch (err) {
          /* a malformed frame is skipped; the next one still applies */
        }
      });
      es.addEventListener('error', function (m) {
        es.close();
        if (m.data && m.data.indexOf('EXPIRED') >= 0) {
          /* too far behind to resume: the page itself is stale */
          window.location.reload();
          return;
        }
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    open();
  }

  var roots = document.querySelectorAll('[data-watch]');
  for (var i = 0; i < roots.length; i++) watch(roots[i]);

  /* The dispatch form: picking a repository loads its branches (the API's
   * branch list, with the session cookie) into the branch select. */
  function loadBranches(repoSelect) {
    var target = document.getElementById(repoSelect.dataset.branches);
    if (!target || !target.dataset.api || !window.fetch) return;
    fetch(target.dataset.api + encodeURIComponent(repoSelect.value) + '/branches', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (list) {
        var items = list.items || [];
        while (target.firstChild) target.removeChild(target.firstChild);
        for (var k = 0; k < items.length; k++) {
          var o = document.createElement('option');
          o.value = o.textContent = items[k].name;
          o.selected = items[k].name === list['default'];
          target.appendChild(o);
        }
      }, function () { /* the API will say which branch is wrong */ });
  }
  var repoSelects = document.querySelectorAll('select[data-branches]');
  for (var j = 0; j < repoSelects.length; j++) {
    repoSelects[j].addEventListener('change', function (e) { loadBranches(e.target); });
  }

  /* A run's page (page_agents_runs.c): its event stream's transcript
   * messages are appended as text, in the server's markup (render_message);
   * the phase badge follows the run; once the run has finished the page
   * reloads, so its attempts and artifacts show as stored. */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function usageText(u) {
    var t = (u.inputTokens || 0) + ' in / ' + (u.outputTokens || 0) + ' out';
    if (typeof u.costUsd === 'number') t += ', $' + u.costUsd.toFixed(4);
    return t;
  }

  function transcriptItem(m) {
    var type = typeof m.type === 'string' ? m.type : 'message';
    var li = el('li', 'msg fresh'), head = el('div', 'msg-head');
    li.dataset.type = type;
    if (typeof m.seq === 'number') li.dataset.seq = String(m.seq);
    head.appendChild(el('span', 'msg-role', typeof m.role === 'string' && m.role ? m.role : type));
    if (type !== 'message') {
      head.appendChild(document.createTextNode(' '));
      head.appendChild(el('span', 'msg-type', type));
    }
    if (typeof m.name === 'string') {
      head.appendChild(document.createTextNode(' '));
      head.appendChild(el('code', 'msg-name', m.name));
    }
    li.appendChild(head);
    if (type === 'usage' && (m.inputTokens !== undefined || m.outputTokens !== undefined))
      li.appendChild(el('p', 'msg-usage', usageText(m)));
    if (typeof m.content === 'string' && m.content) li.appendChild(el('pre', 'msg-content', m.content));
    if (m.input !== undefined && m.input !== null) li.appendChild(el('pre', 'msg-input', JSON.stringify(m.input, null, 2)));
    return li;
  }

  function attemptBlock(root, m) {
    var blocks = root.querySelectorAll('section.transcript-attempt');
    for (var k = 0; k < blocks.length; k++) {
      if (blocks[k].dataset.attempt === m.attempt) return blocks[k];
    }
    var block = el('section', 'transcript-attempt');
    block.dataset.attempt = m.attempt;
    block.dataset.number = String(m.number);
    block.appendChild(el('h3', '', 'Attempt ' + m.number));
    block.appendChild(el('ol', 'messages'));
    root.insertBefore(block, root.querySelector('.transcript-empty'));
    return block;
  }

  function appendMessage(root, m) {
    if (typeof m.attempt !== 'string') return;
    var list = attemptBlock(root, m).querySelector('ol.messages');
    if (typeof m.seq === 'number' && list.querySelector('li[data-seq="' + m.seq + '"]')) return;
    list.appendChild(transcriptItem(m));
    var empty = root.querySelector('.transcript-empty');
    if (empty) empty.hidden = true;
  }

  function showPhase(ev) {
    var holder = document.getElementById('run-phase'), reason = document.getElementById('run-reason');
    if (holder && typeof ev.phase === 'string') {
      var badge = el('span', 'badge', ev.phase);
      badge.dataset.phase = ev.phase;
      holder.replaceChildren(badge);
    }
    if (reason) {
      reason.querySelector('.reason-code').textContent = ev.reason || '';
      reason.querySelector('.message').textContent = ev.message || '';
    }
  }

  function follow(root) {
    var base = new URL(root.dataset.events, window.location.href), last = base.searchParams.get('lastEventId');
    var delay = 1000;
    function open() {
      if (last) base.searchParams.set('lastEventId', last);
      var es = new EventSource(base.toString());
      function parsed(m, fn) {
        if (m.lastEventId) last = m.lastEventId;
        delay = 1000;
        try {
          fn(JSON.parse(m.data));
        } catch (err) {
          /* a malformed frame is skipped */
        }
      }
      es.addEventListener('transcript', function (m) { parsed(m, function (v) { appendMessage(root, v); }); });
      es.addEventListener('phase', function (m) { parsed(m, showPhase); });
      es.addEventListener('end', function (m) {
        es.close();
        parsed(m, showPhase);
        window.setTimeout(function () { window.location.reload(); }, 300);
      });
      es.addEventListener('error', function () {
        /* dropped or refused: try again from the last message seen */
        es.close();
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    open();
  }

  var transcript = document.getElementById('transcript');
  if (transcript && transcript.dataset.events && window.EventSource) follow(transcript);
})();
