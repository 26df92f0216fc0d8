/* Krate console: live lists from the watch stream, confirmations for forms
 * with data-confirm, the org switcher submitting on change, and copy buttons
 * for clone URLs. Pages work without this file; it only keeps them current. */
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
})();
