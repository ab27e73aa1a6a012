// Which Log Service host a region is reached at: the functions' own region over its intranet
// endpoint, any other over its public one, localcloud through the same templates.

import { describe, expect, it } from 'vitest';
import { InvalidRegion, slsEndpointFor } from '../../../../shared/cloud/sls/endpoint';

const cloud = {
  endpoint: '{region}.log.aliyuncs.com',
  ownRegionEndpoint: '{region}-intranet.log.aliyuncs.com',
  functionsRegion: 'cn-hangzhou',
};

describe('slsEndpointFor', () => {
  it('uses the intranet endpoint in the functions’ region and the public one elsewhere', () => {
    expect(slsEndpointFor(cloud, 'cn-hangzhou')).toBe('cn-hangzhou-intranet.log.aliyuncs.com');
    expect(slsEndpointFor(cloud, 'ap-southeast-1')).toBe('ap-southeast-1.log.aliyuncs.com');
  });

  it('reaches localcloud by the same templates, the address after an @', () => {
    const local = {
      endpoint: '{region}.log.aliyuncs.com@127.0.0.1:8790',
      ownRegionEndpoint: '{region}-intranet.log.aliyuncs.com@127.0.0.1:8790',
      functionsRegion: 'cn-hangzhou',
    };
    expect(slsEndpointFor(local, 'cn-shanghai')).toBe(
      'cn-shanghai.log.aliyuncs.com@127.0.0.1:8790',
    );
  });

  it('refuses a region that is not a region id (it becomes part of a host name)', () => {
    for (const region of ['', 'cn', 'evil.com/x', 'cn-hangzhou.attacker.net', 'CN-HANGZHOU']) {
      expect(() => slsEndpointFor(cloud, region)).toThrow(InvalidRegion);
    }
  });
});
