import type { WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { lockDownNavigation, secureWebPreferences } from '../../../main/desktop/window.js';
import { FakeWebContents } from './fake-electron.js';

describe('the timeline window', () => {
  it('uses exactly these web preferences: isolated, sandboxed, no Node', () => {
    expect(secureWebPreferences('/app/out/preload/index.cjs')).toStrictEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    });
  });

  it('denies every new window; http(s) links go to the system browser, other schemes nowhere', () => {
    const contents = new FakeWebContents();
    const opened: string[] = [];
    lockDownNavigation(contents as unknown as WebContents, (url) => opened.push(url));
    for (const url of ['https://example.com/docs', 'http://127.0.0.1:5757/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share']) {
      expect(contents.windowOpenHandler?.({ url })).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['https://example.com/docs', 'http://127.0.0.1:5757/']);
  });

  it('blocks in-page navigation', () => {
    const contents = new FakeWebContents();
    lockDownNavigation(contents as unknown as WebContents, () => undefined);
    let prevented = false;
    contents.emit('will-navigate', { preventDefault: () => (prevented = true) }, 'https://evil.example');
    expect(prevented).toBe(true);
  });
});
