// The activity log's actions are listed once (shared/domain/activity.ts) and documented once
// (README, "Activity log actions"): the two must say the same, action by action.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_ACTIONS } from '../../../shared/domain/activity';

function documentedActions(): Array<{ action: string; outcome: string; meaning: string }> {
  const readme = readFileSync(
    fileURLToPath(new URL('../../../README.md', import.meta.url)),
    'utf8',
  );
  const start = readme.indexOf('**Activity log actions.**');
  expect(start).toBeGreaterThan(0);
  const lines = readme.slice(start).split('\n');
  const table = lines.slice(lines.findIndex((l) => l.startsWith('| action |')) + 2);
  const rows: Array<{ action: string; outcome: string; meaning: string }> = [];
  for (const line of table) {
    if (!line.startsWith('| ')) break;
    const [action = '', outcome = '', meaning = ''] = line
      .slice(2, -2)
      .split(' | ')
      .map((cell) => cell.trim());
    rows.push({ action: action.replace(/`/g, ''), outcome, meaning: meaning.replace(/`/g, '') });
  }
  return rows;
}

describe('activity log actions', () => {
  it('the README lists every action with its outcome and meaning, and no other', () => {
    const listed = Object.entries(ACTIVITY_ACTIONS).map(([action, { outcome, meaning }]) => ({
      action,
      outcome,
      meaning: meaning.replace(/`/g, ''),
    }));
    expect(documentedActions()).toEqual(listed);
  });
});
