export * from './wait';
export * from './processes';
