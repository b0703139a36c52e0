export { teardown as default } from './runtimes-left.mjs';
