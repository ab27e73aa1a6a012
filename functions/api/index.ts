// FC handler of the API function (HTTP trigger). Decode the event, run the app, encode the
// response; everything else lives in shared/.
import { apiFunction } from '../../shared/http/api';
import { serveHttpEvent } from '../../shared/runtime/http';

// Cold start: configuration is parsed here, once; a missing or invalid variable stops the start
// with a ConfigurationError naming it.
const api = apiFunction();

export async function handler(event: Buffer, context: unknown) {
  return serveHttpEvent(api.app, event, context, api.logger);
}
