// Module resolution hook: a bare specifier ('@tastytrade/api', 'ws') that the importing file cannot resolve is
// resolved from tests/js instead (its node_modules), so the docs examples run against the pinned packages.
const HERE = new URL('./package.json', import.meta.url).href

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context)
  } catch (error) {
    const bare = !specifier.startsWith('.') && !specifier.startsWith('/') && !specifier.includes(':')
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !bare) throw error
    return nextResolve(specifier, { ...context, parentURL: HERE })
  }
}
