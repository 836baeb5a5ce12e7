import type { Menu as MenuType, MenuItemConstructorOptions, NativeImage, Tray as TrayType } from 'electron';
import { join } from 'node:path';
import { buildTrayModel, type TrayAction, type TrayItem, type TrayState } from '../approvals/tray-model.js';

export interface TrayElectron {
  Tray: new (image: NativeImage) => TrayType;
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): MenuType };
  nativeImage: { createFromPath(path: string): NativeImage };
}

/** Renders the core's tray model into an Electron menu; each item's action goes back to `onAction`. */
export function menuTemplate(items: readonly TrayItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.separator) return { type: 'separator' };
    const action = item.action;
    return {
      label: item.label,
      ...(item.enabled === false ? { enabled: false } : {}),
      ...(item.checked !== undefined ? { type: 'checkbox' as const, checked: item.checked } : {}),
      ...(item.submenu ? { submenu: menuTemplate(item.submenu, onAction) } : {}),
      ...(action ? { click: () => onAction(action) } : {}),
    };
  });
}

/** The tray icon and menu. `refresh` rebuilds them from the current state; call it on core events, not on a timer. */
export function setupTray(electron: TrayElectron, resources: string, state: () => TrayState, onAction: (action: TrayAction) => void): { refresh(): void } {
  const icon = (name: string) => electron.nativeImage.createFromPath(join(resources, `tray-${name}.png`));
  const tray = new electron.Tray(icon('idle'));
  const refresh = () => {
    const model = buildTrayModel(state());
    tray.setImage(icon(model.icon));
    tray.setToolTip(model.tooltip);
    tray.setTitle(model.title);
    tray.setContextMenu(electron.Menu.buildFromTemplate(menuTemplate(model.items, onAction)));
  };
  refresh();
  return { refresh };
}
