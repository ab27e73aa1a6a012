import type { DirectorySnapshot } from './model';

/** Reads the whole directory as flat records (implemented over the ResourceManager API). */
export interface DirectorySource {
  readSnapshot(): Promise<DirectorySnapshot>;
}
