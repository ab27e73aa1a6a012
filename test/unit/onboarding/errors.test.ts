// The management scope's refusals say which member and which scopes, and how to get past them.

import { describe, expect, it } from 'vitest';
import { ManagedByScope } from '../../../shared/onboarding/errors';

describe('ManagedByScope', () => {
  it('names the member and every scope that manages it, as a 409', () => {
    const error = new ManagedByScope('111', [
      { id: 'folder:fd-1', kind: 'folder', targetId: 'fd-1' },
      { id: 'directory:rd-1', kind: 'directory', targetId: 'rd-1' },
    ]);
    expect(error).toMatchObject({
      status: 409,
      code: 'ManagedByScope',
      message:
        'Member 111 is managed through folder scope folder:fd-1 and directory scope directory:rd-1; it cannot be removed on its own. Move the account out of that folder, or change or remove the scope.',
      details: {
        accountId: '111',
        scopes: [
          { id: 'folder:fd-1', kind: 'folder', targetId: 'fd-1' },
          { id: 'directory:rd-1', kind: 'directory', targetId: 'rd-1' },
        ],
      },
    });
  });
});
