import type { BrowserWindowConstructorOptions, WebContents } from 'electron';

/** The timeline window's web preferences: isolated, sandboxed, no Node in the page. Asserted exactly in tests. */
export function secureWebPreferences(preload: string): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload,
    contextIsolation: true,
    nodeIntegration: false,
    sandbox: true,
    webSecurity: true,
    allowRunningInsecureContent: false,
    spellcheck: false,
  };
}

/** Denies new windows and in-page navigation; http(s) links open in the system browser, nothing else does. */
export function lockDownNavigation(contents: WebContents, openExternal: (url: string) => void): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//i.test(url)) openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => event.preventDefault());
}
