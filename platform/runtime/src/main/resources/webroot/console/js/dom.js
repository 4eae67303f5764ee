// Building the page: elements from data, never HTML from strings, so no value can become markup.

/**
 * @param {string} tag e.g. 'div' or 'button'
 * @param {object} props class, text, on<event> handlers, attributes (false/null leave one out)
 * @param {...any} children nodes, strings, arrays, null
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) {
      continue;
    }
    if (k === 'class') {
      el.className = v;
    } else if (k === 'text') {
      el.textContent = v;
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'value') {
      el.value = v;
    } else if (k === 'checked' || k === 'selected' || k === 'disabled') {
      el[k] = Boolean(v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else if (c instanceof Node) {
      el.appendChild(c);
    } else {
      el.appendChild(document.createTextNode(String(c)));
    }
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A date-time as the browser's locale shows it, or a dash. */
export function time(iso) {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

/** How long ago (or ahead) a date-time is, in words. */
export function ago(iso, now = Date.now()) {
  if (!iso) {
    return '—';
  }
  const ms = now - new Date(iso).getTime();
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 60 ? s + ' s' : s < 3600 ? Math.round(s / 60) + ' min' : s < 86400
    ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' d';
  return ms >= 0 ? text + ' ago' : 'in ' + text;
}

/** A duration in ms, in words. */
export function duration(ms) {
  if (ms === null || ms === undefined) {
    return '—';
  }
  if (ms < 1000) {
    return ms + ' ms';
  }
  const s = ms / 1000;
  return s < 120 ? s.toFixed(1) + ' s' : Math.round(s / 60) + ' min';
}

/** A status as a badge whose class follows its meaning. */
export function badge(status) {
  const s = String(status || '—');
  const u = s.toUpperCase();
  let tone = 'neutral';
  if (/^(SUCCEEDED|SUCCESS|ACTIVE|ENABLED|STARTED|CONNECTED|ALIVE|DONE|OK|COUPLED|CREATED)$/.test(u)) {
    tone = 'good';
  } else if (/^(FAILED|ERROR|DISABLED|DEAD|HELD|PAUSED|NOT CONNECTED|NO_MATCH|AMBIGUOUS)$/.test(u)
      || u.startsWith('DISABLED')) {
    tone = 'bad';
  } else if (/^(RUNNING|IN_PROCESS|QUEUED|WAITING|ON_HOLD|PARTIAL|DEGRADED|OPEN|SKIPPED|PENDING|TAKEN)$/.test(u)) {
    tone = 'warn';
  }
  return h('span', { class: 'badge ' + tone, text: s });
}

/** A table: columns [{title, cell(row) -> node|string}], rows; a caption; a text for no rows. */
export function table(caption, columns, rows, empty = 'Nothing to show.') {
  if (!rows || rows.length === 0) {
    return h('p', { class: 'muted empty', text: empty });
  }
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', null,
      h('caption', { class: 'sr-only', text: caption }),
      h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', text: c.title })))),
      h('tbody', null, rows.map((r) => h('tr', null, columns.map((c) => h('td', { 'data-label': c.title },
        c.cell(r))))))));
}

/** A definition list from [label, value] pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter((p) => p).map(([k, v]) => [h('dt', { text: k }),
    h('dd', null, v === null || v === undefined || v === '' ? '—' : v)]));
}

/** A message for a failed call, with the API's words. */
export function failure(e) {
  return h('div', { class: 'alert bad', role: 'alert' }, h('strong', { text: 'Failed: ' }),
    e && e.message ? e.message : String(e));
}

let toastTimer = null;

/** A short notice in the live region. */
export function toast(text) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.classList.add('shown');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove('shown'), 4000);
}

/** A button that runs an async action, disabled while it runs, its error shown after it. */
export function action(label, run, props = {}) {
  const out = h('span', { class: 'action-result' });
  const b = h('button', {
    type: 'button',
    ...props,
    onclick: async () => {
      b.disabled = true;
      replace(out);
      try {
        await run(out);
      } catch (e) {
        replace(out, failure(e));
      } finally {
        b.disabled = false;
      }
    },
  }, label);
  return h('span', { class: 'action' }, b, out);
}

/** A labelled form control; returns the wrapper with .input and .error set. */
export function field(label, input, hint) {
  const id = input.id || 'f-' + Math.random().toString(36).slice(2, 9);
  input.id = id;
  const error = h('p', { class: 'field-error', id: id + '-error', role: 'alert' });
  input.setAttribute('aria-describedby', id + '-error');
  const wrap = h('div', { class: 'field' }, h('label', { for: id, text: label }), input,
    hint ? h('p', { class: 'hint', text: hint }) : null, error);
  wrap.input = input;
  wrap.error = error;
  return wrap;
}

/** A select of options (strings or [value, label]). */
export function select(name, options, current) {
  return h('select', { name }, options.map((o) => {
    const [v, l] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === current }, l);
  }));
}

/**
 * Shows an API error next to the fields it names. The API names fields in its messages ("direction: …",
 * "field 'skipAfterRepeats' …", "erp.url: …; crm.tokenUrl: …"); each part goes to the first field it names, the
 * rest to the form's general error.
 *
 * @param {object} fields name -> field wrapper (from field())
 * @param {HTMLElement} general where the parts that name no field go
 * @param {Error} e the error
 * @return {number} how many parts went to a field
 */
export function fieldErrors(fields, general, e) {
  for (const f of Object.values(fields)) {
    f.error.textContent = '';
    f.input.removeAttribute('aria-invalid');
  }
  replace(general);
  const message = e && e.message ? e.message : String(e);
  const rest = [];
  let placed = 0;
  // Longest names first, so "erp.accessKey" wins over "erp".
  const names = Object.keys(fields).sort((a, b) => b.length - a.length);
  for (const part of message.split(/;\s+/)) {
    const name = names.find((n) => new RegExp('(^|[^\\w.\\[\\]])' + n.replace(/[.[\]]/g, '\\$&')
      + '(?![\\w])').test(part));
    if (name) {
      const f = fields[name];
      f.error.textContent = (f.error.textContent ? f.error.textContent + ' ' : '') + part;
      f.input.setAttribute('aria-invalid', 'true');
      placed++;
    } else {
      rest.push(part);
    }
  }
  if (rest.length) {
    replace(general, failure(new Error(rest.join('; '))));
  }
  const first = Object.values(fields).find((f) => f.input.getAttribute('aria-invalid') === 'true');
  if (first) {
    first.input.focus();
  }
  return placed;
}
