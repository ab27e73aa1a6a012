// The refusals of log integration: status, code, the wording naming what is involved (singular
// and plural), what to do instead, and the details a client reads.

import { describe, expect, it } from 'vitest';
import {
  AlreadyIntegrated,
  DataSourceInUse,
  DataSourceNotFound,
  NotIntegrable,
  PolicyEnabled,
  PolicyNotFound,
  UnknownTemplate,
  UnknownTemplateIds,
} from '../../../shared/logs/errors';

const KNOWN = ['waf', 'cloudfirewall'];

describe('log integration refusals', () => {
  it('UnknownTemplate: 404 naming the templates', () => {
    const error = new UnknownTemplate('nope', KNOWN);
    expect(error).toMatchObject({ status: 404, code: 'NotFound' });
    expect(error.message).toBe(
      'There is no log template nope; the templates are waf, cloudfirewall',
    );
    expect(error.details).toEqual({ templateId: 'nope', templates: KNOWN });
  });

  it('UnknownTemplateIds: 400 on body.templateIds, is/are by count', () => {
    const one = new UnknownTemplateIds(['x'], KNOWN);
    expect(one).toMatchObject({ status: 400, code: 'InvalidRequest' });
    expect(one.message).toBe('Unknown template ids: x');
    expect(one.details).toEqual({
      issues: [
        {
          location: 'body',
          field: 'templateIds',
          message: 'x is not a template; the templates are waf, cloudfirewall',
        },
      ],
    });
    const two = new UnknownTemplateIds(['x', 'y'], KNOWN);
    expect(two.message).toBe('Unknown template ids: x, y');
    expect(two.details).toMatchObject({
      issues: [{ message: 'x, y are not a template; the templates are waf, cloudfirewall' }],
    });
  });

  it('NotIntegrable: 409 naming each account and its reason', () => {
    const one = new NotIntegrable([{ accountId: '1', reason: 'not managed' }]);
    expect(one).toMatchObject({ status: 409, code: 'NotIntegrable' });
    expect(one.message).toBe(
      'Account 1 cannot be integrated: 1: not managed. Only managed members whose scope enables the log-integration service can be; nothing was changed.',
    );
    const accounts = [
      { accountId: '1', reason: 'a' },
      { accountId: '2', reason: 'b' },
    ];
    const two = new NotIntegrable(accounts);
    expect(two.message).toMatch(/^Accounts 1, 2 cannot be integrated: 1: a; 2: b\. Only/);
    expect(two.details).toEqual({ accounts });
  });

  it('AlreadyIntegrated: 409 pointing at PATCH, singular and plural', () => {
    const one = new AlreadyIntegrated('waf', ['1']);
    expect(one).toMatchObject({ status: 409, code: 'AlreadyIntegrated' });
    expect(one.message).toBe(
      '1 is already integrated with template waf; change its policy with PATCH /v1/log-templates/waf/accounts/{accountId}. Nothing was changed.',
    );
    const two = new AlreadyIntegrated('waf', ['1', '2']);
    expect(two.message).toBe(
      '1, 2 are already integrated with template waf; change their policies with PATCH /v1/log-templates/waf/accounts/{accountId}. Nothing was changed.',
    );
    expect(two.details).toEqual({ templateId: 'waf', accountIds: ['1', '2'] });
  });

  it('PolicyNotFound: 404 naming account and template', () => {
    const error = new PolicyNotFound('waf', '1');
    expect(error).toMatchObject({ status: 404, code: 'NotFound' });
    expect(error.message).toBe('Account 1 is not integrated with template waf');
    expect(error.details).toEqual({ templateId: 'waf', accountId: '1' });
  });

  it('PolicyEnabled: 409 saying to disable first', () => {
    const error = new PolicyEnabled('waf', '1');
    expect(error).toMatchObject({ status: 409, code: 'PolicyEnabled' });
    expect(error.message).toBe(
      'The integration of account 1 with template waf is enabled: disable it first (PATCH /v1/log-templates/waf/accounts/1 with {"enabled": false}), then remove it.',
    );
    expect(error.details).toEqual({ templateId: 'waf', accountId: '1' });
  });

  it('DataSourceNotFound and DataSourceInUse', () => {
    const missing = new DataSourceNotFound('WAF_cn-hangzhou_1');
    expect(missing).toMatchObject({ status: 404, code: 'NotFound' });
    expect(missing.message).toBe('There is no data source WAF_cn-hangzhou_1');
    expect(missing.details).toEqual({ name: 'WAF_cn-hangzhou_1' });
    const inUse = new DataSourceInUse('WAF_cn-hangzhou_1', 'waf', '1');
    expect(inUse).toMatchObject({ status: 409, code: 'DataSourceInUse' });
    expect(inUse.message).toBe(
      'Data source WAF_cn-hangzhou_1 belongs to the enabled integration of account 1 with template waf: disable it first (PATCH /v1/log-templates/waf/accounts/1 with {"enabled": false}), then delete the data source.',
    );
    expect(inUse.details).toEqual({ name: 'WAF_cn-hangzhou_1', templateId: 'waf', accountId: '1' });
  });
});
