// A connection check list: name, result, message and what to do when it failed.
import { h, badge, table } from '../dom.js';

export function checksTable(checks, caption = 'Checks') {
  return table(caption, [
    { title: 'Check', cell: (c) => h('code', { text: c.name }) },
    { title: 'Result', cell: (c) => badge(c.state || (c.ok ? 'ok' : 'failed')) },
    { title: 'Message', cell: (c) => c.message || '' },
    { title: 'What to do', cell: (c) => c.remedy || '' },
  ], checks || [], 'No check has run.');
}

/** The checks an API error carries (422 check_failed), else null. */
export function failedChecks(e) {
  return e && e.body && Array.isArray(e.body.checks) ? checksTable(e.body.checks, 'Failed checks') : null;
}
