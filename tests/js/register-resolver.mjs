// `node --import ./tests/js/register-resolver.mjs some/file.mjs` lets a script outside tests/js (the examples in
// docs/examples/) import the packages installed here, as if it lived in a project that depends on them.
import { register } from 'node:module'

register('./resolve-from-tests-js.mjs', import.meta.url)
