/*
 * The shim a wired entry starts, in each installation's spelling. What would hurt: the desktop app unable to
 * wire (it has no `bin/gatehouse.js` of its own), an AppImage wired by the mount it runs from (gone at the next
 * start), an entry wiring wrote not recognised as through Gatehouse (wired again, and again), or an entry a
 * cloned project planted recognised as one (`./tools/gatehouse --cli connect x`, `/usr/bin/evil --cli connect x`),
 * which would be left out of wiring while it reports "through Gatehouse".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { missingShim, serversIn } from '../../../main/clients/discover.js';
import { desktopShim, isShim } from '../../../main/clients/shim.js';

describe('the shim', () => {
  const linux = { isPackaged: true, execPath: '/opt/Gatehouse/gatehouse', appPath: '/opt/Gatehouse/resources/app.asar' };
  it("is the desktop app's own binary in its --cli mode, an AppImage by its file, Electron with the app from a checkout", () => {
    expect(desktopShim(linux)).toEqual(['/opt/Gatehouse/gatehouse', '--cli']);
    expect(desktopShim({ ...linux, appImage: '/home/me/Apps/Gatehouse-1.2.0.AppImage', execPath: '/tmp/.mount_GateXY/gatehouse' })).toEqual(['/home/me/Apps/Gatehouse-1.2.0.AppImage', '--cli']);
    expect(desktopShim({ isPackaged: false, execPath: '/src/gh/node_modules/electron/dist/electron', appPath: '/src/gh' })).toEqual(['/src/gh/node_modules/electron/dist/electron', '/src/gh', '--cli']);
    expect(desktopShim({ isPackaged: true, execPath: 'C:\\Program Files\\Gatehouse\\Gatehouse.exe', appPath: 'x' })).toEqual(['C:\\Program Files\\Gatehouse\\Gatehouse.exe', '--cli']);
  });

  it('every shim wiring writes is recognised as through Gatehouse, and its missing binary is named', () => {
    const shims = [
      desktopShim(linux),
      desktopShim({ ...linux, appImage: '/home/me/Apps/Gatehouse-1.2.0.AppImage' }),
      desktopShim({ isPackaged: false, execPath: '/src/gh/node_modules/electron/dist/electron', appPath: '/src/gh' }),
      desktopShim({ isPackaged: true, execPath: '/Applications/Gatehouse.app/Contents/MacOS/Gatehouse', appPath: 'x' }),
      [process.execPath, '/src/gh/bin/gatehouse.js'],
      ['gatehouse'],
    ];
    for (const shim of shims) {
      const [entry] = serversIn({ s: { command: shim[0], args: [...shim.slice(1), 'connect', 's'] } });
      expect(entry?.viaGatehouse, shim.join(' ')).toBe(true);
      // Nothing of it is installed here: the first absolute path is what is missing, never the `--cli` flag.
      if (shim[0] !== process.execPath && shim[0] !== 'gatehouse') expect(missingShim(entry as NonNullable<typeof entry>, '')).toBe(shim[0]);
    }
  });

  it('what a project could plant is not a shim', () => {
    for (const words of [
      ['./tools/gatehouse', '--cli', 'connect', 'x'],
      ['/usr/bin/evil', '--cli', 'connect', 'x'],
      ['tools/gatehouse.js', 'connect', 'x'],
      ['node', './gatehouse.js', 'connect', 'x'],
      ['/opt/Gatehouse/gatehouse', '--cli', 'connect', 'x', '--and-more'],
      ['/opt/Gatehouse/gatehouse', 'connect', 'x', 'y'],
      ['/opt/Gatehouse/gatehouse', 'relative/app', '--cli', 'connect', 'x'],
      ['python', '/opt/gatehouse.js', 'connect', 'x'],
    ]) expect(isShim(words), words.join(' ')).toBe(false);
  });

  it('a property: a shim is only ever the three forms, connect and a name last', () => {
    const word = fc.constantFrom('/opt/Gatehouse/gatehouse', 'gatehouse', 'node', '--cli', 'connect', 'x', './gatehouse', '/usr/bin/evil', '/src/gh', 'C:\\G\\Gatehouse.exe');
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), (words) => {
        if (!isShim(words)) return;
        expect(words.at(-2)).toBe('connect');
        expect(words.length).toBeLessThanOrEqual(5);
        expect(words.slice(0, -2).some((w) => /gatehouse/i.test(w))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});
