import { contextBridge, ipcRenderer } from 'electron';
import { API_METHODS, apiChannel, CHANGE_CHANNEL, type ChangeEvent, type ChangeSource, type GatehouseApi } from '../main/api/types.js';

// Exposes GatehouseApi as named verbs, nothing else: no ipcRenderer, no process.
const api = Object.fromEntries(API_METHODS.map((method) => [method, (...args: unknown[]) => ipcRenderer.invoke(apiChannel(method), ...args)])) as unknown as GatehouseApi;

// Changes as a subscription that returns its own unsubscribe; the renderer never sees ipcRenderer.
const changes: ChangeSource = {
  subscribe(listener) {
    const handler = (_event: unknown, change: ChangeEvent) => listener(change);
    ipcRenderer.on(CHANGE_CHANNEL, handler);
    return () => ipcRenderer.removeListener(CHANGE_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('gatehouse', api);
contextBridge.exposeInMainWorld('gatehouseChanges', changes);
