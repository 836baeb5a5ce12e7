import type { AuditKeyStore } from '../audit/checkpoint.js';

export interface SafeStorage {
  isEncryptionAvailable(): boolean;
  encryptString(text: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/** The audit key in the OS keychain (Electron safeStorage), kept encrypted in the desktop settings; undefined where unavailable. */
export function keychainKeyStore(safeStorage: SafeStorage, settings: { get(): string | undefined; set(value: string): void }): AuditKeyStore | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  return {
    read() {
      const sealed = settings.get();
      return sealed ? Buffer.from(safeStorage.decryptString(Buffer.from(sealed, 'base64')), 'hex') : undefined;
    },
    write(key) {
      settings.set(safeStorage.encryptString(key.toString('hex')).toString('base64'));
    },
  };
}
