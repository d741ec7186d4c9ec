// The in-memory logger now lives in @nudge/testing, for every workspace's tests.
export { memoryLogger, type LogLine } from '@nudge/testing';
