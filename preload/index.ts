import { contextBridge, ipcRenderer } from 'electron';
import { API_METHODS, apiChannel, type GatehouseApi } from '../main/api/types.js';

// Exposes GatehouseApi as named verbs, nothing else: no ipcRenderer, no process.
const api = Object.fromEntries(API_METHODS.map((method) => [method, (...args: unknown[]) => ipcRenderer.invoke(apiChannel(method), ...args)])) as unknown as GatehouseApi;

contextBridge.exposeInMainWorld('gatehouse', api);
