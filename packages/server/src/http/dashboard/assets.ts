/**
 * The dashboard's script and style sheet, served by the server itself (no CDN, no framework). The script
 * sends the pages' forms and buttons as JSON with the CSRF header, and polls the live feed.
 */

export const DASHBOARD_SCRIPT = `'use strict';
(() => {
  const csrf = document.querySelector('meta[name="dashboard-csrf"]')?.getAttribute('content') ?? '';
  // The token of a first visit is in the cookie now: keep it out of the address bar and history.
  if (new URL(location.href).searchParams.has('token')) {
    const url = new URL(location.href);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search);
  }

  async function send(method, url, body, status) {
    const headers = { Accept: 'application/json', 'X-Dashboard-Csrf': csrf };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    status.textContent = 'sending…';
    status.className = 'result';
    const res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
    if (res.ok) {
      status.textContent = 'done';
      setTimeout(() => location.reload(), 150);
      return;
    }
    let text = res.status + '';
    try {
      const err = await res.json();
      text = res.status + ' ' + err.code + ': ' + err.message + (err.detail?.issue ? ' (' + err.detail.issue + ')' : '');
    } catch {}
    status.textContent = text;
    status.className = 'result error';
  }

  function fieldsOf(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === 'checkbox') {
        if (el.checked) body[el.name] = true;
        continue;
      }
      if (el.value === '') continue;
      body[el.name] = el.dataset.type === 'number' ? Number(el.value) : el.value;
    }
    return body;
  }

  function statusNear(el) {
    let status = el.parentElement.querySelector('.result');
    if (!status) {
      status = document.createElement('span');
      status.className = 'result';
      el.after(status);
    }
    return status;
  }

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.action) return;
    event.preventDefault();
    const body = fieldsOf(form);
    void send(form.dataset.method || 'POST', form.dataset.action, body, statusNear(form.lastElementChild));
  });
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (!button || button.form) return;
    event.preventDefault();
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
    void send(button.dataset.method || 'POST', button.dataset.action, body, statusNear(button));
  });

  const feed = document.getElementById('feed');
  if (!feed) return;
  const rows = feed.querySelector('tbody');
  const max = Number(feed.dataset.max || 200);
  let after = Number(feed.dataset.after || 0);
  const cell = (text, cls) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  };
  async function poll() {
    try {
      const res = await fetch('/dashboard/api/calls?after=' + after, { headers: { Accept: 'application/json' } });
      if (res.ok) {
        const page = await res.json();
        for (const call of page.data.slice().reverse()) {
          const tr = document.createElement('tr');
          tr.className = call.status >= 400 ? 'bad' : '';
          tr.dataset.seq = String(call.seq);
          tr.append(
            cell(new Date(call.at).toISOString().slice(11, 19)),
            cell(call.method),
          );
          const link = document.createElement('a');
          link.href = '/dashboard/calls/' + call.seq;
          link.textContent = call.path;
          const pathCell = cell('');
          pathCell.append(link);
          tr.append(pathCell, cell(String(call.status)), cell(call.code ?? ''), cell(call.ms + ' ms', 'num'),
            cell(call.mchid ?? ''), cell(call.requestId, 'mono'));
          rows.prepend(tr);
        }
        while (rows.children.length > max) rows.lastElementChild.remove();
        after = Math.max(after, page.latest);
        feed.dataset.after = String(after);
      }
    } catch {}
    setTimeout(poll, 1000);
  }
  void poll();
})();
`;

export const DASHBOARD_STYLE = `
:root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bad: #b42318; --ok: #067647; --bg: #f8f9fb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 18px; align-items: center; padding: 10px 20px; background: #101828; color: #fff; flex-wrap: wrap; }
header a { color: #d0d5dd; text-decoration: none; }
header a.here { color: #fff; font-weight: 600; }
header strong { margin-right: 12px; }
header form { margin-left: auto; }
main { padding: 16px 20px 40px; max-width: 1400px; }
h1 { font-size: 20px; margin: 4px 0 14px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; font-size: 13px; }
tr.bad td { color: var(--bad); }
.mono, pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
pre { background: #fff; border: 1px solid var(--line); padding: 10px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.num { text-align: right; white-space: nowrap; }
td.mono { word-break: break-all; }
.muted { color: var(--muted); }
.pager { margin: 10px 0; display: flex; gap: 14px; align-items: center; }
form.inline { display: inline-flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
input, select, button { font: inherit; padding: 3px 6px; }
button { cursor: pointer; }
.result { margin-left: 8px; color: var(--ok); }
.result.error { color: var(--bad); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; border: 1px solid var(--line); padding: 10px; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
`;
