// Keeps the organization's changes (members added, moved, removed; roles created or deleted)
// across restarts when localcloud runs with a data directory: the state is written after every
// change and restored on start if it belongs to the same fixture.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Organization, OrganizationState } from './organization';

export const ORGANIZATION_STATE_FILE = 'organization.json';

export interface OrganizationPersistence {
  /** True when saved state was loaded instead of the fixture's. */
  restored: boolean;
  /** Writes a pending change now (on stop). */
  flush(): void;
}

/** Restores saved state (if any) and saves after every change. */
export function persistOrganization(
  organization: Organization,
  dataDir: string,
): OrganizationPersistence {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, ORGANIZATION_STATE_FILE);
  let restored = false;
  if (existsSync(path)) {
    try {
      const state = JSON.parse(readFileSync(path, 'utf8')) as OrganizationState;
      restored = organization.restoreState(state);
    } catch (error) {
      throw new Error(
        `cannot read the saved organization ${path}: ${(error as Error).message}. Delete the file to start from the fixture again.`,
      );
    }
  }
  let pending = false;
  let upToDateOnDisk = restored;
  const save = () => {
    if (!pending && upToDateOnDisk) return; // nothing changed since the last write
    pending = false;
    upToDateOnDisk = true;
    const temporary = `${path}.tmp`;
    writeFileSync(temporary, JSON.stringify(organization.toState()), { mode: 0o600 });
    renameSync(temporary, path);
  };
  organization.onChange(() => {
    if (pending) return;
    pending = true;
    setImmediate(save);
  });
  if (!restored) save();
  return { restored, flush: save };
}
