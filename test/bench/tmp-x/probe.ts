import { createMasker } from '../../../main/masking/masker.js';
const all = createMasker({ detectors: ['secrets', 'email', 'credit-card', 'ip'], custom: [] }, Buffer.alloc(32, 9));
for (const t of process.argv.slice(2)) console.log(JSON.stringify(t), '->', JSON.stringify(all.text(t)));
