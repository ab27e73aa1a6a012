// Which accounts a request may see and change: everything for a token without a scope claim;
// for a scoped token the accounts it lists and every account in a folder it lists or below it,
// evaluated against the directory as it is now (an account moved out is no longer visible).
// Routes adopt it in a line: `const visible = await visibilityOf(c)` (app.ts), then `visible.sees(id)`
// to filter what they answer, `visible.requireAccounts([...])` / `requireFolder(id)` before a
// change (403 OutsideTokenScope naming what is outside, before anything is written), and
// `requireUnscoped(what)` for changes that reach the whole organization.

import type { DirectorySnapshot } from '../directory/model';
import { type AccountFilter, EVERY_ACCOUNT } from '../domain/paging';
import { OutsideTokenScope } from '../errors';
import { type Principal, scopeEntries } from './auth';

export interface Visibility {
  /** Whether the token is limited at all. */
  readonly scoped: boolean;
  /** The token's scope entries (folder ids, account ids), for the activity log; [] unscoped. */
  readonly entries: readonly string[];
  /** The accounts a scoped token sees, in order (for a search to filter on); undefined unscoped. */
  readonly accountIds: readonly string[] | undefined;
  sees(accountId: string): boolean;
  /** The filter a listing applies before paging: what `filter` keeps (no account: unscoped only). */
  readonly admits: AccountFilter;
  /** Whether a folder is one of the token's folders or below one. */
  seesFolder(folderId: string): boolean;
  /** Keeps the items whose account is visible (items without an account only when unscoped). */
  filter<T>(items: readonly T[], accountOf: (item: T) => string | undefined): T[];
  requireAccounts(accountIds: readonly string[]): void;
  requireFolder(folderId: string): void;
  /** Refuses a scoped token: `what` reaches the whole organization. */
  requireUnscoped(what: string): void;
}

export const EVERYTHING: Visibility = {
  scoped: false,
  entries: [],
  accountIds: undefined,
  sees: () => true,
  admits: EVERY_ACCOUNT,
  seesFolder: () => true,
  filter: (items) => [...items],
  requireAccounts: () => {},
  requireFolder: () => {},
  requireUnscoped: () => {},
};

/** The visibility of a principal over the directory snapshot. */
export function visibilityIn(
  principal: Principal | undefined,
  directory: DirectorySnapshot,
): Visibility {
  const scope = principal?.scope;
  if (scope === undefined) return EVERYTHING;
  const entries = scopeEntries(scope);
  const children = new Map<string, string[]>();
  for (const folder of directory.folders) {
    if (folder.parentId === null) continue;
    children.set(folder.parentId, [...(children.get(folder.parentId) ?? []), folder.id]);
  }
  const folders = new Set<string>();
  const visit = (id: string) => {
    if (folders.has(id)) return;
    folders.add(id);
    for (const child of children.get(id) ?? []) visit(child);
  };
  for (const id of scope.folderIds) visit(id);
  const accounts = new Set(
    scope.accountIds.filter((id) => directory.members.some((m) => m.accountId === id)),
  );
  for (const member of directory.members) {
    if (folders.has(member.folderId)) accounts.add(member.accountId);
  }
  const refuse = (outside: string[], what: string): never => {
    throw new OutsideTokenScope(
      `${what} is outside this token's scope (${entries.join(', ') || 'nothing'}): ${outside.join(', ')}`,
      { outside, tokenScope: entries },
    );
  };
  const admits: AccountFilter = (accountId) => accountId !== undefined && accounts.has(accountId);
  return {
    scoped: true,
    entries,
    accountIds: [...accounts].sort(),
    sees: (accountId) => accounts.has(accountId),
    admits,
    seesFolder: (folderId) => folders.has(folderId),
    filter: (items, accountOf) => items.filter((item) => admits(accountOf(item))),
    requireAccounts(accountIds) {
      const outside = accountIds.filter((id) => !accounts.has(id));
      if (outside.length > 0)
        refuse(outside, outside.length === 1 ? 'The account' : 'The accounts');
    },
    requireFolder(folderId) {
      if (!folders.has(folderId)) refuse([folderId], 'The folder');
    },
    requireUnscoped(what) {
      refuse([what], 'A change to the whole organization');
    },
  };
}
