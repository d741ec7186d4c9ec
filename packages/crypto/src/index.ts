export * from './passwords';
export * from './password-pool';
export * from './tokens';
export * from './field-encryption';
export * from './search-hash';
export * from './unsubscribe-token';
