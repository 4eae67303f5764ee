// Plugins and schedules: each plugin's state and reason with its mappings, and each schedule's state with Wake.
import { get, post } from '../api.js';
import { h, replace, badge, table, time, ago, duration, action, toast } from '../dom.js';

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
          { title: 'State', cell: (x) => h('span', null, badge(x.state), x.pausedReason
            ? h('div', { text: x.pausedReason }) : null) },
          { title: 'Every', cell: (x) => duration(x.intervalMs) },
          { title: 'Next run', cell: (x) => h('span', { title: time(x.nextRunAt), text: ago(x.nextRunAt) }) },
          { title: 'Last activity', cell: (x) => ago(x.lastActivityAt) },
          { title: '', cell: (x) => action('Wake', async () => {
            const r = await post('/api/v1/schedules/' + encodeURIComponent(x.mapping) + '/wake');
            toast('Woke ' + r.woken + ' schedule' + (r.woken === 1 ? '' : 's') + ' of ' + x.mapping);
            load();
          }, { 'aria-label': 'Wake ' + x.mapping, class: 'wake' }) },
        ], s.schedules, 'No schedule: the connection is not set up yet.')));
  };
  await load();
  return null;
}
