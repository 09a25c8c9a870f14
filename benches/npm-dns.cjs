// Preloaded into npm (NODE_OPTIONS=--require) by benches/compare.sh: resolves the Sigstore TUF
// CDN host name to 127.0.0.1, where the benchmark serves the corpus copy of the TUF repository
// over https. Only that one name is touched; this replaces an /etc/hosts entry (nothing global
// to clean up if the script is killed).
'use strict'
const dns = require('dns')
const HOST = 'tuf-repo-cdn.sigstore.dev'
const orig = dns.lookup
dns.lookup = function lookup (hostname, options, callback) {
  if (hostname === HOST) {
    if (typeof options === 'function') {
      callback = options
      options = {}
    }
    const family = typeof options === 'number' ? options : (options && options.family) || 4
    if (options && options.all) {
      return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }])
    }
    return process.nextTick(callback, null, '127.0.0.1', family === 6 ? 4 : 4)
  }
  return orig.apply(this, arguments)
}
