// Which host a region's Log Service is reached at. Members keep their product logs in projects of
// their own regions, so the region is a parameter of every client, and the endpoint a template:
// `{region}.log.aliyuncs.com` (public, from anywhere), `{region}-intranet.log.aliyuncs.com`
// (from Function Compute in that same region, no internet traffic). localcloud is reached by the
// same templates with its address after an `@`: `{region}.log.aliyuncs.com@127.0.0.1:8790`
// (localcloud/README.md, "SLS": the SDK puts the project in front of the endpoint, the URL reads
// everything before `@` as user info, so the client connects to the address after it and sends
// `<project>.<region>.log.aliyuncs.com@...` as Host, which localcloud reads).

export const REGION_PLACEHOLDER = '{region}';

/** Region ids as Alibaba Cloud writes them: cn-hangzhou, ap-southeast-1, us-west-1... */
const REGION_ID = /^[a-z]{2,}(-[a-z0-9]+)+$/;

export interface SlsEndpoints {
  /** For every region but the functions' own, e.g. `{region}.log.aliyuncs.com`. */
  endpoint: string;
  /** For the functions' own region, e.g. `{region}-intranet.log.aliyuncs.com`. */
  ownRegionEndpoint: string;
  /** The region the functions run in (FC_REGION). */
  functionsRegion: string;
}

export class InvalidRegion extends Error {
  override readonly name = 'InvalidRegion';
}

/** host[:port] (optionally `<name>@host[:port]` for localcloud) of Log Service in `region`. */
export function slsEndpointFor(endpoints: SlsEndpoints, region: string): string {
  if (!REGION_ID.test(region)) {
    throw new InvalidRegion(`${JSON.stringify(region)} is not a region id such as cn-hangzhou`);
  }
  const template =
    region === endpoints.functionsRegion ? endpoints.ownRegionEndpoint : endpoints.endpoint;
  return template.replaceAll(REGION_PLACEHOLDER, region);
}
