export { setup as default } from './runtimes-left.mjs';
