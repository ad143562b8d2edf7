export { StatusWriter, type StatusWriterOptions } from './writer';
export { readStatus } from './read';
export { statusSnapshot, type StatusSnapshot } from './snapshot';
