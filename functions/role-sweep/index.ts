// FC handler of the role-sweep function (timer trigger): fans every managed member out, in
// chunks, to role-check-worker with FC async invocation.
import { defineFunction } from '../../shared/runtime/function';
import { roleSweepFunction } from '../../shared/wiring/sweep';

export const handler = defineFunction(roleSweepFunction);
