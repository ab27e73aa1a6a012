import { apiRoutes } from './shared/wiring/api';
import { openApiDocument } from './shared/http/openapi';
import { API_INFO } from './shared/http/openapi-routes';
const r = apiRoutes({} as never);
console.log(JSON.stringify(openApiDocument(r, API_INFO), null, 1));
