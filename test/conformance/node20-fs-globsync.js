// Node 20 lacks fs.globSync (Node 22+), which the conformance CLI imports at load time for its
// tier-check command only. This hook gives the CLI an `fs` with a globSync that says so plainly.
import { register } from 'node:module';

register('./node20-fs-globsync-loader.js', import.meta.url);
