// The signature algorithms, checked against hand-computed values and, property-based, against
// the official SDK's own signer (which localcloud must not import but tests may).

import { OpenApiUtil } from '@alicloud/openapi-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acs3Signature,
  acs3StringToSign,
  buildCanonicalRequest,
  canonicalQueryString,
  parseAcs3Authorization,
  parseSignedTimestamp,
  parseUrlEncoded,
  percentEncode,
  rpcSignature,
  rpcStringToSign,
  sha256Hex,
} from '../../../../localcloud/core/signing';

describe('percentEncode', () => {
  it('encodes RFC 3986 reserved characters that encodeURIComponent leaves alone', () => {
    expect(percentEncode("a*b(c)!'~ d")).toBe('a%2Ab%28c%29%21%27~%20d');
    expect(percentEncode('ü/=')).toBe('%C3%BC%2F%3D');
  });
});

describe('parseUrlEncoded', () => {
  it('decodes pairs, treating + as a space and keeping empty values', () => {
    expect(parseUrlEncoded('a=1&b=x+y%2Bz&c=&d')).toEqual([
      ['a', '1'],
      ['b', 'x y+z'],
      ['c', ''],
      ['d', ''],
    ]);
  });
});

describe('ACS3 canonical request', () => {
  const input = {
    method: 'POST',
    canonicalUri: '/',
    query: [
      ['RoleSessionName', 'a b'],
      ['Action', 'x*'],
    ] as Array<[string, string]>,
    headers: {
      host: '127.0.0.1:8080',
      'x-acs-action': 'AssumeRole',
      'x-acs-date': ' 2024-01-01T00:00:00Z ',
      'user-agent': 'ignored',
    },
    signedHeaders: ['x-acs-date', 'host', 'x-acs-action'],
    hashedPayload: sha256Hex(''),
  };

  it('sorts the query and signed headers and trims header values', () => {
    expect(buildCanonicalRequest(input)).toBe(
      [
        'POST',
        '/',
        'Action=x%2A&RoleSessionName=a%20b',
        'host:127.0.0.1:8080\nx-acs-action:AssumeRole\nx-acs-date:2024-01-01T00:00:00Z\n',
        'host;x-acs-action;x-acs-date',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
  });

  it('parses the Authorization header', () => {
    expect(
      parseAcs3Authorization(
        'ACS3-HMAC-SHA256 Credential=LTAIabc,SignedHeaders=host;x-acs-date,Signature=00ff',
      ),
    ).toEqual({
      algorithm: 'ACS3-HMAC-SHA256',
      accessKeyId: 'LTAIabc',
      signedHeaders: ['host', 'x-acs-date'],
      signature: '00ff',
    });
    expect(parseAcs3Authorization('garbage')).toBeUndefined();
  });

  const queryValue = fc.string({ unit: 'grapheme', maxLength: 20 });
  const queryKey = fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,12}$/);

  it('agrees with the SDK signer for arbitrary query parameters and bodies', () => {
    fc.assert(
      fc.property(
        fc.dictionary(queryKey, queryValue, { maxKeys: 6, noNullPrototype: true }),
        fc.string({ maxLength: 50 }),
        (query, body) => {
          const headers: Record<string, string> = {
            host: 'localhost:1234',
            'x-acs-action': 'ListAccounts',
            'x-acs-version': '2020-03-31',
            'x-acs-date': '2024-05-01T08:00:00Z',
            'x-acs-signature-nonce': 'nonce',
            'x-acs-content-sha256': sha256Hex(body),
            'content-type': 'application/x-www-form-urlencoded',
          };
          const sdkAuthorization = OpenApiUtil.getAuthorization(
            { pathname: '/', method: 'POST', query, headers } as never,
            'ACS3-HMAC-SHA256',
            sha256Hex(body),
            'LTAIkey',
            'secret',
          );
          const parsed = parseAcs3Authorization(sdkAuthorization);
          const canonical = buildCanonicalRequest({
            method: 'POST',
            canonicalUri: '/',
            query: Object.entries(query),
            headers,
            signedHeaders: parsed?.signedHeaders ?? [],
            hashedPayload: sha256Hex(body),
          });
          expect(acs3Signature('secret', acs3StringToSign(canonical))).toBe(parsed?.signature);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('encodes the query canonically regardless of input order', () => {
    expect(
      canonicalQueryString([
        ['b', '2'],
        ['a', '1'],
        ['a', '0'],
      ]),
    ).toBe('a=0&a=1&b=2');
  });
});

describe('RPC HMAC-SHA1', () => {
  it('agrees with the SDK signer for arbitrary parameters', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,12}$/),
          fc.string({ unit: 'grapheme', maxLength: 20 }),
          {
            maxKeys: 8,
            noNullPrototype: true,
          },
        ),
        (params) => {
          const expected = OpenApiUtil.getRPCSignature(params, 'POST', 'topsecret');
          expect(rpcSignature('topsecret', rpcStringToSign('POST', Object.entries(params)))).toBe(
            expected,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leaves Signature itself out of the string to sign', () => {
    expect(
      rpcStringToSign('GET', [
        ['Signature', 'x'],
        ['A', '1'],
      ]),
    ).toBe('GET&%2F&A%3D1');
  });
});

describe('parseSignedTimestamp', () => {
  it('accepts the cloud format and rejects others', () => {
    expect(parseSignedTimestamp('2024-05-01T08:00:00Z')).toBe(Date.UTC(2024, 4, 1, 8));
    expect(parseSignedTimestamp('2024-05-01 08:00:00')).toBeUndefined();
    expect(parseSignedTimestamp('2024-13-45T99:00:00Z')).toBeUndefined();
  });
});
