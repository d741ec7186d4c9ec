export * from './names';
export * from './payloads';
export * from './options';
export * from './connection';
export * from './producers';
export * from './workers';
export type { Job, Worker, Queue } from 'bullmq';
export type { Redis } from 'ioredis';
export { UnrecoverableError, DelayedError } from 'bullmq';
