export * from './listing-cache';
