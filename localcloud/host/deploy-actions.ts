// s.yaml's `run` actions, as `s deploy` runs them around a deployment. Locally, start-up is the
// deployment: post-deploy actions (e.g. creating the store's tables) run once the local cloud is
// up and before the functions serve, with the deployer's identity being the management account's
// admin user and every endpoint pointing at the local cloud.

import { spawn } from 'node:child_process';
import type { LocalCloudEnv } from '../core/contracts';
import { localCloudEndpoints } from './environment';
import type { DeployAction } from './s-yaml';

export class DeployActionError extends Error {
  override readonly name = 'DeployActionError';
}

export interface DeployActionOptions {
  /** Lines of the actions' output (default: process.stdout, prefixed). */
  log?: (line: string) => void;
  /** The host's environment, for PATH/HOME only. */
  hostEnv?: Record<string, string | undefined>;
}

export function deployActionEnvironment(
  cloud: LocalCloudEnv,
  hostEnv: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const deployer = cloud.accounts.find((account) => account.kind === 'management');
  if (!deployer) throw new DeployActionError('the local cloud publishes no management account');
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = hostEnv[key];
    if (value) env[key] = value;
  }
  return {
    ...env,
    ...localCloudEndpoints(cloud),
    FC_REGION: cloud.region,
    ALIBABA_CLOUD_ACCESS_KEY_ID: deployer.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: deployer.accessKeySecret,
  };
}

/** Runs the actions of one hook in order; the first that fails stops the rest, as `s deploy` does. */
export async function runDeployActions(
  actions: readonly DeployAction[],
  hook: DeployAction['hook'],
  cloud: LocalCloudEnv,
  options: DeployActionOptions = {},
): Promise<void> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const env = deployActionEnvironment(cloud, options.hostEnv);
  for (const action of actions.filter((a) => a.hook === hook)) {
    const prefix = `[${action.resourceName} ${hook}]`;
    log(`${prefix} ${action.run}`);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const child = spawn('sh', ['-c', action.run], {
        cwd: action.cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const forward = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) log(`${prefix} ${line}`);
      };
      child.stdout.on('data', forward);
      child.stderr.on('data', forward);
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
    if (exitCode !== 0) {
      throw new DeployActionError(
        `${hook} action of resource ${action.resourceName} failed (exit ${exitCode}): ${action.run}`,
      );
    }
  }
}
