// FC handler of the session-index function (SLS log trigger on the central Logstore): indexes the
// Bastionhost O&M session records of each delivered cursor range.
import { defineFunction } from '../../shared/runtime/function';
import { sessionIndexFunction } from '../../shared/wiring/sessions';

export const handler = defineFunction(sessionIndexFunction);
