export * from './connection';
export { knexConfig } from './knexfile';
