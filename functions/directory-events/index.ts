// FC handler of the directory-events function (EventBridge trigger): Resource Directory
// changes recorded by ActionTrail reconcile the accounts they concern.
import { defineFunction } from '../../shared/runtime/function';
import { directoryEventsFunction } from '../../shared/wiring/membership';

export const handler = defineFunction(directoryEventsFunction);
