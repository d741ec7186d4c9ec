// Every route of the API, in one list: the router and the OpenAPI document are both built from it.
import type { RouteSpec } from '../http/route';
import type { AppDeps } from '../deps';
import { healthRoutes } from './health/health.router';
import { utilsRoutes } from './utils/utils.router';

export function allRoutes(deps: AppDeps): RouteSpec[] {
  return [...healthRoutes(deps), ...utilsRoutes()];
}
