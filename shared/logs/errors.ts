// Refusals of log integration, each naming the template, members or data source involved and
// what to do instead.

import { Conflict, InvalidRequest, NotFound } from '../errors';

export class UnknownTemplate extends NotFound {
  constructor(templateId: string, known: readonly string[]) {
    super(`There is no log template ${templateId}; the templates are ${known.join(', ')}`, {
      details: { templateId, templates: [...known] },
    });
  }
}

/** Template ids in a request body that name no template: the caller's mistake (400). */
export class UnknownTemplateIds extends InvalidRequest {
  constructor(ids: readonly string[], known: readonly string[]) {
    super(`Unknown template ids: ${ids.join(', ')}`, [
      {
        location: 'body',
        field: 'templateIds',
        message: `${ids.join(', ')} ${ids.length === 1 ? 'is' : 'are'} not a template; the templates are ${known.join(', ')}`,
      },
    ]);
  }
}

export interface NotIntegrableAccount {
  accountId: string;
  reason: string;
}

/** Only managed members whose scope enables log-integration can be integrated. */
export class NotIntegrable extends Conflict {
  constructor(accounts: readonly NotIntegrableAccount[]) {
    super(
      'NotIntegrable',
      `${accounts.length === 1 ? 'Account' : 'Accounts'} ${accounts.map((a) => a.accountId).join(', ')} cannot be integrated: ${accounts.map((a) => `${a.accountId}: ${a.reason}`).join('; ')}. Only managed members whose scope enables the log-integration service can be; nothing was changed.`,
      { accounts: accounts.map((a) => ({ ...a })) },
    );
  }
}

/** Manual integration adds only members not yet integrated with the template. */
export class AlreadyIntegrated extends Conflict {
  constructor(templateId: string, accountIds: readonly string[]) {
    super(
      'AlreadyIntegrated',
      `${accountIds.join(', ')} ${accountIds.length === 1 ? 'is' : 'are'} already integrated with template ${templateId}; change ${accountIds.length === 1 ? 'its policy' : 'their policies'} with PATCH /v1/log-templates/${templateId}/accounts/{accountId}. Nothing was changed.`,
      { templateId, accountIds: [...accountIds] },
    );
  }
}

export class PolicyNotFound extends NotFound {
  constructor(templateId: string, accountId: string) {
    super(`Account ${accountId} is not integrated with template ${templateId}`, {
      details: { templateId, accountId },
    });
  }
}

/** A member is removed from a template only once its policy is disabled. */
export class PolicyEnabled extends Conflict {
  constructor(templateId: string, accountId: string) {
    super(
      'PolicyEnabled',
      `The integration of account ${accountId} with template ${templateId} is enabled: disable it first (PATCH /v1/log-templates/${templateId}/accounts/${accountId} with {"enabled": false}), then remove it.`,
      { templateId, accountId },
    );
  }
}

export class DataSourceNotFound extends NotFound {
  constructor(name: string) {
    super(`There is no data source ${name}`, { details: { name } });
  }
}

/** A data source whose policy is enabled would be made again by the next planning run. */
export class DataSourceInUse extends Conflict {
  constructor(name: string, templateId: string, accountId: string) {
    super(
      'DataSourceInUse',
      `Data source ${name} belongs to the enabled integration of account ${accountId} with template ${templateId}: disable it first (PATCH /v1/log-templates/${templateId}/accounts/${accountId} with {"enabled": false}), then delete the data source.`,
      { name, templateId, accountId },
    );
  }
}
