// FC handler of the reconcile function (timer trigger): every scope against the directory.
import { defineFunction } from '../../shared/runtime/function';
import { reconcileFunction } from '../../shared/wiring/membership';

export const handler = defineFunction(reconcileFunction);
