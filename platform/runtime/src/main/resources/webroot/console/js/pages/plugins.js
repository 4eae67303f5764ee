// Plugins and schedules: each plugin's state and reason with its mappings, and each schedule's state with Wake,
// Pause (with a reason, kept with who and when) and Resume.
import { get, post } from '../api.js';
import { h, replace, badge, table, time, ago, duration, action, toast } from '../dom.js';

/** Pause with a reason (required) and, optionally, who. */
function pauseForm(x, load) {
  const id = 'pause-' + x.mapping + '-' + x.kind;
  const reason = h('input', { type: 'text', id: id + '-reason', name: 'reason', maxlength: '500', required: true,
    placeholder: 'why' });
  const by = h('input', { type: 'text', id: id + '-by', name: 'by', maxlength: '100', placeholder: 'your name' });
  const error = h('p', { class: 'field-error', role: 'alert', id: id + '-error' });
  reason.setAttribute('aria-describedby', id + '-error');
  const form = h('form', { class: 'pause-form', id },
    h('label', { for: id + '-reason', class: 'sr-only', text: 'Reason to pause ' + x.mapping }), reason,
    h('label', { for: id + '-by', class: 'sr-only', text: 'Paused by' }), by,
    h('button', { type: 'submit', 'aria-label': 'Pause ' + x.mapping, text: 'Pause' }), error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      const body = { reason: reason.value };
      if (by.value.trim()) {
        body.by = by.value.trim();
      }
      const r = await post('/api/v1/schedules/' + encodeURIComponent(x.mapping) + '/pause', body);
      toast('Paused ' + r.paused + ' schedule' + (r.paused === 1 ? '' : 's') + ' of ' + x.mapping);
      load();
    } catch (e) {
      error.textContent = e.message;
      reason.setAttribute('aria-invalid', 'true');
      reason.focus();
    }
  });
  return form;
}

export default async function plugins(el) {
  const load = async () => {
    const [p, s] = await Promise.all([get('/api/v1/plugins'), get('/api/v1/schedules')]);
    replace(el, h('h1', { text: 'Plugins and schedules' }),
      h('section', { class: 'card', 'aria-labelledby': 'h-plugins' }, h('h2', { id: 'h-plugins', text: 'Plugins' }),
        table('Plugins', [
          { title: 'Plugin', cell: (x) => h('span', null, h('strong', { text: x.id }), ' ' + (x.version || ''),
            x.description ? h('div', { class: 'muted', text: x.description }) : null) },
          { title: 'File', cell: (x) => h('code', { text: x.path || '—' }) },
          { title: 'State', cell: (x) => h('span', null, badge(x.state), x.reason ? h('div', { text: x.reason })
            : null) },
          { title: 'Mappings', cell: (x) => (x.mappings || []).map((m) => h('div', null,
            h('a', { href: '#/mappings/' + encodeURIComponent(m.name), text: m.name }), ' ', badge(m.state),
            m.reason ? ' ' + m.reason : '', (m.notes || []).map((n) => h('div', { class: 'muted', text: n })))) },
        ], p.plugins, 'No plugin in the plugins directory.')),
      h('section', { class: 'card', 'aria-labelledby': 'h-schedules' },
        h('h2', { id: 'h-schedules', text: 'Schedules' }),
        table('Schedules', [
          { title: 'Mapping', cell: (x) => x.mapping },
          { title: 'Kind', cell: (x) => x.kind + (x.direction ? ' ' + x.direction : '') },
          { title: 'State', cell: (x) => h('span', { id: 'schedule-state-' + x.mapping + '-' + x.kind }, badge(x.state),
            x.pausedReason ? h('div', { class: 'message', text: x.pausedReason }) : null,
            x.pausedBy ? h('div', { class: 'muted', text: 'paused by ' + x.pausedBy + ', ' + ago(x.pausedAt) })
              : null) },
          { title: 'Every', cell: (x) => duration(x.intervalMs) },
          { title: 'Next run', cell: (x) => h('span', { title: time(x.nextRunAt), text: ago(x.nextRunAt) }) },
          { title: 'Last activity', cell: (x) => ago(x.lastActivityAt) },
          { title: '', cell: (x) => (x.state === 'DISABLED' ? null : h('div', { class: 'schedule-actions' },
            action(x.state === 'PAUSED' ? 'Resume' : 'Wake', async () => {
              const r = await post('/api/v1/schedules/' + encodeURIComponent(x.mapping) + '/wake');
              toast((x.state === 'PAUSED' ? 'Resumed ' : 'Woke ') + r.woken + ' schedule' + (r.woken === 1 ? '' : 's')
                + ' of ' + x.mapping);
              load();
            }, { 'aria-label': (x.state === 'PAUSED' ? 'Resume ' : 'Wake ') + x.mapping,
              class: x.state === 'PAUSED' ? 'resume' : 'wake' }),
            x.state === 'PAUSED' ? null : pauseForm(x, load))) },
        ], s.schedules, 'No schedule: the connection is not set up yet.')));
  };
  await load();
  return null;
}
