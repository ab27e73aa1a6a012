// FC handler of the API function (HTTP trigger): routes, auth and use cases are built in
// shared/wiring/api.ts; configuration is parsed at cold start, once.
import { defineFunction } from '../../shared/runtime/function';
import { apiFunction } from '../../shared/wiring/api';

export const handler = defineFunction(apiFunction);
