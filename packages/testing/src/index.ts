export * from './wait';
export * from './processes';
export * from './fakes';
