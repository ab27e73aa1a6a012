// Refusals of the management scope, each naming the member and scope involved.

import { Conflict } from '../errors';
import type { Scope } from './model';

/** A member managed through a folder or directory scope cannot be removed on its own. */
export class ManagedByScope extends Conflict {
  constructor(accountId: string, scopes: readonly Pick<Scope, 'id' | 'kind' | 'targetId'>[]) {
    const names = scopes.map((s) => `${s.kind} scope ${s.id}`).join(' and ');
    super(
      'ManagedByScope',
      `Member ${accountId} is managed through ${names}; it cannot be removed on its own. Move the account out of that folder, or change or remove the scope.`,
      { accountId, scopes: scopes.map((s) => ({ id: s.id, kind: s.kind, targetId: s.targetId })) },
    );
  }
}
