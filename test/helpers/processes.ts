/** Whether a process with this pid is still alive. */
export { processAlive as isAlive } from '../../main/config/process-alive.js';
