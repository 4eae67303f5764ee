// The multiplexed event stream of the jobs and errors of every node (GET /api/v1/events): one EventSource per page,
// closed when the page goes.

/**
 * @param {object} handlers event name -> function(data)
 * @param {function} onLost called when the stream is closed for good (the node refused it or went away)
 * @return {function} closes the stream
 */
export function subscribe(handlers, onLost) {
  const source = new EventSource('/api/v1/events');
  for (const [name, f] of Object.entries(handlers)) {
    source.addEventListener(name, (ev) => {
      try {
        f(JSON.parse(ev.data));
      } catch (e) {
        // one malformed event is skipped
      }
    });
  }
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED && onLost) {
      onLost();
    }
  });
  return () => source.close();
}
