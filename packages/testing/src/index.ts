export * from './wait';
export * from './processes';
export * from './fakes';
export * from './ports';
export * from './private-database';
export * from './pausable-proxy';
export * from './memory-logger';
export * from './client-fields';
