/** The Gatehouse version, as package.json says (kept in step by test/unit/api/version.test.ts). */
export const VERSION = '0.1.0';
